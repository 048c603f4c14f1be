// Tokenizer -> GGUF tokenizer metadata (see gguf_vocab.h).
#include "model/gguf_vocab.h"

#include "core/error.h"
#include "model/gguf_format.h"

namespace nlm::model::gguf {

using tokenizer::PreTokenizerStep;
using tokenizer::SplitRule;

const char* pre_tokenizer_name(SplitRule rule, bool ignore_merges) {
  switch (rule) {
    case SplitRule::Llama3: return ignore_merges ? "llama-bpe" : "smaug-bpe";
    case SplitRule::Qwen2: return "qwen2";
    case SplitRule::Gpt2: return "gpt-2";
    case SplitRule::O200k: return "gpt-4o";
    case SplitRule::None: return nullptr;
  }
  return nullptr;
}

namespace {

// The one split rule of a byte-level pipeline: [Split(rule), ByteLevel] or [ByteLevel(use_regex)].
SplitRule split_rule_of(const tokenizer::Tokenizer& tok, const std::string& where) {
  const std::string fix = "export a byte-level tokenizer trained with --pretokenizer llama3, qwen2, gpt2 or o200k";
  const auto& p = tok.pre_tokenizers;
  auto byte_level = [&](const PreTokenizerStep& s) {
    if (s.kind != PreTokenizerStep::ByteLevel) return false;
    if (s.add_prefix_space)
      usage_error("the ByteLevel pre-tokenizer adds a prefix space, which llama.cpp's BPE tokenizer does not", where, fix);
    return true;
  };
  if (p.size() == 1 && byte_level(p[0]) && p[0].use_regex) return SplitRule::Gpt2;
  if (p.size() == 2 && p[0].kind == PreTokenizerStep::Split && p[0].behavior == "Isolated" &&
      byte_level(p[1]) && !p[1].use_regex) {
    if (p[0].rule == SplitRule::None)
      usage_error("the pre-tokenizer's split regex is not one llama.cpp implements", where, fix);
    return p[0].rule;
  }
  usage_error("the pre-tokenizer has no llama.cpp equivalent (it needs a split rule followed by ByteLevel)", where, fix);
}

}  // namespace

namespace {

// Llama 2 / Mistral style: "▁" prepended and for every space, optionally split before each "▁",
// byte fallback. llama.cpp's SPM tokenizer does the same with add_space_prefix.
void check_sentencepiece(const tokenizer::Tokenizer& tok, const std::string& where) {
  using tokenizer::NormalizerStep;
  const std::string meta = "\xE2\x96\x81";  // ▁
  const std::string fix = "use a tokenizer from 'nativelm tokenizer train --mode sentencepiece' or a Llama 2 / Mistral tokenizer.json";
  const auto& n = tok.normalizers;
  bool ok = n.size() == 2 && n[0].kind == NormalizerStep::Prepend && n[0].a == meta &&
            n[1].kind == NormalizerStep::Replace && n[1].a == " " && n[1].b == meta;
  if (!ok) usage_error("the SentencePiece-style tokenizer's normalizer is not 'prepend ▁, spaces to ▁', the one llama.cpp implements", where, fix);
  const auto& p = tok.pre_tokenizers;
  ok = p.empty() || (p.size() == 1 && p[0].kind == PreTokenizerStep::SplitString && p[0].pattern == meta &&
                     p[0].behavior == "MergedWithNext");
  if (!ok) usage_error("the SentencePiece-style tokenizer's pre-tokenizer has no llama.cpp equivalent", where, fix);
}

// SPM scores: llama.cpp merges the adjacent pair whose concatenation is the highest-scoring token,
// so a token made by the merge of rank r scores -r (earlier merges first, as BPE applies them).
// Tokens no merge makes (characters, bytes, specials) score 0; they are never merge results.
std::vector<float> sentencepiece_scores(const tokenizer::Tokenizer& tok, int64_t vocab_size) {
  std::vector<float> scores(static_cast<size_t>(vocab_size), 0.0f);
  std::vector<uint8_t> set(scores.size(), 0);
  for (size_t r = 0; r < tok.model.merges.size(); ++r) {
    uint32_t m = tok.model.merges[r].merged;
    if (m < scores.size() && !set[m]) {
      scores[m] = -static_cast<float>(r + 1);
      set[m] = 1;
    }
  }
  return scores;
}

}  // namespace

Vocab gguf_vocab(const tokenizer::Tokenizer& tok, int64_t vocab_size, int64_t bos_id, int64_t eos_id,
                 const std::string& where) {
  Vocab v;
  const bool spm = !tok.model.byte_level;
  if (spm) {
    if (!tok.model.byte_fallback)
      usage_error("a character-level BPE tokenizer without byte fallback has no llama.cpp equivalent", where,
                  "train with --mode sentencepiece (byte fallback) or --mode byte-level");
    check_sentencepiece(tok, where);
    v.model = "llama";
    v.add_space_prefix = true;
    v.scores = sentencepiece_scores(tok, vocab_size);
  } else {
    if (tok.model.byte_fallback) usage_error("a byte-level tokenizer with byte fallback is not supported", where);
    SplitRule rule = split_rule_of(tok, where);
    v.pre = pre_tokenizer_name(rule, tok.model.ignore_merges);
    if (rule == SplitRule::Qwen2 && tok.model.ignore_merges)
      v.warnings.push_back("the tokenizer ignores merges for whole-word tokens but llama.cpp's qwen2 pre-tokenizer does not; rare words may split differently");
    if (rule == SplitRule::O200k)
      v.warnings.push_back("llama.cpp's gpt-4o pre-tokenizer splits combining marks (Thai, Devanagari, ...) off letter runs where o200k keeps them; text in such scripts tokenizes differently there");
    if (!tok.normalizers.empty())
      v.warnings.push_back("the tokenizer normalizes text (e.g. NFC) and llama.cpp does not; normalize prompts before giving them to llama.cpp");
    v.merges.reserve(tok.model.merges.size());
    for (auto& m : tok.model.merges) v.merges.push_back(tok.token_text(m.left) + " " + tok.token_text(m.right));
  }

  if (static_cast<int64_t>(tok.vocab_size()) > vocab_size)
    usage_error("the tokenizer has " + std::to_string(tok.vocab_size()) + " tokens but the model only " +
                    std::to_string(vocab_size) + " embedding rows",
                where, "use the tokenizer the model was trained with");
  v.tokens.resize(static_cast<size_t>(vocab_size));
  v.types.resize(static_cast<size_t>(vocab_size));
  for (int64_t i = 0; i < vocab_size; ++i) {
    const uint32_t id = static_cast<uint32_t>(i);
    std::string text = i < tok.vocab_size() ? tok.token_text(id) : std::string();
    TokenType type = TokenType::Normal;
    if (auto* a = i < tok.vocab_size() ? tok.added_token(id) : nullptr)
      type = a->special ? TokenType::Control : TokenType::UserDefined;
    if (spm && tok.is_byte_fallback(id)) type = TokenType::Byte;
    if (spm && tok.is_unknown(id)) type = TokenType::Unknown;
    if (text.empty()) {
      text = "[PAD" + std::to_string(i) + "]";
      type = TokenType::Unused;
    }
    v.tokens[i] = std::move(text);
    v.types[i] = static_cast<int32_t>(type);
  }
  if (spm && tok.model.unk != tokenizer::kNoToken) v.unk = tok.model.unk;

  auto find_named = [&](const std::vector<const char*>& names) -> int64_t {
    for (const char* n : names)
      if (uint32_t id = tok.token_id(n); id != tokenizer::kNoToken) return id;
    return -1;
  };
  v.add_bos = !tok.post_prefix.empty();
  v.add_eos = !tok.post_suffix.empty();
  if (tok.post_prefix.size() > 1 || tok.post_suffix.size() > 1)
    v.warnings.push_back("the post-processor adds several tokens around a text; llama.cpp adds only BOS/EOS");
  v.bos = bos_id >= 0 ? bos_id : v.add_bos ? tok.post_prefix[0] : find_named(tokenizer::bos_token_names());
  v.eos = eos_id >= 0 ? eos_id : v.add_eos ? tok.post_suffix[0] : find_named(tokenizer::eos_token_names());
  for (int64_t id : {v.bos, v.eos})
    if (id >= vocab_size)
      usage_error("special token id " + std::to_string(id) + " is outside the vocabulary of " +
                      std::to_string(vocab_size), where, "fix bos_token_id / eos_token_id in config.json");
  return v;
}

}  // namespace nlm::model::gguf
