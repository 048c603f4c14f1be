// The endpoint-free parts of `nativelm synth`: chunking, parsing a model's question-answer pairs
// (JSON and numbered text, malformed answers), the dedup key and the grounding measure.
#include <gtest/gtest.h>

#include "synth/generate.h"

namespace nlm::synth {
namespace {

TEST(SynthChunk, CutsAtParagraphsThenSpacesAndKeepsUtf8Whole) {
  const std::string text = "First paragraph here.\n\nSecond one, a bit longer than the first.";
  auto c = chunk_text(text, 30);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], "First paragraph here.");
  EXPECT_EQ(c[1], "Second one, a bit longer than");
  EXPECT_EQ(c[2], "the first.");
  EXPECT_EQ(chunk_text("  short  ", 100), std::vector<std::string>{"short"});
  EXPECT_TRUE(chunk_text(" \n ", 100).empty());
  // No spaces: cut by bytes, never inside a UTF-8 sequence.
  std::string thai;
  for (int k = 0; k < 20; ++k) thai += "สวัสดี";
  std::string joined;
  for (const auto& piece : chunk_text(thai, 16)) {
    EXPECT_LE(piece.size(), 16u);
    EXPECT_NE(static_cast<unsigned char>(piece[0]) & 0xC0, 0x80) << "starts inside a character";
    joined += piece;
  }
  EXPECT_EQ(joined, thai);
}

TEST(SynthParse, JsonArraysFencedWrappedOrUnderAKey) {
  auto p = parse_qa(R"([{"question": "Q1?", "answer": "A1."}, {"Question": "Q2?", "Answer": "A2."}])");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].question, "Q1?");
  EXPECT_EQ(p[1].answer, "A2.");
  p = parse_qa("Here you go:\n```json\n[{\"question\": \"Wo?\", \"answer\": \"Dort.\"}]\n```\nDone.");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].question, "Wo?");
  p = parse_qa(R"({"pairs": [{"q": "x?", "a": "y"}]})");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].answer, "y");
}

TEST(SynthParse, NumberedText) {
  auto p = parse_qa(
      "1. Q: What is it?\nA: A cat.\n\nQuestion 2: Where?\nAnswer 2: On the mat,\nnear the door.\n"
      "**Q3:** Why?\n**A3:** Because.\n");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].question, "What is it?");
  EXPECT_EQ(p[0].answer, "A cat.");
  EXPECT_EQ(p[1].question, "Where?");
  EXPECT_EQ(p[1].answer, "On the mat,\nnear the door.");
  EXPECT_EQ(p[2].question, "Why?");
  EXPECT_EQ(p[2].answer, "Because.");
}

TEST(SynthParse, MalformedAnswersGiveNothing) {
  EXPECT_TRUE(parse_qa("").empty());
  EXPECT_TRUE(parse_qa("I cannot help with that.").empty());
  EXPECT_TRUE(parse_qa("[{\"question\": \"unterminated").empty());
  EXPECT_TRUE(parse_qa("Q: a question with no answer").empty());
  EXPECT_TRUE(parse_qa("[1, 2, 3]").empty());
}

TEST(SynthText, NormalizedKeyAndGrounding) {
  EXPECT_EQ(normalize_key("  Hello,   World!\n"), "hello world");
  EXPECT_EQ(normalize_key("Grüße — Ä"), normalize_key("grüße —  Ä."));
  EXPECT_EQ(words_of("It's 3 o'clock, Señor"), (std::vector<std::string>{"it", "s", "3", "o", "clock", "señor"}));
  const std::string source = "The cat sat on the mat near the door of the house.";
  EXPECT_DOUBLE_EQ(grounding("the cat sat on the mat", source, 2), 1.0);
  EXPECT_DOUBLE_EQ(grounding("a dog ran far away", source, 2), 0.0);
  EXPECT_DOUBLE_EQ(grounding("the cat ran", source, 2), 0.5);
  EXPECT_DOUBLE_EQ(grounding("cat", source, 3), 1.0);  // shorter than n: the whole output is one gram
  EXPECT_DOUBLE_EQ(grounding("", source, 2), 1.0);
}

TEST(SynthPrompts, BuiltinsHaveTheirFields) {
  for (auto task : {SynthTask::Qa, SynthTask::Rephrase})
    for (const auto& name : builtin_prompt_names(task)) {
      auto t = builtin_prompt(task, name);
      ASSERT_TRUE(t) << name;
      EXPECT_NE(t->find("{text}"), std::string::npos) << name;
      EXPECT_NE(t->find("{language}"), std::string::npos) << name;
    }
  EXPECT_FALSE(builtin_prompt(SynthTask::Qa, "wikipedia"));
  EXPECT_NE(builtin_prompt(SynthTask::Qa, "qa")->find("{n}"), std::string::npos);
}

}  // namespace
}  // namespace nlm::synth
