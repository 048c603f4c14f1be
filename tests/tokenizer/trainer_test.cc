// BPE trainer: merges on hand-checkable counts, 64-bit counts beyond 2^32, determinism across
// thread counts, both modes round-trip, and HF tokenizers loads what we write and encodes the
// same ids (when node and the npm peers are installed).
#include "tokenizer/trainer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/runtime.h"
#include "test_strings.h"
#include "test_util.h"

namespace {

using namespace nlm::tokenizer;

std::vector<std::string> merge_strings(const Tokenizer& t) {
  std::vector<std::string> out;
  for (auto& m : t.model.merges) out.push_back(t.model.tokens[m.left] + " " + t.model.tokens[m.right]);
  return out;
}

TEST(Trainer, MergesMostFrequentPairFirst) {
  TrainOptions o;
  o.vocab_size = 256 + 2 + 2;
  o.min_frequency = 1;
  o.rule = SplitRule::None;
  auto t = train_bpe_from_counts({{"ab", 10}, {"abc", 5}, {"bc", 1}}, o);
  EXPECT_EQ(merge_strings(t), (std::vector<std::string>{"a b", "ab c"}));
  EXPECT_EQ(t.vocab_size(), o.vocab_size);
  EXPECT_EQ(t.token_text(258), "<|begin_of_text|>");
  EXPECT_EQ(t.encode("abc", true), (std::vector<uint32_t>{258, 257}));
}

TEST(Trainer, CountsBeyond32BitsAndTiesByPairIds) {
  TrainOptions o;
  o.vocab_size = 256 + 2 + 2;
  o.rule = SplitRule::None;
  // (x,y) = 8e9 wins; then (xy,z) and (y,z) tie at 3e9 and the smaller pair of ids, (y,z), wins.
  auto t = train_bpe_from_counts({{"xy", 5'000'000'000ull}, {"yz", 3'000'000'000ull}, {"xyz", 3'000'000'000ull}}, o);
  EXPECT_EQ(merge_strings(t), (std::vector<std::string>{"x y", "y z"}));
}

TEST(Trainer, MinFrequencyStopsEarly) {
  TrainOptions o;
  o.vocab_size = 1000;
  o.min_frequency = 6;
  o.rule = SplitRule::None;
  auto t = train_bpe_from_counts({{"ab", 10}, {"cd", 5}}, o);
  EXPECT_EQ(merge_strings(t), (std::vector<std::string>{"a b"}));
}

TEST(Trainer, MaxTokenBytes) {
  TrainOptions o;
  o.vocab_size = 300;
  o.min_frequency = 1;
  o.max_token_bytes = 2;
  o.rule = SplitRule::None;
  auto t = train_bpe_from_counts({{"abcd", 10}}, o);
  for (auto& m : t.model.merges) EXPECT_LE(t.model.tokens[m.merged].size(), 2u);
}

std::string write_corpus(const nlm::testing::TempDir& dir) {
  std::string jsonl;
  auto lines = nlm::testing::fortune_lines(3000);
  for (auto& s : nlm::testing::handpicked_strings()) lines.push_back(s);
  size_t i = 0;
  for (auto& s : lines) jsonl += nlohmann::json({{"text", s}, {"lang", i++ % 3 ? "xx" : "yy"}}).dump() + "\n";
  nlm::testing::write_text(dir.file("corpus.jsonl"), jsonl);
  return dir.file("corpus.jsonl");
}

TEST(Trainer, DeterministicAcrossThreadCounts) {
  nlm::testing::TempDir dir;
  std::string corpus = write_corpus(dir);
  TrainOptions o;
  o.vocab_size = 1200;
  o.lang_alpha = 0.5;
  std::string a, b;
  nlm::set_runtime_options({1, true});
  a = train_bpe({corpus}, o).to_json();
  nlm::set_runtime_options({3, true});
  b = train_bpe({corpus}, o).to_json();
  nlm::set_runtime_options({0, true});
  EXPECT_EQ(a, b);
}

class TrainedVsHf : public ::testing::TestWithParam<TrainMode> {};

TEST_P(TrainedVsHf, RoundTripsAndHfGivesSameIds) {
  nlm::testing::TempDir dir;
  std::string corpus = write_corpus(dir);
  TrainOptions o;
  o.mode = GetParam();
  o.vocab_size = 2000;
  o.reserved_tokens = 3;
  if (o.mode == TrainMode::ByteLevel) o.whitespace_runs = 4;
  TrainStats stats;
  Tokenizer t = train_bpe({corpus}, o, &stats);
  EXPECT_EQ(t.vocab_size(), o.vocab_size);
  EXPECT_GT(stats.merges, 500u);
  auto strings = nlm::testing::random_unicode_strings(500, 3);
  for (auto& s : nlm::testing::handpicked_strings()) strings.push_back(s);
  for (auto& s : nlm::testing::fortune_lines(200)) strings.push_back(s);
  for (auto& s : strings) {
    if (o.mode == TrainMode::SentencePiece && s.find("<") != std::string::npos) continue;
    EXPECT_EQ(t.decode(t.encode(s)), s);
  }
  t.save(dir.path() + "/tok");
  Tokenizer loaded = Tokenizer::load(dir.path() + "/tok");
  if (std::system("node --version >/dev/null 2>&1") != 0 ||
      !std::filesystem::exists(std::string(NATIVELM_SOURCE_DIR) + "/node_modules/tokenizers"))
    GTEST_SKIP() << "node or the npm `tokenizers` package is missing; run scripts/install-deps.sh";
  std::string in;
  for (auto& s : strings) in += nlohmann::json(s).dump() + "\n";
  nlm::testing::write_text(dir.file("in.jsonl"), in);
  std::string cmd = "node " + std::string(NATIVELM_SOURCE_DIR) + "/tests/tokenizer/hf_encode.js " + dir.path() +
                    "/tok/tokenizer.json " + dir.file("in.jsonl") + " > " + dir.file("out.jsonl");
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream expected(dir.file("out.jsonl"));
  std::string line;
  size_t i = 0, bad = 0;
  while (std::getline(expected, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["ids"].get<std::vector<uint32_t>>() != loaded.encode(strings[i]) ||
        j["special"].get<std::vector<uint32_t>>() != loaded.encode(strings[i], true))
      if (++bad <= 3) ADD_FAILURE() << "string " << i << ": " << nlohmann::json(strings[i]).dump();
    ++i;
  }
  EXPECT_EQ(i, strings.size());
  EXPECT_EQ(bad, 0u);
}

INSTANTIATE_TEST_SUITE_P(Modes, TrainedVsHf, ::testing::Values(TrainMode::ByteLevel, TrainMode::SentencePiece),
                         [](const auto& info) { return info.param == TrainMode::ByteLevel ? "ByteLevel" : "SentencePiece"; });

}  // namespace
