// Vocabulary extension by continued BPE on a target corpus.
#include "tokenizer/extend.h"

#include "core/error.h"
#include "core/json_escape.h"

namespace nlm::tokenizer {

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
  if (o.new_tokens == 0) usage_error("nothing to add", "--new-tokens", "ask for at least one new token");
  auto words = count_words(files, tok, o.train, r.stats);
  r.stats.unique_words = words.size();
  // The base model, kept to give each new token's old pieces.
  BpeModel base = tok.model;
  base.finalize("base");
  const uint32_t first_new = tok.model.size();
  r.stats.merges = extend_bpe(tok.model, words, o.new_tokens, o.train);
  tok.finalize("extend");
  for (uint32_t id = first_new; id < tok.model.size(); ++id) {
    NewToken t;
    t.id = id;
    t.text = tok.token_text(id);
    base.encode_word(tok.model.tokens[id], t.old_pieces);
    r.added.push_back(std::move(t));
  }
  return r;
}

}  // namespace nlm::tokenizer
