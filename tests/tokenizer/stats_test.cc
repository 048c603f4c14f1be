// tokenizer stats: counts agree with direct encoding, parity against the reference language,
// byte-fallback rate on an unseen script, and two tokenizers side by side.
#include "tokenizer/stats.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tokenizer/trainer.h"

namespace {

using namespace nlm::tokenizer;

TEST(TokenizerStats, PerLanguageFiguresAndParity) {
  nlm::testing::TempDir dir;
  std::string train;
  for (int i = 0; i < 200; ++i)
    train += nlohmann::json({{"text", "the cat sat on the mat and the dog sat on the log " + std::to_string(i)}}).dump() + "\n";
  nlm::testing::write_text(dir.file("train.jsonl"), train);
  TrainOptions bl;
  bl.vocab_size = 300;
  train_bpe({dir.file("train.jsonl")}, bl).save(dir.file("bl"));
  TrainOptions sp = bl;
  sp.mode = TrainMode::SentencePiece;
  train_bpe({dir.file("train.jsonl")}, sp).save(dir.file("sp"));
  std::string eval =
      R"({"id":"1","lang":"en","text":"the cat sat on the mat"})" "\n"
      R"({"id":"1","lang":"zh","text":"猫坐在垫子上"})" "\n"
      R"({"id":"2","lang":"en","text":"the dog sat on the log"})" "\n"
      R"({"id":"2","lang":"zh","text":"狗坐在木头上"})" "\n";
  nlm::testing::write_text(dir.file("eval.jsonl"), eval);
  StatsOptions o;
  o.tokenizers = {dir.file("bl"), dir.file("sp")};
  o.reference_lang = "en";
  auto r = tokenizer_stats({dir.file("eval.jsonl")}, o);
  ASSERT_EQ(r.langs.size(), 2u);
  auto bl_tok = Tokenizer::load(dir.file("bl"));
  const LangStats& en = r.langs["en"][0];
  EXPECT_EQ(en.docs, 2u);
  EXPECT_EQ(en.words, 12u);
  EXPECT_EQ(en.tokens, bl_tok.encode("the cat sat on the mat").size() + bl_tok.encode("the dog sat on the log").size());
  EXPECT_DOUBLE_EQ(en.parity, 1.0);
  EXPECT_DOUBLE_EQ(en.fertility(), double(en.tokens) / en.words);
  const LangStats& zh_bl = r.langs["zh"][0];
  const LangStats& zh_sp = r.langs["zh"][1];
  EXPECT_GT(zh_bl.parity, 1.0);  // unseen script: byte-level falls back to single bytes
  EXPECT_EQ(zh_bl.byte_fallback, 0u);
  EXPECT_EQ(zh_sp.byte_fallback, 36u);  // 12 CJK characters x 3 bytes, none in the alphabet
  EXPECT_DOUBLE_EQ(zh_sp.continued(), 1.0);
  auto j = nlohmann::json::parse(r.to_json());
  EXPECT_EQ(j["languages"]["zh"].size(), 2u);
  EXPECT_NE(r.to_table().find("zh"), std::string::npos);
}

// The table prints fixed decimals rounded to nearest, parity included (it used to be cut:
// 1.23456 printed as 1.234, 12.3456 as 12.34).
TEST(TokenizerStats, TableRoundsItsFigures) {
  StatsReport r;
  r.tokenizers = {"t.json"};
  LangStats s;
  s.docs = 1;
  s.words = 3;
  s.tokens = 2;           // fertility 0.6667
  s.bytes = 5;            // bytes per token 2.5 -> "2.500"
  s.chars = 3;            // chars per token 1.5
  s.continued_words = 2;  // 66.67 % -> "66.7%"
  s.parity = 1.23456;
  r.langs["ga"] = {s};
  s.parity = 12.3456;
  s.tokens = 3;
  s.words = 7;  // fertility 0.428571 -> "0.429"
  r.langs["th"] = {s};
  s.parity = 0.99951;
  r.langs["yue"] = {s};
  std::string t = r.to_table();
  EXPECT_NE(t.find("0.667"), std::string::npos) << t;
  EXPECT_NE(t.find("  1.235\n"), std::string::npos) << t;
  EXPECT_NE(t.find(" 12.346\n"), std::string::npos) << t;
  EXPECT_NE(t.find("0.429"), std::string::npos) << t;
  EXPECT_NE(t.find("  1.000\n"), std::string::npos) << t;  // 0.99951 rounds up
  EXPECT_NE(t.find("66.7%"), std::string::npos) << t;
  EXPECT_EQ(t.find("1.234"), std::string::npos) << t;
  EXPECT_EQ(t.find("0.999"), std::string::npos) << t;
  // JSON keeps four decimals, also rounded.
  auto j = nlohmann::json::parse(r.to_json());
  EXPECT_DOUBLE_EQ(j["languages"]["ga"][0]["fertility"].get<double>(), 0.6667);
}

TEST(TokenizerStats, BadOptionsNameTheirKeys) {
  StatsOptions o;
  try {
    tokenizer_stats({"x.jsonl"}, o);
    FAIL() << "no tokenizers accepted";
  } catch (const nlm::opt::OptionError& e) {
    EXPECT_EQ(e.key(), "tokenizers");
  }
}

}  // namespace
