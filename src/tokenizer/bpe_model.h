// The BPE model: a vocabulary of byte strings and a ranked merge list, and the HF-compatible
// encoding of one pre-tokenized word: start from single bytes (byte-level) or UTF-8 characters
// (SentencePiece style, with <0xXX> byte fallback or <unk>), then repeatedly apply the lowest-rank
// merge, leftmost first. Tokens are stored as raw bytes; byte-level files are converted on I/O.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace nlm::tokenizer {

inline constexpr uint32_t kNoToken = UINT32_MAX;

struct BpeModel {
  // id -> token bytes. Ids of added tokens that are not in the model's vocab are empty strings
  // with `present` false.
  std::vector<std::string> tokens;
  std::vector<uint8_t> present;
  std::unordered_map<std::string, uint32_t> ids;
  // Merges in rank order, as (left id, right id, merged id).
  struct Merge {
    uint32_t left, right, merged;
  };
  std::vector<Merge> merges;
  // Byte-level: initial symbols are bytes (every byte has a token). Otherwise UTF-8 characters.
  bool byte_level = true;
  // SentencePiece style: characters missing from the vocab become their <0xXX> byte tokens.
  bool byte_fallback = false;
  // Unknown characters (no byte fallback) map to this token; fuse_unk joins runs of them.
  uint32_t unk = kNoToken;
  bool fuse_unk = false;
  // A word that is itself a token encodes as that token without merging (Llama 3).
  bool ignore_merges = false;

  // Builds `ids`, the byte tables and the merge index; call after filling the fields above.
  // Throws a runtime nlm::Error naming `where` on inconsistent data.
  void finalize(const std::string& where);
  uint32_t size() const { return static_cast<uint32_t>(tokens.size()); }
  uint32_t id_of(std::string_view token) const;
  // Appends the ids of one word (non-empty bytes) to out.
  void encode_word(std::string_view word, std::vector<uint32_t>& out) const;
  // Adds a token (returns its id) — used by trainers and vocabulary extension.
  uint32_t add_token(std::string token);

  std::array<uint32_t, 256> byte_ids{};      // byte-level: id of each single byte
  std::array<uint32_t, 256> fallback_ids{};  // byte fallback: id of <0xXX>

 private:
  struct MergeInfo {
    uint32_t rank, merged;
  };
  std::unordered_map<uint64_t, MergeInfo> merge_index_;
  friend class BpeEncoderAccess;
  void initial_symbols(std::string_view word, std::vector<uint32_t>& ids,
                       std::vector<uint32_t>& lens) const;

 public:
  const MergeInfo* find_merge(uint32_t a, uint32_t b) const {
    auto it = merge_index_.find((uint64_t(a) << 32) | b);
    return it == merge_index_.end() ? nullptr : &it->second;
  }
};

// "<0x4A>" for byte 0x4A.
std::string byte_fallback_token(uint8_t b);
// The byte a "<0xXX>" token stands for (two hex digits, either case), or -1 for any other text.
int byte_fallback_byte(std::string_view token);

}  // namespace nlm::tokenizer
