// A complete tokenizer as HF tokenizers runs it: added/special tokens are cut out first, each
// remaining segment is normalized, pre-tokenized into words and encoded by the BPE model, and the
// post-processor adds BOS-style tokens. Decoding runs the decoder chain. Loaded from and saved to
// tokenizer.json; supports what Llama-family files use (see docs/tokenizer.md for the list).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/split_rules.h"

namespace nlm::tokenizer {

struct AddedToken {
  uint32_t id = 0;
  std::string content;
  bool special = true;
  bool lstrip = false, rstrip = false, single_word = false, normalized = false;
};

struct NormalizerStep {
  enum Kind { Nfc, Nfkc, Nfd, Nfkd, Lowercase, Prepend, Replace } kind;
  std::string a, b;  // Prepend: a = text; Replace: a -> b
};

struct PreTokenizerStep {
  enum Kind {
    Split,        // regex split with a known rule, behavior Isolated
    SplitString,  // split on a literal string: behavior in `behavior`
    ByteLevel,    // byte-level (maps bytes; optionally GPT-2 regex split and prefix space)
    Metaspace,    // ' ' -> replacement, optional prepended replacement, optional split
  } kind = Split;
  SplitRule rule = SplitRule::None;
  std::string pattern;              // SplitString literal / Metaspace replacement
  std::string behavior = "Isolated";  // Isolated | MergedWithPrevious | MergedWithNext | Removed
  bool add_prefix_space = false;    // ByteLevel
  bool use_regex = false;           // ByteLevel: split with the GPT-2 rule
  std::string prepend_scheme = "always";  // Metaspace: always | first | never
  bool split = true;                // Metaspace
};

struct DecoderStep {
  enum Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace } kind = Fuse;
  std::string a, b;  // Replace a -> b; Strip content; Metaspace replacement
  int start = 0, stop = 0;
  std::string prepend_scheme = "always";
};

class Tokenizer {
 public:
  Tokenizer();
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Parses tokenizer.json text; `where` names it in errors. Unsupported components raise a usage
  // error naming the component.
  static Tokenizer from_json(std::string_view json, const std::string& where = "tokenizer.json");
  // Loads tokenizer_file(path).
  static Tokenizer load(const std::string& path);
  // Serializes as HF tokenizer.json (model, added tokens and pipeline).
  std::string to_json() const;
  // tokenizer_config.json for this tokenizer. Without `base_config` it is generated (class,
  // added_tokens_decoder, bos/eos tokens, model_max_length). With the text of a base tokenizer's
  // config (`extend`), every key of it is kept as it is and only added_tokens_decoder, when the
  // base has one, is brought up to date; unchanged configs come back byte for byte.
  std::string config_json(const std::string& base_config = {}) const;
  // Writes DIR/tokenizer.json and DIR/tokenizer_config.json (config_json(base_config)) atomically.
  void save(const std::string& dir, const std::string& base_config = {}) const;

  // Text -> ids. Invalid UTF-8 is first repaired (each maximal invalid subsequence -> U+FFFD).
  std::vector<uint32_t> encode(std::string_view text, bool add_special_tokens = false) const;
  void encode_into(std::string_view text, bool add_special_tokens, std::vector<uint32_t>& out) const;
  // encode(text, false) plus, for each id, the bytes [begin, end) of `text` it stands for, so callers
  // can map character spans to tokens (SFT loss masks) without encoding pieces separately (which can
  // merge differently at the cuts). Offsets come from matching each token's decoded bytes against
  // the text in order; a token that also carries a space the pipeline prepended (Metaspace, a
  // Prepend normalizer, add_prefix_space) covers only the text after it. Returns false, with
  // `offsets` empty, when the tokens do not spell the text byte for byte (a normalizer such as NFKC
  // or lowercasing changed it, unknown tokens, invalid UTF-8).
  bool encode_with_offsets(std::string_view text, std::vector<uint32_t>& ids,
                           std::vector<std::pair<size_t, size_t>>& offsets) const;
  // Ids -> text. Ids >= vocab size raise a usage error.
  std::string decode(const std::vector<uint32_t>& ids, bool skip_special_tokens = false) const;
  // decode() without repairing UTF-8: a byte-level or byte-fallback token that is a piece of a
  // character gives its own bytes, not U+FFFD (OpenAI's logprob `bytes`, character offsets).
  std::string decode_bytes(const std::vector<uint32_t>& ids, bool skip_special_tokens = false) const;

  // Normalizes and pre-tokenizes one segment (text without added tokens) into words, exactly as
  // encode() does before the model runs; trainers count these words.
  void pre_tokenize(std::string_view segment, bool first_segment, std::vector<std::string>& words) const;

  // Token string of an id as it appears in tokenizer.json (byte-level mapped), for display.
  std::string token_text(uint32_t id) const;
  uint32_t vocab_size() const;  // model vocab plus added tokens
  uint32_t token_id(std::string_view token_json_form) const;  // kNoToken if absent
  const AddedToken* added_token(uint32_t id) const;
  bool is_byte_fallback(uint32_t id) const;
  bool is_unknown(uint32_t id) const { return model.unk != kNoToken && id == model.unk; }
  // XXH3-128 of to_json(): the identity recorded in token shards.
  Hash128 hash() const;

  // The pipeline, public so trainers and `extend` can build or edit a tokenizer.
  BpeModel model;
  std::vector<AddedToken> added;
  std::vector<NormalizerStep> normalizers;
  std::vector<PreTokenizerStep> pre_tokenizers;
  std::vector<DecoderStep> decoders;
  // Post-processor: tokens before and after a single sequence when add_special_tokens is set.
  std::vector<uint32_t> post_prefix, post_suffix;
  // Original JSON of components, re-emitted verbatim by to_json() when set (exact round trip).
  std::string raw_normalizer, raw_pre_tokenizer, raw_post_processor, raw_decoder;
  // Rebuilds internal indexes after the fields above change.
  void finalize(const std::string& where = "tokenizer");

 private:
  struct Index;
  std::unique_ptr<Index> index_;
  void encode_segment(std::string_view segment, bool first_segment, std::vector<uint32_t>& out) const;
  std::string decode_impl(const std::vector<uint32_t>& ids, bool skip_special_tokens, bool repair) const;
};

// Conventional names of BOS and EOS tokens across model families (Llama 3, Llama 2 / Mistral,
// Gemma, GPT-2 / Qwen), in the order they are tried when the user names none.
const std::vector<const char*>& bos_token_names();
const std::vector<const char*>& eos_token_names();

// The tokenizer.json a path names: the path itself when it ends in .json, else the tokenizer.json
// in the folder it names (what `tokenizer train -o` writes). Every --tokenizer / base option
// takes either.
std::string tokenizer_file(const std::string& path);

}  // namespace nlm::tokenizer
