// tokenizer.json (HF tokenizers format) reading and writing, plus tokenizer_config.json. Component
// JSON of a loaded file is kept and written back verbatim, so load + save keeps every field.
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "core/json_ints.h"
#include "core/options.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer.h"

namespace nlm::tokenizer {

using json = nlohmann::json;          // parsing (ordered_json inserts in O(n))
using ojson = nlohmann::ordered_json;  // writing, in HF's key order

namespace {

[[noreturn]] void unsupported(const std::string& what, const std::string& where) {
  usage_error("unsupported " + what, where,
              "nativelm loads BPE tokenizers of the Llama family (see docs/tokenizer.md)");
}

std::string str_or(const json& j, const char* key, const std::string& fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}
bool bool_or(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

// A "pattern": {"String": ...} object; regexes are only accepted by the Split pre-tokenizer.
std::string string_pattern(const json& j, const std::string& where, const std::string& what) {
  const json& p = j.at("pattern");
  if (p.contains("String")) return p["String"].get<std::string>();
  unsupported(what + " with a regex pattern", where);
}

void parse_normalizer(const json& j, std::vector<NormalizerStep>& out, const std::string& where) {
  if (j.is_null()) return;
  std::string t = j.at("type");
  if (t == "Sequence") {
    for (auto& s : j.at("normalizers")) parse_normalizer(s, out, where);
  } else if (t == "NFC") {
    out.push_back({NormalizerStep::Nfc, {}, {}});
  } else if (t == "NFKC") {
    out.push_back({NormalizerStep::Nfkc, {}, {}});
  } else if (t == "NFD") {
    out.push_back({NormalizerStep::Nfd, {}, {}});
  } else if (t == "NFKD") {
    out.push_back({NormalizerStep::Nfkd, {}, {}});
  } else if (t == "Lowercase") {
    out.push_back({NormalizerStep::Lowercase, {}, {}});
  } else if (t == "Prepend") {
    out.push_back({NormalizerStep::Prepend, j.at("prepend").get<std::string>(), {}});
  } else if (t == "Replace") {
    out.push_back({NormalizerStep::Replace, string_pattern(j, where, "Replace normalizer"),
                   j.at("content").get<std::string>()});
  } else {
    unsupported("normalizer '" + t + "'", where);
  }
}

void parse_pre_tokenizer(const json& j, std::vector<PreTokenizerStep>& out, const std::string& where) {
  if (j.is_null()) return;
  std::string t = j.at("type");
  PreTokenizerStep s;
  if (t == "Sequence") {
    for (auto& p : j.at("pretokenizers")) parse_pre_tokenizer(p, out, where);
    return;
  } else if (t == "Split") {
    s.behavior = str_or(j, "behavior", "Isolated");
    const json& p = j.at("pattern");
    bool invert = bool_or(j, "invert", false);
    // The known rules match every character, so "keep the matches" (Removed + invert, as in the
    // GPT-4o file) cuts the same pieces as Isolated.
    if (invert && p.contains("Regex") && s.behavior == "Removed") s.behavior = "Isolated";
    else if (invert) unsupported("inverted Split pre-tokenizer", where);
    if (p.contains("Regex")) {
      if (s.behavior != "Isolated") unsupported("regex Split with behavior " + s.behavior, where);
      if (!split_rule_from_regex(p["Regex"].get<std::string>(), s.rule))
        unsupported("Split regex " + p["Regex"].dump(), where);
      s.kind = PreTokenizerStep::Split;
    } else {
      s.kind = PreTokenizerStep::SplitString;
      s.pattern = p.at("String").get<std::string>();
    }
  } else if (t == "ByteLevel") {
    s.kind = PreTokenizerStep::ByteLevel;
    s.add_prefix_space = bool_or(j, "add_prefix_space", false);
    s.use_regex = bool_or(j, "use_regex", true);
  } else if (t == "Metaspace") {
    s.kind = PreTokenizerStep::Metaspace;
    s.pattern = str_or(j, "replacement", "\xE2\x96\x81");
    s.prepend_scheme = str_or(j, "prepend_scheme", bool_or(j, "add_prefix_space", true) ? "always" : "never");
    s.split = bool_or(j, "split", true);
  } else {
    unsupported("pre-tokenizer '" + t + "'", where);
  }
  out.push_back(s);
}

void parse_decoder(const json& j, std::vector<DecoderStep>& out, const std::string& where) {
  if (j.is_null()) return;
  std::string t = j.at("type");
  DecoderStep d;
  if (t == "Sequence") {
    for (auto& p : j.at("decoders")) parse_decoder(p, out, where);
    return;
  } else if (t == "ByteLevel") {
    d.kind = DecoderStep::ByteLevel;
  } else if (t == "Replace") {
    d.kind = DecoderStep::Replace;
    d.a = string_pattern(j, where, "Replace decoder");
    d.b = j.at("content").get<std::string>();
  } else if (t == "ByteFallback") {
    d.kind = DecoderStep::ByteFallback;
  } else if (t == "Fuse") {
    d.kind = DecoderStep::Fuse;
  } else if (t == "Strip") {
    d.kind = DecoderStep::Strip;
    d.a = j.at("content").get<std::string>();
    // Counts of `content` to strip from each end; json::value() would convert a float or a huge
    // integer to int with undefined behaviour.
    auto count = [&](const char* key) {
      if (!j.contains(key) || j[key].is_null()) return 0;
      const int64_t n = json_int(j[key], std::string("Strip decoder ") + key, where);
      if (n < 0 || n > 1 << 20) usage_error(std::string("Strip decoder '") + key + "' must be in [0, 2^20]", where);
      return static_cast<int>(n);
    };
    d.start = count("start");
    d.stop = count("stop");
  } else if (t == "Metaspace") {
    d.kind = DecoderStep::Metaspace;
    d.a = str_or(j, "replacement", "\xE2\x96\x81");
    d.prepend_scheme = str_or(j, "prepend_scheme", "always");
  } else {
    unsupported("decoder '" + t + "'", where);
  }
  out.push_back(d);
}

// A token id from the file: an integer in [0, 2^31). Anything else (negative, fractional, huge)
// is a malformed file, not an index to trust.
uint32_t id_value(const json& v, const std::string& where) {
  if (!v.is_number_unsigned() || v.get<uint64_t>() > 0x7fffffffu)
    usage_error("token id " + v.dump() + " is not an integer in [0, 2^31)", where, "pass an HF tokenizer.json");
  return v.get<uint32_t>();
}

void parse_post(const json& j, Tokenizer& tok, const std::string& where) {
  if (j.is_null()) return;
  std::string t = j.at("type");
  if (t == "Sequence") {
    for (auto& p : j.at("processors")) parse_post(p, tok, where);
  } else if (t == "ByteLevel") {
    // Offsets only; ids are unchanged.
  } else if (t == "TemplateProcessing") {
    bool after = false;
    for (auto& item : j.at("single")) {
      if (item.contains("Sequence")) {
        after = true;
        continue;
      }
      std::string name = item.at("SpecialToken").at("id");
      const json& spec = j.at("special_tokens").at(name);
      for (auto& id : spec.at("ids")) (after ? tok.post_suffix : tok.post_prefix).push_back(id_value(id, where));
    }
  } else {
    unsupported("post-processor '" + t + "'", where);
  }
}

// A single component as itself, several as {"type": "Sequence", key: [...]}.
std::string one_or_sequence(const ojson& seq, const char* key) {
  if (seq.size() == 1) return seq[0].dump();
  return ojson{{"type", "Sequence"}, {key, seq}}.dump();
}

// JSON of pipeline components built from the step lists (tokenizers trained or edited here).
std::string normalizer_json(const std::vector<NormalizerStep>& steps) {
  if (steps.empty()) return "null";
  ojson seq = ojson::array();
  for (auto& st : steps) {
    ojson j;
    switch (st.kind) {
      case NormalizerStep::Nfc: j["type"] = "NFC"; break;
      case NormalizerStep::Nfkc: j["type"] = "NFKC"; break;
      case NormalizerStep::Nfd: j["type"] = "NFD"; break;
      case NormalizerStep::Nfkd: j["type"] = "NFKD"; break;
      case NormalizerStep::Lowercase: j["type"] = "Lowercase"; break;
      case NormalizerStep::Prepend: j["type"] = "Prepend"; j["prepend"] = st.a; break;
      case NormalizerStep::Replace:
        j["type"] = "Replace";
        j["pattern"] = {{"String", st.a}};
        j["content"] = st.b;
        break;
    }
    seq.push_back(j);
  }
  return one_or_sequence(seq, "normalizers");
}

std::string pre_tokenizer_json(const std::vector<PreTokenizerStep>& steps) {
  if (steps.empty()) return "null";
  ojson seq = ojson::array();
  for (auto& st : steps) {
    ojson j;
    switch (st.kind) {
      case PreTokenizerStep::Split:
        j["type"] = "Split";
        j["pattern"] = {{"Regex", std::string(split_rule_regex(st.rule))}};
        j["behavior"] = "Isolated";
        j["invert"] = false;
        break;
      case PreTokenizerStep::SplitString:
        j["type"] = "Split";
        j["pattern"] = {{"String", st.pattern}};
        j["behavior"] = st.behavior;
        j["invert"] = false;
        break;
      case PreTokenizerStep::ByteLevel:
        j["type"] = "ByteLevel";
        j["add_prefix_space"] = st.add_prefix_space;
        j["trim_offsets"] = true;
        j["use_regex"] = st.use_regex;
        break;
      case PreTokenizerStep::Metaspace:
        j["type"] = "Metaspace";
        j["replacement"] = st.pattern;
        j["prepend_scheme"] = st.prepend_scheme;
        j["split"] = st.split;
        break;
    }
    seq.push_back(j);
  }
  return one_or_sequence(seq, "pretokenizers");
}

std::string decoder_json(const std::vector<DecoderStep>& steps) {
  if (steps.empty()) return "null";
  ojson seq = ojson::array();
  for (auto& st : steps) {
    ojson j;
    switch (st.kind) {
      case DecoderStep::ByteLevel:
        j = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
        break;
      case DecoderStep::Replace: j = {{"type", "Replace"}, {"pattern", {{"String", st.a}}}, {"content", st.b}}; break;
      case DecoderStep::ByteFallback: j = {{"type", "ByteFallback"}}; break;
      case DecoderStep::Fuse: j = {{"type", "Fuse"}}; break;
      case DecoderStep::Strip: j = {{"type", "Strip"}, {"content", st.a}, {"start", st.start}, {"stop", st.stop}}; break;
      case DecoderStep::Metaspace:
        j = {{"type", "Metaspace"}, {"replacement", st.a}, {"prepend_scheme", st.prepend_scheme}, {"split", true}};
        break;
    }
    seq.push_back(j);
  }
  return one_or_sequence(seq, "decoders");
}

std::string post_processor_json(const Tokenizer& tok) {
  if (tok.post_prefix.empty() && tok.post_suffix.empty()) return "null";
  ojson single = ojson::array(), pair = ojson::array(), specials = ojson::object();
  auto special = [&](uint32_t id, int type_id, ojson& list) {
    std::string name = tok.token_text(id);
    list.push_back({{"SpecialToken", {{"id", name}, {"type_id", type_id}}}});
    specials[name] = {{"id", name}, {"ids", {id}}, {"tokens", {name}}};
  };
  for (uint32_t id : tok.post_prefix) special(id, 0, single);
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  for (uint32_t id : tok.post_suffix) special(id, 0, single);
  for (uint32_t id : tok.post_prefix) special(id, 0, pair);
  pair.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  for (uint32_t id : tok.post_suffix) special(id, 0, pair);
  for (uint32_t id : tok.post_prefix) special(id, 1, pair);
  pair.push_back({{"Sequence", {{"id", "B"}, {"type_id", 1}}}});
  for (uint32_t id : tok.post_suffix) special(id, 1, pair);
  return ojson{{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}}.dump();
}

}  // namespace

Tokenizer Tokenizer::from_json(std::string_view text, const std::string& where) {
  json j;
  check_json_depth(text, where);
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    usage_error(std::string("invalid JSON: ") + e.what(), where, "pass an HF tokenizer.json");
  }
  Tokenizer tok;
  try {
    const json& m = j.at("model");
    if (str_or(m, "type", "BPE") != "BPE") unsupported("model type " + m["type"].dump(), where);
    if (!str_or(m, "continuing_subword_prefix", "").empty() || !str_or(m, "end_of_word_suffix", "").empty())
      unsupported("BPE with subword prefix/suffix", where);
    if (m.contains("dropout") && !m["dropout"].is_null() && m["dropout"].get<double>() != 0)
      unsupported("BPE dropout", where);
    parse_normalizer(j.value("normalizer", json()), tok.normalizers, where);
    parse_pre_tokenizer(j.value("pre_tokenizer", json()), tok.pre_tokenizers, where);
    parse_decoder(j.value("decoder", json()), tok.decoders, where);
    parse_post(j.value("post_processor", json()), tok, where);
    for (const char* k : {"normalizer", "pre_tokenizer", "post_processor", "decoder"}) {
      std::string raw = j.contains(k) ? j[k].dump() : "null";
      if (std::string(k) == "normalizer") tok.raw_normalizer = raw;
      if (std::string(k) == "pre_tokenizer") tok.raw_pre_tokenizer = raw;
      if (std::string(k) == "post_processor") tok.raw_post_processor = raw;
      if (std::string(k) == "decoder") tok.raw_decoder = raw;
    }
    bool byte_level = false;
    for (auto& p : tok.pre_tokenizers) byte_level |= p.kind == PreTokenizerStep::ByteLevel;
    for (auto& d : tok.decoders) byte_level |= d.kind == DecoderStep::ByteLevel;
    BpeModel& model = tok.model;
    model.byte_level = byte_level;
    model.byte_fallback = bool_or(m, "byte_fallback", false);
    model.fuse_unk = bool_or(m, "fuse_unk", false);
    model.ignore_merges = bool_or(m, "ignore_merges", false);
    uint32_t max_id = 0;
    const json& vocab = m.at("vocab");
    const json added = j.value("added_tokens", json::array());
    for (auto& [k, v] : vocab.items()) max_id = std::max(max_id, id_value(v, where) + 1);
    for (auto& a : added) max_id = std::max(max_id, id_value(a.at("id"), where) + 1);
    // Ids may leave gaps, but not so many that the id table would dwarf the vocabulary.
    if (max_id > vocab.size() + added.size() + (1u << 20))
      usage_error("token id " + std::to_string(max_id - 1) + " is far beyond the " +
                      std::to_string(vocab.size() + added.size()) + " tokens of the file",
                  where, "pass an HF tokenizer.json");
    model.tokens.assign(max_id, {});
    model.present.assign(max_id, 0);
    std::string raw;
    for (auto& [k, v] : vocab.items()) {
      uint32_t id = v.get<uint32_t>();
      if (byte_level) {
        if (!byte_level_to_bytes(k, raw)) runtime_error("vocab entry is not byte-level: " + json(k).dump(), where);
        model.tokens[id] = raw;
      } else {
        model.tokens[id] = k;
      }
      model.present[id] = 1;
    }
    if (m.contains("unk_token") && m["unk_token"].is_string()) {
      std::string u = m["unk_token"];
      auto it = vocab.find(u);
      if (it != vocab.end()) model.unk = it->get<uint32_t>();
    }
    for (auto& a : added) {
      AddedToken t;
      t.id = id_value(a.at("id"), where);
      t.content = a.at("content");
      t.special = a.value("special", false);
      t.lstrip = a.value("lstrip", false);
      t.rstrip = a.value("rstrip", false);
      t.single_word = a.value("single_word", false);
      t.normalized = a.value("normalized", false);
      tok.added.push_back(std::move(t));
    }
    model.finalize(where);
    const json& merges = m.at("merges");
    model.merges.reserve(merges.size());
    std::string left, right;
    for (auto& e : merges) {
      if (e.is_string()) {
        const std::string& s = e.get_ref<const std::string&>();
        size_t sp = s.find(' ');
        if (sp == std::string::npos) runtime_error("merge without a space: " + e.dump(), where);
        left = s.substr(0, sp);
        right = s.substr(sp + 1);
      } else {
        left = e.at(0);
        right = e.at(1);
      }
      std::string lr, rr;
      if (byte_level) {
        if (!byte_level_to_bytes(left, lr) || !byte_level_to_bytes(right, rr))
          runtime_error("merge is not byte-level: " + e.dump(), where);
      } else {
        lr = left;
        rr = right;
      }
      uint32_t a = model.id_of(lr), b = model.id_of(rr), c = model.id_of(lr + rr);
      if (a == kNoToken || b == kNoToken || c == kNoToken)
        runtime_error("merge refers to tokens missing from the vocab: " + e.dump(), where);
      model.merges.push_back({a, b, c});
    }
  } catch (const nlohmann::json::exception& e) {
    usage_error(std::string("malformed tokenizer.json: ") + e.what(), where, "pass an HF tokenizer.json");
  }
  tok.finalize(where);
  for (auto* ids : {&tok.post_prefix, &tok.post_suffix})
    for (uint32_t id : *ids)
      if (id >= tok.vocab_size())
        usage_error("post-processor token id " + std::to_string(id) + " is not in the vocabulary (size " +
                        std::to_string(tok.vocab_size()) + ")",
                    where, "pass an HF tokenizer.json");
  return tok;
}

Tokenizer Tokenizer::load(const std::string& path) {
  // An empty path would name /tokenizer.json.
  if (path.empty()) opt::fail("tokenizer", "is an empty tokenizer path", "pass a tokenizer.json or its folder");
  const std::string p = tokenizer_file(path);
  return from_json(read_file(p), p);
}

std::string tokenizer_file(const std::string& path) {
  return path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0 ? path : path + "/tokenizer.json";
}

std::string Tokenizer::to_json() const {
  // Written by hand around small nlohmann dumps: ordered_json inserts in O(n), too slow for
  // 100k+ vocab entries. One vocab entry and one merge per line keeps diffs readable.
  auto q = [](const std::string& s) { return json(s).dump(-1, ' ', false, json::error_handler_t::replace); };
  auto raw = [](const std::string& r, const std::string& generated) { return r.empty() ? generated : r; };
  std::string out = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n";
  out += "  \"added_tokens\": [";
  for (size_t i = 0; i < added.size(); ++i) {
    const AddedToken& a = added[i];
    ojson t;
    t["id"] = a.id;
    t["content"] = a.content;
    t["single_word"] = a.single_word;
    t["lstrip"] = a.lstrip;
    t["rstrip"] = a.rstrip;
    t["normalized"] = a.normalized;
    t["special"] = a.special;
    out += (i ? ",\n    " : "\n    ") + t.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  out += added.empty() ? "],\n" : "\n  ],\n";
  out += "  \"normalizer\": " + raw(raw_normalizer, normalizer_json(normalizers)) + ",\n";
  out += "  \"pre_tokenizer\": " + raw(raw_pre_tokenizer, pre_tokenizer_json(pre_tokenizers)) + ",\n";
  out += "  \"post_processor\": " + raw(raw_post_processor, post_processor_json(*this)) + ",\n";
  out += "  \"decoder\": " + raw(raw_decoder, decoder_json(decoders)) + ",\n";
  out += "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n";
  out += "    \"unk_token\": " + (model.unk == kNoToken ? std::string("null") : q(model.tokens[model.unk])) + ",\n";
  out += "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n";
  out += std::string("    \"fuse_unk\": ") + (model.fuse_unk ? "true" : "false") + ",\n";
  out += std::string("    \"byte_fallback\": ") + (model.byte_fallback ? "true" : "false") + ",\n";
  out += std::string("    \"ignore_merges\": ") + (model.ignore_merges ? "true" : "false") + ",\n";
  auto form = [&](uint32_t id) {
    return q(model.byte_level ? bytes_to_byte_level(model.tokens[id]) : model.tokens[id]);
  };
  out += "    \"vocab\": {";
  bool first = true;
  // HF numbers added tokens from the model's vocab *count*, so ids must be contiguous: added
  // tokens that sit in a hole below a model token (Llama 3 specials after `extend`) are written
  // into the vocab too, which makes HF keep their ids.
  uint32_t last_present = 0;
  for (uint32_t id = 0; id < model.size(); ++id)
    if (model.present[id]) last_present = id;
  for (uint32_t id = 0; id < model.size(); ++id) {
    std::string entry;
    if (model.present[id]) {
      entry = form(id);
    } else if (id < last_present) {
      const AddedToken* a = added_token(id);
      if (!a) continue;
      entry = q(model.byte_level ? bytes_to_byte_level(a->content) : a->content);
    } else {
      continue;
    }
    out += (first ? "\n      " : ",\n      ") + entry + ": " + std::to_string(id);
    first = false;
  }
  out += "\n    },\n    \"merges\": [";
  for (size_t r = 0; r < model.merges.size(); ++r)
    out += (r ? ",\n      [" : "\n      [") + form(model.merges[r].left) + ", " + form(model.merges[r].right) + "]";
  out += "\n    ]\n  }\n}\n";
  return out;
}

namespace {

ojson added_tokens_decoder(const std::vector<AddedToken>& added) {
  ojson decoder = ojson::object();
  for (auto& a : added)
    decoder[std::to_string(a.id)] = {{"content", a.content}, {"lstrip", a.lstrip}, {"normalized", a.normalized},
                                     {"rstrip", a.rstrip}, {"single_word", a.single_word}, {"special", a.special}};
  return decoder;
}

}  // namespace

std::string Tokenizer::config_json(const std::string& base_config) const {
  if (!base_config.empty()) {
    ojson cfg;
    try {
      cfg = ojson::parse(base_config);
    } catch (const std::exception& e) {
      usage_error(std::string("invalid JSON: ") + e.what(), "the base tokenizer_config.json",
                  "fix or remove the base folder's tokenizer_config.json");
    }
    if (!cfg.is_object())
      usage_error("tokenizer_config.json is not a JSON object", "the base tokenizer_config.json",
                  "fix or remove the base folder's tokenizer_config.json");
    if (!cfg.contains("added_tokens_decoder")) return base_config;
    ojson decoder = added_tokens_decoder(added);
    if (cfg["added_tokens_decoder"] == decoder) return base_config;
    cfg["added_tokens_decoder"] = decoder;
    return cfg.dump(2) + "\n";
  }
  ojson cfg;
  cfg["tokenizer_class"] = "PreTrainedTokenizerFast";
  cfg["clean_up_tokenization_spaces"] = false;
  cfg["added_tokens_decoder"] = added_tokens_decoder(added);
  if (!post_prefix.empty()) cfg["bos_token"] = token_text(post_prefix.front());
  for (auto& a : added)
    if (a.special && (a.content.find("eos") != std::string::npos || a.content.find("end_of_text") != std::string::npos ||
                      a.content == "</s>" || a.content == "<|endoftext|>")) {
      cfg["eos_token"] = a.content;
      break;
    }
  cfg["model_max_length"] = 1000000000000000019884624838656.0;
  return cfg.dump(2) + "\n";
}

void Tokenizer::save(const std::string& dir, const std::string& base_config) const {
  std::string config = config_json(base_config);  // a bad base config fails before anything is written
  make_dirs(dir);
  write_file_atomic(dir + "/tokenizer.json", to_json());
  write_file_atomic(dir + "/tokenizer_config.json", config);
}

}  // namespace nlm::tokenizer
