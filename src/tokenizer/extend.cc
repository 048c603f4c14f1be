// Vocabulary extension by continued BPE on a target corpus.
#include "tokenizer/extend.h"

#include "core/json_escape.h"
#include "core/options.h"

namespace nlm::tokenizer {

void declare(opt::Schema& s, ExtendOptions& o) {
  s.add("new_tokens", o.new_tokens, "Tokens to add at most (fewer when too few pairs reach min_frequency)")
      .range(1, 1u << 24);
  declare_counting(s, o.train);
}

std::string ExtendResult::stats_json() const {
  std::string s = stats.to_json();
  s = opt::with_member(s, "base_vocab_size", std::to_string(base_vocab_size));
  s = opt::with_member(s, "requested_tokens", std::to_string(requested));
  s = opt::with_member(s, "added_tokens", std::to_string(added.size()));
  return opt::with_member(s, "shortfall", json_quote(shortfall));
}

std::string ExtendResult::to_json() const {
  std::string s = "[";
  for (size_t i = 0; i < added.size(); ++i) {
    const NewToken& t = added[i];
    s += i ? ",\n {\"id\":" : "\n {\"id\":";
    s += std::to_string(t.id) + ",\"token\":" + json_quote(t.text) + ",\"pieces\":[";
    for (size_t k = 0; k < t.old_pieces.size(); ++k) s += (k ? "," : "") + std::to_string(t.old_pieces[k]);
    s += "]}";
  }
  return s + "\n]\n";
}

ExtendResult extend_tokenizer(Tokenizer& tok, const std::vector<std::string>& files, const ExtendOptions& o) {
  ExtendResult r;
  if (o.new_tokens == 0) opt::fail("new_tokens", "must be at least 1", "ask for at least one new token");
  r.requested = o.new_tokens;
  r.base_vocab_size = tok.vocab_size();
  auto words = count_words(files, tok, o.train, r.stats);
  r.stats.unique_words = words.size();
  // The base model, kept to give each new token's old pieces.
  BpeModel base = tok.model;
  base.finalize("base");
  const uint32_t first_new = tok.model.size();
  r.stats.merges = extend_bpe(tok.model, words, o.new_tokens, o.train, &r.stats);
  tok.finalize("extend");
  for (uint32_t id = first_new; id < tok.model.size(); ++id) {
    NewToken t;
    t.id = id;
    t.text = tok.token_text(id);
    base.encode_word(tok.model.tokens[id], t.old_pieces);
    r.added.push_back(std::move(t));
  }
  if (r.added.size() < o.new_tokens) r.shortfall = r.stats.stop_reason(o.train.min_frequency);
  return r;
}

}  // namespace nlm::tokenizer
