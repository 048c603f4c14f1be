// A nativelm/HF tokenizer as llama.cpp's GGUF tokenizer keys. Byte-level BPE becomes the "gpt2"
// model: token strings in their byte-level form, token types, merges "left right", BOS/EOS ids,
// add_bos/add_eos from the post-processor, and tokenizer.ggml.pre naming the pre-tokenizer whose
// split rule llama.cpp implements identically. SentencePiece-style BPE (▁ for spaces, byte
// fallback) becomes the "llama" (SPM) model: tokens as they are, <0xXX> tokens of type byte, and
// scores that make llama.cpp's highest-score-pair merging follow the merge ranks.
// The mapping of split rules to names:
//   llama3 (cl100k) with ignore_merges -> "llama-bpe"; without -> "smaug-bpe" (same regex)
//   qwen2 (single digits)              -> "qwen2"
//   gpt2                               -> "gpt-2"
//   o200k                              -> "gpt-4o"
// Tokenizers llama.cpp cannot run the same way (no split rule, a prefix space, custom regexes,
// other normalizers in SentencePiece style) are refused with a usage error that says why.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace nlm::model::gguf {

struct Vocab {
  std::string model = "gpt2";
  std::string pre;
  std::vector<std::string> tokens;
  std::vector<int32_t> types;  // TokenType values
  std::vector<std::string> merges;  // gpt2 only
  std::vector<float> scores;        // llama (SPM) only
  int64_t bos = -1, eos = -1, unk = -1;
  bool add_bos = false, add_eos = false;
  bool add_space_prefix = false;    // llama (SPM): "▁" before the text
  std::vector<std::string> warnings;  // differences llama.cpp will show (normalizers, ...)
};

// The split rule's tokenizer.ggml.pre name, or nullptr when llama.cpp has none for it.
const char* pre_tokenizer_name(tokenizer::SplitRule rule, bool ignore_merges);

// Builds the vocabulary padded to `vocab_size` rows ([PAD<i>] tokens of type Unused, as llama.cpp's
// converter writes them). bos_id / eos_id are the model's (config.json); -1 takes the BOS the
// post-processor adds, then the conventional names (<|begin_of_text|>, <s>, ...). `where` names
// the tokenizer in errors.
Vocab gguf_vocab(const tokenizer::Tokenizer& tok, int64_t vocab_size, int64_t bos_id, int64_t eos_id,
                 const std::string& where);

}  // namespace nlm::model::gguf
