// A nativelm/HF byte-level BPE tokenizer as llama.cpp's GGUF tokenizer keys: the "gpt2" model
// with token strings in their byte-level form, token types, merges "left right", BOS/EOS ids,
// add_bos/add_eos from the post-processor, and tokenizer.ggml.pre naming the pre-tokenizer whose
// split rule llama.cpp implements identically. The mapping of split rules to names:
//   llama3 (cl100k) with ignore_merges -> "llama-bpe"; without -> "smaug-bpe" (same regex)
//   qwen2 (single digits)              -> "qwen2"
//   gpt2                               -> "gpt-2"
//   o200k                              -> "gpt-4o"
// Tokenizers llama.cpp cannot run the same way (SentencePiece style, no split rule, a prefix
// space, custom regexes) are refused with a usage error that says why.
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
  std::vector<std::string> merges;
  int64_t bos = -1, eos = -1, pad = -1;
  bool add_bos = false, add_eos = false;
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
