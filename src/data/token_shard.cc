// Writer and mmap reader of the *.tok token shard format (layout in token_shard.h).
#include "data/token_shard.h"

#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>

#include "core/atomic_file.h"
#include "core/error.h"

namespace nlm::data {

static_assert(std::endian::native == std::endian::little, "token shards assume a little-endian host");

namespace {

template <typename T>
void put(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}
template <typename T>
T get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void encode_header(const TokShardHeader& h, uint8_t* out) {
  std::memset(out, 0, kTokHeaderBytes);
  std::memcpy(out, kTokMagic, 8);
  put<uint32_t>(out + 8, h.version);
  put<uint32_t>(out + 12, h.dtype_bytes);
  put<uint64_t>(out + 16, h.vocab_size);
  put<uint64_t>(out + 24, h.token_count);
  put<uint64_t>(out + 32, h.doc_count);
  put<uint64_t>(out + 40, h.tokenizer_hash.low);
  put<uint64_t>(out + 48, h.tokenizer_hash.high);
}

uint64_t padded_token_bytes(uint64_t tokens, uint32_t dtype) { return (tokens * dtype + 7) & ~7ull; }

}  // namespace

uint32_t dtype_bytes_for_vocab(uint64_t vocab_size) { return vocab_size <= 65536 ? 2 : 4; }

TokShardWriter::TokShardWriter(const std::string& path, uint64_t vocab_size, Hash128 tokenizer_hash)
    : path_(path) {
  if (vocab_size == 0 || vocab_size > (1ull << 32))
    usage_error("vocab size " + std::to_string(vocab_size) + " out of range", path,
                "token shards hold ids of vocabularies of 1 to 2^32 tokens");
  header_.vocab_size = vocab_size;
  header_.dtype_bytes = dtype_bytes_for_vocab(vocab_size);
  header_.tokenizer_hash = tokenizer_hash;
  file_ = std::make_unique<AtomicFile>(path);
  // Placeholder header; patched in finish() once the counts are known.
  uint8_t head[kTokHeaderBytes];
  encode_header(header_, head);
  file_->write({reinterpret_cast<const char*>(head), kTokHeaderBytes});
  offsets_.push_back(0);
}

TokShardWriter::~TokShardWriter() = default;

void TokShardWriter::add_document(std::span<const uint32_t> tokens) {
  if (finished_) runtime_error("add_document after finish", path_);
  const size_t w = header_.dtype_bytes;
  buffer_.resize(tokens.size() * w);
  char* p = buffer_.data();
  for (uint32_t t : tokens) {
    if (t >= header_.vocab_size)
      runtime_error("token id " + std::to_string(t) + " >= vocab size " +
                        std::to_string(header_.vocab_size),
                    path_, "the tokenizer and the shard's vocab size disagree");
    if (w == 2) {
      uint16_t v = static_cast<uint16_t>(t);
      std::memcpy(p, &v, 2);
    } else {
      std::memcpy(p, &t, 4);
    }
    p += w;
  }
  file_->write(buffer_);
  header_.token_count += tokens.size();
  header_.doc_count += 1;
  offsets_.push_back(header_.token_count);
}

TokShardHeader TokShardWriter::finish() {
  if (finished_) return header_;
  uint64_t pad = padded_token_bytes(header_.token_count, header_.dtype_bytes) -
                 header_.token_count * header_.dtype_bytes;
  static const char zeros[8] = {};
  file_->write({zeros, pad});
  file_->write({reinterpret_cast<const char*>(offsets_.data()), offsets_.size() * sizeof(uint64_t)});
  file_->flush();
  // Patch the header in the temp file (AtomicFile only appends), then publish.
  uint8_t head[kTokHeaderBytes];
  encode_header(header_, head);
  int fd = ::open(file_->temp_path().c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) runtime_error("cannot reopen shard to write its header: " + errno_text(errno), path_);
  ssize_t n = ::pwrite(fd, head, kTokHeaderBytes, 0);
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(kTokHeaderBytes))
    runtime_error("cannot write shard header: " + errno_text(err), path_, "check free disk space");
  file_->commit();
  finished_ = true;
  offsets_.clear();
  offsets_.shrink_to_fit();
  return header_;
}

TokShardReader::TokShardReader(const std::string& path) : path_(path), map_(path) {
  const uint8_t* base = map_.data();
  const size_t size = map_.size();
  auto bad = [&](const std::string& what) {
    runtime_error("not a valid token shard: " + what, path_,
                  "regenerate it with `nativelm tokenize`");
  };
  if (size < kTokHeaderBytes) bad("shorter than the 64-byte header");
  if (std::memcmp(base, kTokMagic, 8) != 0) bad("bad magic");
  header_.version = get<uint32_t>(base + 8);
  header_.dtype_bytes = get<uint32_t>(base + 12);
  header_.vocab_size = get<uint64_t>(base + 16);
  header_.token_count = get<uint64_t>(base + 24);
  header_.doc_count = get<uint64_t>(base + 32);
  header_.tokenizer_hash.low = get<uint64_t>(base + 40);
  header_.tokenizer_hash.high = get<uint64_t>(base + 48);
  if (header_.version != kTokVersion)
    bad("unsupported version " + std::to_string(header_.version) + " (this build reads " +
        std::to_string(kTokVersion) + ")");
  if (header_.dtype_bytes != 2 && header_.dtype_bytes != 4)
    bad("dtype must be 2 or 4 bytes, got " + std::to_string(header_.dtype_bytes));
  const uint64_t max_tokens = (size - kTokHeaderBytes) / header_.dtype_bytes;
  if (header_.token_count > max_tokens || header_.doc_count > size / 8) bad("counts exceed the file size");
  uint64_t tok_bytes = padded_token_bytes(header_.token_count, header_.dtype_bytes);
  uint64_t expected = kTokHeaderBytes + tok_bytes + (header_.doc_count + 1) * 8;
  if (size != expected)
    bad("size " + std::to_string(size) + " != expected " + std::to_string(expected) + " bytes");
  tokens_ = base + kTokHeaderBytes;
  offsets_ = reinterpret_cast<const uint64_t*>(base + kTokHeaderBytes + tok_bytes);
  if (offsets_[0] != 0 || offsets_[header_.doc_count] != header_.token_count)
    bad("document offsets do not span the tokens");
  for (uint64_t d = 0; d < header_.doc_count; ++d)
    if (offsets_[d + 1] < offsets_[d]) bad("document offsets decrease at doc " + std::to_string(d));
}

std::span<const uint16_t> TokShardReader::tokens_u16() const {
  if (header_.dtype_bytes != 2) return {};
  return {reinterpret_cast<const uint16_t*>(tokens_), header_.token_count};
}

std::span<const uint32_t> TokShardReader::tokens_u32() const {
  if (header_.dtype_bytes != 4) return {};
  return {reinterpret_cast<const uint32_t*>(tokens_), header_.token_count};
}

std::vector<uint32_t> TokShardReader::document(uint64_t d) const {
  if (d >= header_.doc_count) runtime_error("document index out of range", path_);
  std::vector<uint32_t> out;
  out.reserve(offsets_[d + 1] - offsets_[d]);
  for (uint64_t i = offsets_[d]; i < offsets_[d + 1]; ++i) out.push_back(token(i));
  return out;
}

}  // namespace nlm::data
