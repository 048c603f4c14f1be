// Text <-> id lines for `tokenizer encode|decode`.
#include "tokenizer/encode_lines.h"

#include <istream>
#include <ostream>
#include <sstream>

namespace nlm::tokenizer {

void declare(opt::Schema& s, EncodeOptions& o) {
  s.add("tokenizer", o.tokenizer, "tokenizer.json or a folder holding one").flag("-t,--tokenizer");
  s.add("add_special", o.add_special, "Add the post-processor's BOS/EOS tokens");
  s.add("tokens", o.tokens, "Print token strings instead of ids");
}

void declare(opt::Schema& s, DecodeOptions& o) {
  s.add("tokenizer", o.tokenizer, "tokenizer.json or a folder holding one").flag("-t,--tokenizer");
  s.add("skip_special", o.skip_special, "Leave special tokens out of the text");
}

std::vector<uint32_t> parse_token_ids(const std::string& text, uint32_t vocab_size) {
  std::vector<std::string> items;
  std::istringstream in(text);
  for (std::string w; in >> w;) items.push_back(w);
  // A vocabulary of size 0 has no ids; parse_id_list takes limit 0 as "no limit".
  if (vocab_size == 0 && !items.empty()) opt::fail("ids", "holds ids, but the vocabulary is empty");
  return opt::parse_id_list(items, "ids", vocab_size);
}

void encode_lines(const EncodeOptions& o, const std::vector<std::string>& texts, std::istream& in, std::ostream& out) {
  Tokenizer tok = Tokenizer::load(o.tokenizer);
  auto emit = [&](const std::string& text) {
    std::string line;
    for (uint32_t id : tok.encode(text, o.add_special)) {
      if (!line.empty()) line += ' ';
      line += o.tokens ? tok.token_text(id) : std::to_string(id);
    }
    out << line << '\n';
  };
  if (!texts.empty()) {
    for (auto& t : texts) emit(t);
  } else {
    for (std::string l; std::getline(in, l);) emit(l);
  }
}

void decode_lines(const DecodeOptions& o, const std::vector<std::string>& ids, std::istream& in, std::ostream& out) {
  Tokenizer tok = Tokenizer::load(o.tokenizer);
  if (!ids.empty()) {
    std::string all;
    for (auto& s : ids) all += s + " ";
    out << tok.decode(parse_token_ids(all, tok.vocab_size()), o.skip_special) << '\n';
  } else {
    for (std::string l; std::getline(in, l);) out << tok.decode(parse_token_ids(l, tok.vocab_size()), o.skip_special) << '\n';
  }
}

}  // namespace nlm::tokenizer
