// The fixture of the CLI tests of `nativelm tokenizer ...` (tests/tokenizer/cli_test.cc) and of
// `nativelm tokenize` (tests/data/tokenize_cli_test.cc): a small multilingual corpus (Latin, CJK,
// Thai; plain text and JSONL with `lang` and parallel `id`s) in a scratch folder, and helpers that
// run the built binary and check success or the one-line error format.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace nlm::testing {


// Parallel sentences: the same id in every language.
inline const std::map<std::string, std::vector<std::string>>& sentences() {
  static const std::map<std::string, std::vector<std::string>> s = {
      {"en",
       {"The quick brown fox jumps over the lazy dog.", "We walked to the market and bought fresh bread.",
        "Tokenizers split text into pieces that models can read."}},
      {"de",
       {"Der schnelle braune Fuchs springt über den faulen Hund.", "Wir gingen zum Markt und kauften frisches Brot.",
        "Tokenisierer zerlegen Text in Stücke, die Modelle lesen können."}},
      {"zh", {"敏捷的棕色狐狸跳过了懒狗。", "我们走到市场买了新鲜的面包。", "分词器把文本切成模型能读的片段。"}},
      {"ja",
       {"素早い茶色の狐が怠け者の犬を飛び越える。", "私たちは市場まで歩いて新鮮なパンを買った。",
        "トークナイザーはテキストをモデルが読める断片に分ける。"}},
      {"th",
       {"สุนัขจิ้งจอกสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจ", "เราเดินไปตลาดและซื้อขนมปังสด",
        "ตัวตัดคำแบ่งข้อความเป็นชิ้นที่โมเดลอ่านได้"}},
  };
  return s;
}

struct Doc {
  std::string id, lang, text;
};

// Documents of the JSONL corpus, in file order: `rounds` rounds of every sentence in every language.
inline std::vector<Doc> jsonl_docs(int rounds) {
  std::vector<Doc> docs;
  for (int r = 0; r < rounds; ++r)
    for (size_t i = 0; i < 3; ++i)
      for (auto& [lang, v] : sentences())
        docs.push_back({"d" + std::to_string(r) + "-" + std::to_string(i), lang, v[i] + " " + std::to_string(r)});
  return docs;
}

inline std::string to_jsonl(const std::vector<Doc>& docs) {
  std::string s;
  for (auto& d : docs) s += nlohmann::json({{"id", d.id}, {"lang", d.lang}, {"text", d.text}}).dump() + "\n";
  return s;
}

// Paragraphs of the plain-text corpus (blank-line separated documents).
inline std::vector<std::string> text_docs() {
  std::vector<std::string> docs;
  for (int r = 0; r < 8; ++r)
    for (auto& [lang, v] : sentences()) docs.push_back(v[0] + " " + v[1] + " " + v[2] + " (" + std::to_string(r) + ")");
  return docs;
}

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

class TokenizerCli : public ::testing::Test {
 protected:
  TempDir dir;
  std::vector<Doc> jdocs = jsonl_docs(12);
  std::vector<std::string> tdocs = text_docs();

  void SetUp() override {
    write_text(dir.file("c.jsonl"), to_jsonl(jdocs));
    std::string t;
    for (auto& d : tdocs) t += d + "\n\n";
    write_text(dir.file("c.txt"), t);
  }
  std::string f(const std::string& name) const { return dir.file(name); }
  RunResult run(const std::string& args) {
    return run_nativelm(args.rfind("--threads", 0) == 0 ? args : "--threads 2 " + args, dir.path());
  }
  // Runs a command that must succeed.
  RunResult ok(const std::string& args) {
    auto r = run(args);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    EXPECT_EQ(r.err.find("error"), std::string::npos) << r.err;
    return r;
  }
  // Runs a command that must fail with `code` and one error line containing `fragment`.
  void bad(const std::string& args, int code, const std::string& fragment) {
    SCOPED_TRACE("nativelm " + args);
    auto r = run(args);
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_EQ(r.err.rfind("nativelm: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(!r.err.empty() && r.err.back() == '\n') << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
  }
  // Byte-level tokenizer trained on both corpora into DIR.
  tokenizer::Tokenizer train(const std::string& out, const std::string& extra = "") {
    ok("tokenizer train " + f("c.txt") + " " + f("c.jsonl") + " -o " + f(out) +
       " --vocab-size 400 --min-frequency 1 " + extra);
    return tokenizer::Tokenizer::load(f(out));
  }
};

}  // namespace nlm::testing
