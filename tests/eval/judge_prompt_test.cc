// The judge prompts: MT-Bench's wording byte for byte, str.format-style rendering, prompt files.
#include <gtest/gtest.h>

#include "core/error.h"
#include "eval/judge/prompts.h"
#include "test_util.h"

namespace nlm::eval::judge {
namespace {

const JudgePrompt& prompt(const std::string& name) {
  for (const auto& p : builtin_prompts())
    if (p.name == name) return p;
  throw std::runtime_error("no prompt " + name);
}

TEST(JudgePrompt, SingleV1RendersMtBenchWording) {
  const auto& p = prompt("single-v1");
  EXPECT_FALSE(p.pairwise);
  EXPECT_EQ(p.system, "You are a helpful assistant.");
  const std::string user = render(p.templ, {{"question", "Cad is ainm duit?"}, {"answer", "Is mise {Bot}."}});
  EXPECT_EQ(user,
            "[Instruction]\nPlease act as an impartial judge and evaluate the quality of the response provided by an "
            "AI assistant to the user question displayed below. Your evaluation should consider factors such as the "
            "helpfulness, relevance, accuracy, depth, creativity, and level of detail of the response. Begin your "
            "evaluation by providing a short explanation. Be as objective as possible. After providing your "
            "explanation, you must rate the response on a scale of 1 to 10 by strictly following this format: "
            "\"[[rating]]\", for example: \"Rating: [[5]]\".\n\n[Question]\nCad is ainm duit?\n\n[The Start of "
            "Assistant's Answer]\nIs mise {Bot}.\n[The End of Assistant's Answer]");
}

TEST(JudgePrompt, SingleMathV1HasTheReferenceBlock) {
  const auto& p = prompt("single-math-v1");
  EXPECT_EQ(p.system, "You are a helpful assistant.");
  EXPECT_EQ(render(p.templ, {{"question", "2+2?"}, {"answer", "5"}, {"ref_answer_1", "4"}}),
            "[Instruction]\nPlease act as an impartial judge and evaluate the quality of the response provided by an "
            "AI assistant to the user question displayed below. Your evaluation should consider correctness and "
            "helpfulness. You will be given a reference answer and the assistant's answer. Begin your evaluation by "
            "comparing the assistant's answer with the reference answer. Identify and correct any mistakes. Be as "
            "objective as possible. After providing your explanation, you must rate the response on a scale of 1 to "
            "10 by strictly following this format: \"[[rating]]\", for example: \"Rating: [[5]]\".\n\n[Question]\n"
            "2+2?\n\n[The Start of Reference Answer]\n4\n[The End of Reference Answer]\n\n[The Start of Assistant's "
            "Answer]\n5\n[The End of Assistant's Answer]");
}

TEST(JudgePrompt, PairV2AndPairMathV1) {
  const std::string fair =
      "Avoid any positional biases and ensure that the order in which the responses were presented does not "
      "influence your decision. Do not allow the length of the responses to influence your evaluation. Do not "
      "favor certain names of the assistants. Be as objective as possible. After providing your explanation, "
      "output your final verdict by strictly following this format: \"[[A]]\" if assistant A is better, \"[[B]]\" "
      "if assistant B is better, and \"[[C]]\" for a tie.";
  const auto& p = prompt("pair-v2");
  EXPECT_TRUE(p.pairwise);
  EXPECT_EQ(p.system,
            "Please act as an impartial judge and evaluate the quality of the responses provided by two AI "
            "assistants to the user question displayed below. You should choose the assistant that follows the "
            "user's instructions and answers the user's question better. Your evaluation should consider factors "
            "such as the helpfulness, relevance, accuracy, depth, creativity, and level of detail of their "
            "responses. Begin your evaluation by comparing the two responses and provide a short explanation. " +
                fair);
  EXPECT_EQ(render(p.templ, {{"question", "Q"}, {"answer_a", "one"}, {"answer_b", "two"}}),
            "[User Question]\nQ\n\n[The Start of Assistant A's Answer]\none\n[The End of Assistant A's Answer]\n\n"
            "[The Start of Assistant B's Answer]\ntwo\n[The End of Assistant B's Answer]");
  const auto& m = prompt("pair-math-v1");
  EXPECT_TRUE(m.pairwise);
  EXPECT_EQ(m.system,
            "Please act as an impartial judge and evaluate the quality of the responses provided by two AI "
            "assistants to the user question displayed below. Your evaluation should consider correctness and "
            "helpfulness. You will be given a reference answer, assistant A's answer, and assistant B's answer. Your "
            "job is to evaluate which assistant's answer is better. Begin your evaluation by comparing both "
            "assistants' answers with the reference answer. Identify and correct any mistakes. " +
                fair);
  EXPECT_EQ(render(m.templ, {{"question", "Q"}, {"answer_a", "one"}, {"answer_b", "two"}, {"ref_answer_1", "R"}}),
            "[User Question]\nQ\n\n[The Start of Reference Answer]\nR\n[The End of Reference Answer]\n\n"
            "[The Start of Assistant A's Answer]\none\n[The End of Assistant A's Answer]\n\n"
            "[The Start of Assistant B's Answer]\ntwo\n[The End of Assistant B's Answer]");
}

TEST(JudgePrompt, FormatRules) {
  EXPECT_EQ(render("{{x}} {question}}}", {{"question", "{q}"}}), "{x} {q}}");
  EXPECT_EQ(template_fields("{a} {b} {a} {{c}}", "t"), (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(template_fields("lone { brace", "t"), Error);
  EXPECT_THROW(template_fields("lone } brace", "t"), Error);
  EXPECT_THROW(template_fields("{0:>3}", "t"), Error);
  EXPECT_THROW(render("{answer}", {{"question", "q"}}), Error);
}

TEST(JudgePrompt, LoadsFastChatShapedFiles) {
  testing::TempDir dir;
  testing::write_text(
      dir.file("p.jsonl"),
      "{\"name\": \"ga\", \"type\": \"single\", \"system_prompt\": \"Breitheamh.\", "
      "\"prompt_template\": \"Ceist: {question}\\nFreagra: {answer}\", \"output_format\": \"[[rating]]\"}\n"
      "\n"
      "{\"name\": \"pair-ga\", \"type\": \"pairwise\", \"system_prompt\": \"S\", "
      "\"prompt_template\": \"{answer_a} | {answer_b}\"}\n");
  auto ps = load_prompts(dir.file("p.jsonl"));
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].name, "ga");
  EXPECT_FALSE(ps[0].pairwise);
  EXPECT_EQ(ps[0].system, "Breitheamh.");
  EXPECT_EQ(render(ps[0].templ, {{"question", "Q"}, {"answer", "A"}}), "Ceist: Q\nFreagra: A");
  EXPECT_TRUE(ps[1].pairwise);
  // One pretty-printed object is accepted too.
  testing::write_text(dir.file("one.json"),
                      "{\n  \"name\": \"x\",\n  \"type\": \"single\",\n  \"system_prompt\": "
                      "\"\",\n  \"prompt_template\": \"{question}\"\n}\n");
  EXPECT_EQ(load_prompts(dir.file("one.json")).size(), 1u);
  testing::write_text(dir.file("bad.jsonl"),
                      "{\"name\": \"x\", \"type\": \"triple\", \"system_prompt\": \"\", "
                      "\"prompt_template\": \"\"}\n");
  try {
    load_prompts(dir.file("bad.jsonl"));
    FAIL() << "a bad type loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nlm::eval::judge
