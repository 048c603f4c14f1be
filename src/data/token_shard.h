// Token shards (*.tok): the file format between `nativelm tokenize` and training. Little-endian,
// mmap-able, fixed 64-byte header, then the tokens, then a document offset table, so readers can
// pack, mask and sample by document without scanning. See docs/formats.md for the byte layout
// and a NumPy reader. Layout:
//   0  char[8]  magic "NLMTOK\0\0"
//   8  u32      version (1)
//   12 u32      dtype: bytes per token, 2 (u16) or 4 (u32)
//   16 u64      vocab size (every token id is < vocab size)
//   24 u64      token count N
//   32 u64      document count D
//   40 u8[16]   tokenizer hash (XXH3-128 of tokenizer.json: low u64 then high u64)
//   56 u64      reserved (0)
//   64          N tokens of dtype; zero padding to a multiple of 8 bytes
//   then        D+1 u64 document offsets: doc d is tokens [off[d], off[d+1]); off[0]=0, off[D]=N
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/mmap_file.h"

namespace nlm {
class AtomicFile;
}

namespace nlm::data {

inline constexpr char kTokMagic[8] = {'N', 'L', 'M', 'T', 'O', 'K', 0, 0};
inline constexpr uint32_t kTokVersion = 1;
inline constexpr size_t kTokHeaderBytes = 64;

struct TokShardHeader {
  uint32_t version = kTokVersion;
  uint32_t dtype_bytes = 4;  // 2 or 4
  uint64_t vocab_size = 0;
  uint64_t token_count = 0;
  uint64_t doc_count = 0;
  Hash128 tokenizer_hash;
};

// The smallest token dtype (2 or 4 bytes) that holds every id below `vocab_size`.
uint32_t dtype_bytes_for_vocab(uint64_t vocab_size);

// Streams documents into one shard, published atomically on finish(). Tokens go to disk as they
// arrive; only the offset table (8 bytes per document) is kept in memory.
class TokShardWriter {
 public:
  // dtype is chosen from vocab_size (u16 when vocab_size <= 65536). Throws nlm::Error when the
  // file cannot be created.
  TokShardWriter(const std::string& path, uint64_t vocab_size, Hash128 tokenizer_hash);
  ~TokShardWriter();  // without finish(), the file is discarded
  TokShardWriter(const TokShardWriter&) = delete;
  TokShardWriter& operator=(const TokShardWriter&) = delete;

  // Appends one document's tokens (including any BOS/EOS the caller wants). Throws a runtime
  // nlm::Error if an id is >= vocab_size.
  void add_document(std::span<const uint32_t> tokens);
  // Writes the offset table, patches the header and publishes the file. Returns the header.
  TokShardHeader finish();

  uint64_t tokens() const { return header_.token_count; }
  uint64_t docs() const { return header_.doc_count; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  TokShardHeader header_;
  std::unique_ptr<AtomicFile> file_;
  std::vector<uint64_t> offsets_;
  std::string buffer_;
  bool finished_ = false;
};

// Read-only view of a shard through mmap. The header and the offset table are validated on open
// (magic, version, dtype, sizes, monotonic offsets, ids < vocab size is NOT checked: O(N)).
class TokShardReader {
 public:
  // Throws a runtime nlm::Error naming the file when it is missing, truncated or malformed.
  explicit TokShardReader(const std::string& path);

  const TokShardHeader& header() const { return header_; }
  uint64_t size() const { return header_.token_count; }
  uint64_t docs() const { return header_.doc_count; }
  uint32_t dtype_bytes() const { return header_.dtype_bytes; }
  // Raw token arrays; exactly one of them is non-empty (or both when the shard has no tokens).
  std::span<const uint16_t> tokens_u16() const;
  std::span<const uint32_t> tokens_u32() const;
  // Token i widened to u32 (no bounds check beyond a debug assert).
  uint32_t token(uint64_t i) const {
    return header_.dtype_bytes == 2 ? reinterpret_cast<const uint16_t*>(tokens_)[i]
                                    : reinterpret_cast<const uint32_t*>(tokens_)[i];
  }
  // D+1 offsets: document d is tokens [offsets[d], offsets[d+1]).
  std::span<const uint64_t> doc_offsets() const { return {offsets_, header_.doc_count + 1}; }
  // Copies document d's tokens widened to u32 (a convenience for tests and tools).
  std::vector<uint32_t> document(uint64_t d) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  MappedFile map_;
  TokShardHeader header_;
  const uint8_t* tokens_ = nullptr;
  const uint64_t* offsets_ = nullptr;
};

}  // namespace nlm::data
