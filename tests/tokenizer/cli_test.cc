// CLI tests of `nativelm tokenizer train|encode|decode|stats|extend`, run through the built binary
// on a small multilingual corpus (cli_fixture.h): outputs are read back with the library
// (Tokenizer::load) and checked against the corpus; bad input must give exit 2 (usage) or 1
// (runtime) with exactly one "nativelm: error: ..." line, never a crash or an internal error.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "core/error.h"
#include "test_util.h"
#include "tokenizer/cli_fixture.h"
#include "tokenizer/tokenizer.h"

namespace nlm::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using tokenizer::Tokenizer;

TEST_F(TokenizerCli, TrainWritesATokenizerThatRoundTrips) {
  auto r = ok("tokenizer train " + f("c.txt") + " " + f("c.jsonl") + " -o " + f("tok") +
              " --vocab-size 400 --min-frequency 1");
  EXPECT_NE(r.out.find("trained 400 tokens"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("from " + std::to_string(jdocs.size() + tdocs.size()) + " docs"), std::string::npos) << r.out;
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "manifest.json"})
    EXPECT_TRUE(fs::exists(f("tok/") + name)) << name;
  json manifest = json::parse(read_text(f("tok/manifest.json")));
  EXPECT_EQ(manifest.at("inputs").size(), 2u);
  EXPECT_EQ(manifest.at("stats").at("lang_weights").size(), sentences().size() + 1);  // + "und" (c.txt)
  EXPECT_EQ(manifest.at("options").at("vocab_size"), 400);
  json config = json::parse(read_text(f("tok/tokenizer_config.json")));
  EXPECT_TRUE(config.contains("added_tokens_decoder"));

  Tokenizer tok = Tokenizer::load(f("tok"));
  EXPECT_EQ(tok.vocab_size(), 400u);
  const uint32_t bos = tok.token_id("<|begin_of_text|>"), eos = tok.token_id("<|end_of_text|>");
  EXPECT_EQ(bos, 398u);  // specials follow the learned vocabulary (Llama 3 layout)
  EXPECT_EQ(eos, 399u);
  // Every training document and unseen text (other scripts, emoji, odd whitespace) round-trips,
  // and the learned merges compress every language of the corpus.
  std::map<std::string, std::pair<size_t, size_t>> bytes_tokens;
  for (auto& d : jdocs) {
    auto ids = tok.encode(d.text);
    EXPECT_EQ(tok.decode(ids), d.text);
    bytes_tokens[d.lang].first += d.text.size();
    bytes_tokens[d.lang].second += ids.size();
  }
  for (auto& [lang, bt] : bytes_tokens) EXPECT_GT(double(bt.first) / bt.second, 1.3) << lang;
  for (auto& d : tdocs) EXPECT_EQ(tok.decode(tok.encode(d)), d);
  for (std::string s : {"Ελληνικά και 한국어 🙂🙂", "tabs\tand   spaces\n\nnew lines", "数字 12345 和 ½ ⅓", ""})
    EXPECT_EQ(tok.decode(tok.encode(s)), s) << s;
  EXPECT_EQ(tok.encode("hi", true).front(), bos);

  // Language names and paths with JSON metacharacters end up escaped in the manifests.
  write_text(f("odd.jsonl"), "{\"lang\":\"e\\\"n\\\\x\",\"text\":\"hello there\"}\n");
  ok("tokenizer train " + f("odd.jsonl") + " -o " + quote(f("o\"dd")) + " --vocab-size 270");
  manifest = json::parse(read_text(f("o\"dd/manifest.json")));
  EXPECT_TRUE(manifest["stats"]["lang_weights"].contains("e\"n\\x")) << manifest.dump();
  ok("tokenizer extend " + f("c.jsonl") + " -t " + quote(f("o\"dd")) + " -o " + f("oddext") + " --new-tokens 3");
  manifest = json::parse(read_text(f("oddext/manifest.json")));
  EXPECT_EQ(manifest["options"]["base"], f("o\"dd"));

  // The output does not depend on the thread count.
  ok("--threads 1 tokenizer train " + f("c.txt") + " " + f("c.jsonl") + " -o " + f("tok1") +
     " --vocab-size 400 --min-frequency 1");
  EXPECT_TRUE(read_text(f("tok1/tokenizer.json")) == read_text(f("tok/tokenizer.json")));
}

// A retrain into a folder that held a finished tokenizer retracts the old manifest before it
// replaces the files: a run that dies between tokenizer.json and the manifest (here, a folder in
// the way of tokenizer_config.json) leaves no manifest describing files it no longer matches.
TEST_F(TokenizerCli, RetrainRetractsTheOldManifestFirst) {
  ok("tokenizer train " + f("c.jsonl") + " -o " + f("tok") + " --vocab-size 300 --min-frequency 1");
  ASSERT_TRUE(fs::exists(f("tok/manifest.json")));
  fs::remove(f("tok/tokenizer_config.json"));
  write_text(f("tok/tokenizer_config.json/blocker"), "x");
  bad("tokenizer train " + f("c.jsonl") + " -o " + f("tok") + " --vocab-size 320 --min-frequency 1", 1,
      "tokenizer_config.json");
  EXPECT_EQ(Tokenizer::load(f("tok/tokenizer.json")).vocab_size(), 320u);  // the new one was written
  EXPECT_FALSE(fs::exists(f("tok/manifest.json")));
}

TEST_F(TokenizerCli, TrainOptionsShapeTheVocabulary) {
  // SentencePiece mode: <unk> <s> </s>, byte fallback for unseen characters, round trip.
  ok("tokenizer train " + f("c.jsonl") + " -o " + f("sp") + " --mode sentencepiece --vocab-size 700 --min-frequency 1");
  Tokenizer sp = Tokenizer::load(f("sp"));
  EXPECT_EQ(sp.vocab_size(), 700u);
  EXPECT_EQ(sp.token_id("<unk>"), 0u);
  EXPECT_EQ(sp.token_id("<s>"), 1u);
  EXPECT_EQ(sp.token_id("</s>"), 2u);
  for (auto& d : jdocs) EXPECT_EQ(sp.decode(sp.encode(d.text)), d.text);
  auto emoji = sp.encode("🙂");
  ASSERT_FALSE(emoji.empty());
  size_t fallback = 0;
  for (uint32_t id : emoji) fallback += sp.is_byte_fallback(id);
  EXPECT_EQ(fallback, 4u);  // the emoji's four UTF-8 bytes
  EXPECT_EQ(sp.decode(emoji), "🙂");

  // Own specials, reserved tokens and whitespace runs after the learned vocabulary; GPT-2 rule.
  Tokenizer t = train("custom", "--pretokenizer gpt2 --reserved 2 --whitespace-runs 4 --special '<|bos|>' '<|eos|>'");
  EXPECT_EQ(t.vocab_size(), 400u);
  std::vector<uint32_t> tail;
  for (const char* s : {"<|bos|>", "<|eos|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>"})
    tail.push_back(t.token_id(s));
  for (size_t i = 0; i < tail.size(); ++i) EXPECT_NE(tail[i], tokenizer::kNoToken) << i;
  EXPECT_EQ(t.token_id("<|begin_of_text|>"), tokenizer::kNoToken);
  EXPECT_GE(*std::min_element(tail.begin(), tail.end()), 390u);
  auto ws = t.encode("x    y");  // the run is an added token, matched before the split rule
  ASSERT_EQ(ws.size(), 3u);
  EXPECT_EQ(t.decode({ws[1]}), "    ");
  for (auto& d : jdocs) EXPECT_EQ(t.decode(t.encode(d.text)), d.text);
}

TEST_F(TokenizerCli, EncodeDecodeRoundTripThroughStdinAndArguments) {
  Tokenizer tok = train("tok");
  const std::string tj = f("tok/tokenizer.json");
  // Arguments: one line of ids per text, the same ids as the library.
  auto r = ok("tokenizer encode -t " + f("tok") + " " + quote("héllo 世界") + " " + quote("สวัสดี ครับ"));
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  auto ids_line = [](const std::vector<uint32_t>& ids) {
    std::string s;
    for (uint32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
    return s;
  };
  EXPECT_EQ(lines[0], ids_line(tok.encode("héllo 世界")));
  EXPECT_EQ(lines[1], ids_line(tok.encode("สวัสดี ครับ")));
  r = ok("tokenizer encode -t " + tj + " --add-special " + quote("héllo"));
  EXPECT_EQ(r.out, ids_line(tok.encode("héllo", true)) + "\n");
  EXPECT_EQ(r.out.rfind(std::to_string(tok.token_id("<|begin_of_text|>")) + " ", 0), 0u) << r.out;
  r = ok("tokenizer encode -t " + tj + " --tokens " + quote("héllo 世界"));
  std::string expect;
  for (uint32_t id : tok.encode("héllo 世界")) expect += (expect.empty() ? "" : " ") + tok.token_text(id);
  EXPECT_EQ(r.out, expect + "\n");

  // stdin: every line (CJK, Thai, empty, tabs, invalid UTF-8) encodes to one line of ids, and
  // decoding those lines gives the text back, with invalid UTF-8 repaired to U+FFFD.
  std::string input;
  for (auto& d : jdocs) input += d.text + "\n";
  input += "\n\ttab\tand  two spaces \nbad \xff\xfe utf-8 \xc3\n末尾";  // last line without newline
  write_text(f("in.txt"), input);
  r = ok("tokenizer encode -t " + tj + " < " + f("in.txt"));
  write_text(f("ids.txt"), r.out);
  auto in_lines = lines_of(input);
  ASSERT_EQ(lines_of(r.out).size(), in_lines.size());
  r = ok("tokenizer decode -t " + tj + " < " + f("ids.txt"));
  auto out_lines = lines_of(r.out);
  ASSERT_EQ(out_lines.size(), in_lines.size());
  for (size_t i = 0; i + 2 < in_lines.size(); ++i) EXPECT_EQ(out_lines[i], in_lines[i]) << i;
  EXPECT_EQ(out_lines[in_lines.size() - 2], "bad \xEF\xBF\xBD\xEF\xBF\xBD utf-8 \xEF\xBF\xBD");
  EXPECT_EQ(out_lines.back(), "末尾");

  // decode with ids as arguments, with and without special tokens.
  auto ids = tok.encode("市场 market", true);
  std::string args;
  for (uint32_t id : ids) args += " " + std::to_string(id);
  r = ok("tokenizer decode -t " + tj + args);
  EXPECT_EQ(r.out, "<|begin_of_text|>市场 market\n");
  r = ok("tokenizer decode -t " + tj + " --skip-special" + args);
  EXPECT_EQ(r.out, "市场 market\n");
  r = ok("tokenizer decode -t " + tj + " " + quote(ids_line(tok.encode("a b"))));  // one quoted argument
  EXPECT_EQ(r.out, "a b\n");
  // Ids as lists and ranges, written one way everywhere (opt::parse_id_list).
  auto ab = tok.encode("ab cd");
  std::string list;
  for (uint32_t id : ab) list += (list.empty() ? "" : ",") + std::to_string(id);
  EXPECT_EQ(ok("tokenizer decode -t " + tj + " " + list).out, "ab cd\n");
  EXPECT_EQ(ok("tokenizer decode -t " + tj + " 97-99").out, tok.decode({97, 98, 99}) + "\n");
}

TEST_F(TokenizerCli, EncodeTakesEachTextLiterally) {
  // CLI11 reads "[...]" as a list for vector arguments: "[Uile]" was encoded as "Uile" and printed
  // as "U ile". Every argument is one text, exactly as typed, in any script.
  Tokenizer tok = train("tok");
  const std::vector<std::string> texts = {
      "[Uile]", "a,b", "[a,b]", "[", "]", "Tá an aimsir go breá [inniu], a chara.", "ภาษาไทย [ไทย], ครับ",
      "佢哋[今日]去咗飲茶，好開心。", "-5 degrees"};
  std::string args;
  for (auto& t : texts) args += " " + quote(t);
  auto r = ok("tokenizer encode -t " + f("tok") + " --tokens --" + args);
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), texts.size()) << r.out;
  for (size_t i = 0; i < texts.size(); ++i) {
    SCOPED_TRACE(texts[i]);
    std::string want;
    for (uint32_t id : tok.encode(texts[i])) want += (want.empty() ? "" : " ") + tok.token_text(id);
    EXPECT_EQ(lines[i], want);
  }
  // The ids decode back to each text.
  r = ok("tokenizer encode -t " + f("tok") + args.substr(0, args.rfind(" '-5")));
  lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), texts.size() - 1);
  for (size_t i = 0; i + 1 < texts.size(); ++i)
    EXPECT_EQ(ok("tokenizer decode -t " + f("tok") + " " + quote(lines[i])).out, texts[i] + "\n");
  EXPECT_NE(ok("tokenizer encode -t " + f("tok") + " --tokens '[Uile]'").out, "U ile\n");
}

TEST_F(TokenizerCli, StatsReportsPerLanguageFigures) {
  Tokenizer bl = train("bl");
  ok("tokenizer train " + f("c.jsonl") + " -o " + f("sp") + " --mode sentencepiece --vocab-size 700 --min-frequency 1");
  Tokenizer sp = Tokenizer::load(f("sp"));
  auto r = ok("tokenizer stats " + f("c.jsonl") + " -t " + f("bl") + " -t " + f("sp/tokenizer.json") +
              " --reference en --json");
  json j = json::parse(r.out);
  ASSERT_EQ(j.at("tokenizers").size(), 2u);
  const json& langs = j.at("languages");
  ASSERT_EQ(langs.size(), sentences().size()) << r.out;
  // Expected docs, bytes and tokens per language from the corpus itself.
  std::map<std::string, std::array<uint64_t, 4>> want;  // docs, bytes, bl tokens, sp tokens
  for (auto& d : jdocs) {
    auto& w = want[d.lang];
    w[0] += 1;
    w[1] += d.text.size();
    w[2] += bl.encode(d.text).size();
    w[3] += sp.encode(d.text).size();
  }
  for (auto& [lang, w] : want) {
    SCOPED_TRACE(lang);
    ASSERT_TRUE(langs.contains(lang));
    ASSERT_EQ(langs[lang].size(), 2u);
    for (size_t t = 0; t < 2; ++t) {
      const json& s = langs[lang][t];
      EXPECT_EQ(s.at("docs"), w[0]);
      EXPECT_EQ(s.at("bytes"), w[1]);
      EXPECT_EQ(s.at("tokens"), w[2 + t]);
      uint64_t words = s.at("words");
      EXPECT_GT(words, 0u);
      EXPECT_NEAR(s.at("fertility").get<double>(), double(w[2 + t]) / words, 1e-4);
      EXPECT_NEAR(s.at("bytes_per_token").get<double>(), double(w[1]) / w[2 + t], 1e-4);
      EXPECT_EQ(s.at("unknown_rate"), 0.0);
      // All documents are parallel, so parity is the token ratio against English.
      EXPECT_NEAR(s.at("parity").get<double>(), double(w[2 + t]) / want["en"][2 + t], 1e-5);
    }
  }
  EXPECT_EQ(langs["en"][0].at("parity"), 1.0);
  // The table: a header and one row per language and tokenizer.
  r = ok("tokenizer stats " + f("c.jsonl") + " -t " + f("bl") + " -t " + f("sp"));
  EXPECT_NE(r.out.find("fertility"), std::string::npos);
  EXPECT_EQ(lines_of(r.out).size(), 2 + 1 + 2 * sentences().size()) << r.out;
  // --lang puts every document under one language; --max-docs stops early; plain text works.
  j = json::parse(ok("tokenizer stats " + f("c.jsonl") + " -t " + f("bl") + " --lang xx --max-docs 7 --json").out);
  ASSERT_EQ(j.at("languages").size(), 1u);
  EXPECT_EQ(j["languages"]["xx"][0]["docs"], 7);
  j = json::parse(ok("tokenizer stats " + f("c.txt") + " -t " + f("bl") + " --json").out);
  EXPECT_EQ(j["languages"]["und"][0]["docs"], tdocs.size());
}

TEST_F(TokenizerCli, ExtendAddsTokensAndKeepsOldIds) {
  // Base: English only. Target: Chinese, Japanese and Thai.
  std::string en, target;
  for (int i = 0; i < 30; ++i) en += sentences().at("en")[i % 3] + " " + std::to_string(i) + "\n\n";
  write_text(f("en.txt"), en);
  std::vector<Doc> tdocs_cjk;
  for (auto& d : jdocs)
    if (d.lang == "zh" || d.lang == "ja" || d.lang == "th") tdocs_cjk.push_back(d);
  write_text(f("target.jsonl"), to_jsonl(tdocs_cjk));
  ok("tokenizer train " + f("en.txt") + " -o " + f("base") + " --vocab-size 300 --min-frequency 1");
  Tokenizer base = Tokenizer::load(f("base"));
  auto r = ok("tokenizer extend " + f("target.jsonl") + " -t " + f("base") + " -o " + f("ext") + " --new-tokens 40");
  EXPECT_NE(r.out.find("added 40 tokens (vocab now 340)"), std::string::npos) << r.out;
  Tokenizer ext = Tokenizer::load(f("ext"));
  EXPECT_EQ(ext.vocab_size(), base.vocab_size() + 40);
  for (const char* s : {"<|begin_of_text|>", "<|end_of_text|>"}) EXPECT_EQ(ext.token_id(s), base.token_id(s)) << s;

  json added = json::parse(read_text(f("ext/new_tokens.json")));
  ASSERT_EQ(added.size(), 40u);
  std::set<uint32_t> ids;
  for (auto& a : added) {
    uint32_t id = a.at("id");
    ids.insert(id);
    EXPECT_GE(id, base.vocab_size());
    EXPECT_LT(id, ext.vocab_size());
    EXPECT_EQ(a.at("token"), ext.token_text(id));
    std::vector<uint32_t> pieces = a.at("pieces");
    ASSERT_GE(pieces.size(), 2u) << id;
    for (uint32_t p : pieces) EXPECT_LT(p, base.vocab_size());
    // The old pieces spell the new token (as bytes: a new token may be part of a character).
    std::string a_bytes, b_bytes;
    for (uint32_t p : pieces) a_bytes += base.model.tokens[p];
    b_bytes = ext.model.tokens[id];
    EXPECT_EQ(a_bytes, b_bytes) << id;
  }
  EXPECT_EQ(ids.size(), 40u);
  EXPECT_EQ(*ids.begin(), base.vocab_size());
  EXPECT_EQ(*ids.rbegin(), base.vocab_size() + 39);
  // Old text keeps its ids; target text gets shorter; everything round-trips.
  for (auto& d : jdocs) {
    if (d.lang == "en") {
      EXPECT_EQ(ext.encode(d.text), base.encode(d.text)) << d.text;
    }
    EXPECT_EQ(ext.decode(ext.encode(d.text)), d.text);
  }
  size_t before = 0, after = 0;
  for (auto& d : tdocs_cjk) {
    before += base.encode(d.text).size();
    after += ext.encode(d.text).size();
  }
  EXPECT_LT(after, before * 9 / 10);
  json manifest = json::parse(read_text(f("ext/manifest.json")));
  EXPECT_NE(manifest.dump().find("new_tokens.json"), std::string::npos);
  EXPECT_EQ(manifest["stats"]["requested_tokens"], 40);
  EXPECT_EQ(manifest["stats"]["added_tokens"], 40);
  EXPECT_EQ(manifest["stats"]["shortfall"], "");
  // The base tokenizer is an input of the extension, with its hash.
  EXPECT_EQ(manifest["inputs"].back()["path"], f("base") + "/tokenizer.json");
}

TEST_F(TokenizerCli, ExtendKeepsTheBaseTokenizerConfig) {
  ok("tokenizer train " + f("c.txt") + " -o " + f("base") + " --vocab-size 300 --min-frequency 1");
  // A base config as HF writes it for a chat model: keys nativelm never writes itself.
  json config = json::parse(read_text(f("base/tokenizer_config.json")));
  config["bos_token"] = "<|begin_of_text|>";
  config["chat_template"] = "{% for m in messages %}{{ m['content'] }}{% endfor %}";
  config["model_input_names"] = {"input_ids", "attention_mask"};
  config["clean_up_tokenization_spaces"] = true;
  config["padding_side"] = "left";
  const std::string base_config = config.dump(2) + "\n";
  write_text(f("base/tokenizer_config.json"), base_config);
  auto r = ok("tokenizer extend " + f("c.jsonl") + " -t " + f("base") + " -o " + f("ext") + " --new-tokens 20");
  // Extension adds model tokens, not added tokens: every key stays, byte for byte.
  EXPECT_EQ(read_text(f("ext/tokenizer_config.json")), base_config);
  // The same through a path to the base's tokenizer.json.
  ok("tokenizer extend " + f("c.jsonl") + " -t " + f("base/tokenizer.json") + " -o " + f("ext2") + " --new-tokens 20");
  json got = json::parse(read_text(f("ext2/tokenizer_config.json")));
  EXPECT_EQ(got["chat_template"], config["chat_template"]);
  EXPECT_EQ(got["model_input_names"], config["model_input_names"]);
  EXPECT_EQ(got["clean_up_tokenization_spaces"], true);
  EXPECT_EQ(got["bos_token"], "<|begin_of_text|>");
  EXPECT_EQ(got["padding_side"], "left");
  // A stale added_tokens_decoder is brought up to date; the other keys stay.
  config["added_tokens_decoder"] = json::object();
  write_text(f("base/tokenizer_config.json"), config.dump(2));
  ok("tokenizer extend " + f("c.jsonl") + " -t " + f("base") + " -o " + f("ext3") + " --new-tokens 20");
  got = json::parse(read_text(f("ext3/tokenizer_config.json")));
  EXPECT_EQ(got["added_tokens_decoder"].size(), 2u);
  EXPECT_EQ(got["added_tokens_decoder"]["299"]["content"], "<|end_of_text|>");
  EXPECT_EQ(got["chat_template"], config["chat_template"]);
  // A broken base config is a usage error before anything is written.
  write_text(f("base/tokenizer_config.json"), "{\"bos_token\":");
  bad("tokenizer extend " + f("c.jsonl") + " -t " + f("base") + " -o " + f("ext4") + " --new-tokens 20", 2,
      "invalid JSON");
  EXPECT_FALSE(fs::exists(f("ext4/tokenizer.json")));
}

TEST_F(TokenizerCli, ExtendRefusesToOverwriteItsBase) {
  ok("tokenizer train " + f("c.txt") + " -o " + f("base") + " --vocab-size 300 --min-frequency 1");
  const std::string before = read_text(f("base/tokenizer.json"));
  for (const std::string& out : {f("base"), f("base") + "/", f("base") + "/.", f("base") + "/../base"}) {
    bad("tokenizer extend " + f("c.jsonl") + " -t " + f("base") + " -o " + out, 2, "--output is the base tokenizer's folder");
    bad("tokenizer extend " + f("c.jsonl") + " -t " + f("base/tokenizer.json") + " -o " + out, 2,
        "--output is the base tokenizer's folder");
  }
  // Through a symbolic link too (canonical paths are compared).
  fs::create_directory_symlink(f("base"), f("alias"));
  bad("tokenizer extend " + f("c.jsonl") + " -t " + f("alias") + " -o " + f("base"), 2, "base tokenizer's folder");
  EXPECT_TRUE(read_text(f("base/tokenizer.json")) == before);
  EXPECT_FALSE(fs::exists(f("base/new_tokens.json")));
}

TEST_F(TokenizerCli, ExtendSaysWhyItAddedFewerTokensThanAsked) {
  ok("tokenizer train " + f("c.txt") + " -o " + f("base") + " --vocab-size 300 --min-frequency 1");
  // Few documents: merges run out of pairs that occur min_frequency (here 20) times.
  auto r = ok("tokenizer extend " + f("c.jsonl") + " -t " + f("base") + " -o " + f("ext") +
              " --new-tokens 8000 --min-frequency 20");
  json manifest = json::parse(read_text(f("ext/manifest.json")));
  const int added = manifest["stats"]["added_tokens"];
  EXPECT_GT(added, 0);
  EXPECT_LT(added, 8000);
  EXPECT_EQ(json::parse(read_text(f("ext/new_tokens.json"))).size(), static_cast<size_t>(added));
  EXPECT_EQ(manifest["stats"]["requested_tokens"], 8000);
  EXPECT_EQ(manifest["stats"]["stop"], "min_frequency");
  EXPECT_LT(manifest["stats"]["stop_count"].get<int>(), 20);
  const std::string why = manifest["stats"]["shortfall"];
  EXPECT_NE(why.find("min_frequency (20)"), std::string::npos) << why;
  EXPECT_NE(r.out.find("added " + std::to_string(added) + " of 8000 tokens"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(why), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("added " + std::to_string(added) + " of 8000 tokens: " + why), std::string::npos) << r.err;
  // With min_frequency 1 the pairs themselves run out: every word becomes one token.
  r = ok("tokenizer extend " + f("c.jsonl") + " -t " + f("base") + " -o " + f("ext1") +
         " --new-tokens 100000 --min-frequency 1");
  manifest = json::parse(read_text(f("ext1/manifest.json")));
  EXPECT_EQ(manifest["stats"]["stop"], "no_pairs");
  EXPECT_NE(manifest["stats"]["shortfall"].get<std::string>().find("no mergeable pair is left"), std::string::npos);
  // train says the same when the vocabulary ends below --vocab-size.
  r = ok("tokenizer train " + f("c.txt") + " -o " + f("big") + " --vocab-size 100000 --min-frequency 1");
  EXPECT_NE(r.out.find("of the 100000 tokens asked for: no mergeable pair is left"), std::string::npos) << r.out;
  manifest = json::parse(read_text(f("big/manifest.json")));
  EXPECT_EQ(manifest["stats"]["requested_vocab_size"], 100000);
  EXPECT_LT(manifest["stats"]["vocab_size"].get<int>(), 100000);
}

TEST_F(TokenizerCli, TrainRejectsBadInput) {
  bad("tokenizer train " + f("missing.txt") + " -o " + f("o"), 2, "input not found");
  bad("tokenizer train " + f("c.txt"), 2, "--output");
  // Flag values (flags, then the fragment the error line must contain); huge counts are refused
  // up front instead of building billions of token strings.
  const std::vector<std::pair<std::string, std::string>> flags = {
      {"--vocab-size abc", "--vocab-size"},
      {"--vocab-size -5", "--vocab-size"},
      {"--vocab-size 100", "--vocab-size"},
      {"--vocab-size 4000000000", "--vocab-size"},
      {"--reserved 4000000000", "--vocab-size"},
      {"--whitespace-runs 100000", "--whitespace-runs"},
      {"--mode bpe", "--mode"},
      {"--pretokenizer bert", "--pretokenizer"},
      {"--pretokenizer gpt2 --split-digits", "--split-digits"},
      {"--lang-alpha nan", "--lang-alpha"},
      {"--lang-alpha -1", "--lang-alpha"},
      {"--lang-alpha 10", "--lang-alpha"},
      {"--mode sentencepiece --char-coverage 2", "--char-coverage"},
      {"--mode sentencepiece --char-coverage 0", "--char-coverage"},
      {"--special ''", "empty special token"},
      {"--special '<s>' '</s>' '<s>'", "'<s>' given twice"},
      {"--format xml", "--format"},
      {"--text-mode words", "--text-mode"},
  };
  for (auto& [flag, fragment] : flags) bad("tokenizer train " + f("c.txt") + " -o " + f("o") + " " + flag, 2, fragment);
  EXPECT_FALSE(fs::exists(f("o")));
  bad("tokenizer train " + f("c.txt") + " -o " + f("c.txt") + "/sub", 1, "c.txt");
  bad("tokenizer train " + f("c.txt") + " -o ''", 2, "empty output folder");
  // An empty corpus (no file content, or only blank lines) trains nothing: an error, no output.
  write_text(f("empty.txt"), "");
  write_text(f("blank.txt"), "\n\n   \n\n");
  bad("tokenizer train " + f("empty.txt") + " -o " + f("e1"), 1, "no documents");
  bad("tokenizer train " + f("blank.txt") + " -o " + f("e2") + " --mode sentencepiece", 1, "no documents");
  EXPECT_FALSE(fs::exists(f("e1/tokenizer.json")));
}

TEST_F(TokenizerCli, EncodeDecodeRejectBadTokenizersAndIds) {
  train("tok");
  const std::string tj = f("tok/tokenizer.json");
  bad("tokenizer encode -t " + f("missing.json") + " hi", 1, "missing.json");
  fs::create_directories(f("emptydir"));
  bad("tokenizer encode -t " + f("emptydir") + " hi", 1, "emptydir/tokenizer.json");
  bad("tokenizer encode hi", 2, "--tokenizer");
  bad("tokenizer encode -t '' hi", 2, "empty tokenizer path");
  bad("tokenizer decode -t " + f("missing") + " 1", 1, "missing/tokenizer.json");
  // Corrupt tokenizer.json files, from a truncated copy of a real one to wrong ids and types.
  std::string good = read_text(tj);
  const std::string model = R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]})";
  struct Corrupt {
    std::string text, fragment;
    int code = 2;
  };
  const std::vector<Corrupt> corrupt = {
      {good.substr(0, good.size() / 2), "invalid JSON"},
      {"not json", "invalid JSON"},
      {"{}", "malformed tokenizer.json"},
      {"[]", "malformed tokenizer.json"},
      {R"({"model":{"type":"WordPiece","vocab":{}}})", "WordPiece"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]}})", "merge refers to tokens missing", 1},
      {R"({"model":{"type":"BPE","vocab":{"a":"0"},"merges":[]}})", "token id \"0\""},
      {R"({"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}})", "token id"},
      {R"({"model":{"type":"BPE","vocab":{"a":4294967295},"merges":[]}})", "token id"},
      {R"({"model":{"type":"BPE","vocab":{"a":3000000000},"merges":[]}})", "token id"},
      {R"({"model":{"type":"BPE","vocab":{"a":0.5},"merges":[]}})", "token id"},
      {model + R"(,"added_tokens":[{"id":9999999999,"content":"<x>"}]})", "token id"},
      {model + R"(,"added_tokens":[{"id":-3,"content":"<x>"}]})", "token id"},
      {model + R"(,"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"X"}},)"
                   R"({"Sequence":{"id":"A"}}],"special_tokens":{"X":{"ids":[99]}}}})",
       "token id"},
      {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"\xff\":0},\"merges\":[]}}", "invalid JSON"},
  };
  for (size_t i = 0; i < corrupt.size(); ++i) {
    std::string path = f("bad" + std::to_string(i) + ".json");
    write_text(path, corrupt[i].text);
    bad("tokenizer encode -t " + path + " ab", corrupt[i].code, corrupt[i].fragment);
  }
  bad("tokenizer decode -t " + f("bad0.json") + " 1", 2, "invalid JSON");
  // Ids that are not ids of the vocabulary.
  // Ids are parsed by opt::parse_id_list, range-checked against the vocabulary (400 tokens).
  bad("tokenizer decode -t " + tj + " 400", 2, "ids holds id 400, outside the vocabulary of 400");
  bad("tokenizer decode -t " + tj + " 1,400", 2, "outside the vocabulary of 400");
  bad("tokenizer decode -t " + tj + " 398-401", 2, "outside the vocabulary of 400");
  bad("tokenizer decode -t " + tj + " 1 abc", 2, "'abc'");
  bad("tokenizer decode -t " + tj + " -- -1", 2, "'-1'");
  bad("tokenizer decode -t " + tj + " 99999999999999999999999", 2, "ids is out of range");
  bad("tokenizer decode -t " + tj + " 1,,2", 2, "empty id");
  write_text(f("ids.txt"), "1 2\n3 x\n");
  bad("tokenizer decode -t " + tj + " < " + f("ids.txt"), 2, "'x'");
  write_text(f("ids.txt"), "1 2\n3 400\n");
  bad("tokenizer decode -t " + tj + " < " + f("ids.txt"), 2, "outside the vocabulary of 400");
  bad("tokenizer encode -t " + tj + " --frobnicate hi", 2, "frobnicate");
}

TEST_F(TokenizerCli, StatsAndExtendRejectBadInput) {
  train("tok");
  write_text(f("empty.jsonl"), "");
  write_text(f("bad.json"), "{\"model\":");
  // stats
  bad("tokenizer stats " + f("missing.jsonl") + " -t " + f("tok"), 2, "input not found");
  bad("tokenizer stats " + f("c.jsonl") + " -t " + f("nowhere"), 1, "nowhere/tokenizer.json");
  bad("tokenizer stats " + f("c.jsonl") + " -t " + f("bad.json"), 2, "invalid JSON");
  bad("tokenizer stats " + f("c.jsonl"), 2, "--tokenizer");
  bad("tokenizer stats " + f("c.jsonl") + " -t " + f("tok") + " --max-docs many", 2, "--max-docs");
  bad("tokenizer stats " + f("empty.jsonl") + " -t " + f("tok"), 1, "no documents");
  bad("tokenizer stats " + f("c.jsonl") + " -t " + f("tok") + " --reference qq", 2, "--reference");
  // extend
  bad("tokenizer extend " + f("c.jsonl") + " -t " + f("nowhere") + " -o " + f("x"), 1, "nowhere/tokenizer.json");
  bad("tokenizer extend " + f("c.jsonl") + " -t " + f("bad.json") + " -o " + f("x"), 2, "invalid JSON");
  bad("tokenizer extend " + f("c.jsonl") + " -t " + f("tok"), 2, "--output");
  bad("tokenizer extend " + f("c.jsonl") + " -t " + f("tok") + " -o " + f("x") + " --new-tokens -1", 2, "--new-tokens");
  bad("tokenizer extend " + f("c.jsonl") + " -t " + f("tok") + " -o " + f("x") + " --new-tokens 0", 2, "--new-tokens");
  bad("tokenizer extend " + f("c.jsonl") + " -t " + f("tok") + " -o " + f("x") + " --lang-alpha nan", 2,
      "--lang-alpha");
  bad("tokenizer extend " + f("empty.jsonl") + " -t " + f("tok") + " -o " + f("x"), 1, "no documents");
  bad("tokenizer extend " + f("c.jsonl") + " -t " + f("tok") + " -o ''", 2, "empty output folder");
  EXPECT_FALSE(fs::exists(f("x/tokenizer.json")));
}

// Corrupted copies of a real tokenizer.json either load or fail with nlm::Error; what loads
// encodes to ids inside its vocabulary and decodes without crashing.
TEST(TokenizerJsonCorruption, FailsCleanlyOrLoads) {
  TempDir dir;
  write_text(dir.file("c.jsonl"), to_jsonl(jsonl_docs(4)));
  auto r = run_nativelm("tokenizer train " + dir.file("c.jsonl") + " -o " + dir.file("tok") +
                            " --vocab-size 300 --min-frequency 1",
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string good = read_text(dir.file("tok/tokenizer.json"));
  std::vector<size_t> numbers;  // positions of numbers
  for (size_t i = 1; i < good.size(); ++i)
    if (std::isdigit(static_cast<unsigned char>(good[i])) && !std::isdigit(static_cast<unsigned char>(good[i - 1])) &&
        (good[i - 1] == ' ' || good[i - 1] == ':' || good[i - 1] == '[' || good[i - 1] == ','))
      numbers.push_back(i);
  ASSERT_GT(numbers.size(), 100u);
  std::mt19937 rng(7);
  std::vector<std::string> variants;
  for (int k = 0; k < 60; ++k) {
    size_t at = numbers[rng() % numbers.size()];
    size_t end = at;
    while (end < good.size() && std::isdigit(static_cast<unsigned char>(good[end]))) ++end;
    for (const char* v : {"-1", "4294967295", "4294967296", "2999999999", "0", "1e3", "\"7\"", "null", "123456"})
      variants.push_back(good.substr(0, at) + v + good.substr(end));
  }
  for (int k = 0; k < 40; ++k) variants.push_back(good.substr(0, rng() % good.size()));
  for (int k = 0; k < 40; ++k) {
    std::string s = good;
    s[rng() % s.size()] = "{}[]\":, x\\"[rng() % 10];
    variants.push_back(s);
  }
  size_t loaded = 0;
  for (auto& v : variants) {
    try {
      Tokenizer t = Tokenizer::from_json(v, "variant");
      ++loaded;
      for (std::string s : {"The quick brown fox 123", "敏捷的棕色狐狸", "สุนัข", "\xff"}) {
        auto ids = t.encode(s, true);
        for (uint32_t id : ids) ASSERT_LT(id, t.vocab_size());
        (void)t.decode(ids);
      }
    } catch (const nlm::Error&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not an nlm::Error: " << e.what();
    }
  }
  EXPECT_GT(loaded, 0u);
  EXPECT_LT(loaded, variants.size());
}

}  // namespace
}  // namespace nlm::testing
