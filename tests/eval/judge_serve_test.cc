// `nativelm eval judge` end to end against a real `nativelm serve` child on loopback. The tiny
// random model writes noise, so this checks the pipeline: requests go out, raw outputs are kept,
// ratings that are not there are counted as unparsed, token usage is summed, and a prompt longer
// than the model's context is a counted failure, not a crash.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "serve/serve_fixture.h"
#include "judge_stub.h"
#include "test_util.h"

namespace nlm {
namespace {

using nlohmann::json;

using testing::read_jsonl;

TEST(JudgeServe, RunsEndToEndAgainstNativelmServe) {
  testing::TempDir dir;
  testing::write_tiny_model(dir.file("model"));
  testing::ServerProcess server(dir.file("model"), dir.path(), {"--model-name", "tiny"});
  ASSERT_TRUE(server.up()) << server.log();
  // The tiny model's context is 256 tokens, too short for MT-Bench's prompts: a short prompt file.
  testing::write_text(dir.file("p.jsonl"),
                      "{\"name\": \"short\", \"type\": \"single\", \"system_prompt\": \"Judge.\", "
                      "\"prompt_template\": \"Q: {question} A: {answer} Rate 1-10 as [[n]].\"}\n"
                      "{\"name\": \"short-pair\", \"type\": \"pairwise\", \"system_prompt\": \"Judge.\", "
                      "\"prompt_template\": \"Q: {question} A: {answer_a} B: {answer_b} [[A]], [[B]] or [[C]]?\"}\n");
  testing::write_text(dir.file("single.jsonl"),
                      "{\"id\": 1, \"question\": \"The cat?\", \"answer\": \"The cat sat on the mat.\"}\n"
                      "{\"id\": 2, \"question\": \"Tá sé?\", \"answer\": \"Tá sé.\"}\n"
                      "{\"id\": \"yue-1\", \"question\": \"你食咗飯未呀？\", \"answer\": \"食咗喇，多謝。\"}\n"
                      "{\"id\": \"th-1\", \"question\": \"สบายดีไหม\", \"answer\": \"สบายดีครับ\"}\n");
  const std::string common = " --endpoint " + server.url() + "/v1 --judge-model tiny --max-tokens 12";
  auto r = testing::run_nativelm("eval judge " + dir.file("single.jsonl") + common + " --prompt-file " +
                                     dir.file("p.jsonl") + " --prompt short -o " + dir.file("single"),
                                 dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err << "\n" << server.log();
  auto lines = read_jsonl(dir.file("single/judgments.jsonl"));
  ASSERT_EQ(lines.size(), 4u);
  int64_t prompt_tokens = 0, completion_tokens = 0;
  for (const auto& j : lines) {
    EXPECT_NE(j["status"], "failed") << j.dump();
    ASSERT_TRUE(j["judgments"][0]["output"].is_string()) << j.dump();
    EXPECT_GT(j["tokens"]["prompt"].get<int64_t>(), 0);
    EXPECT_GT(j["tokens"]["completion"].get<int64_t>(), 0);
    EXPECT_LE(j["tokens"]["completion"].get<int64_t>(), 12);
    prompt_tokens += j["tokens"]["prompt"].get<int64_t>();
    completion_tokens += j["tokens"]["completion"].get<int64_t>();
  }
  auto s = json::parse(testing::read_text(dir.file("single/summary.json")));
  EXPECT_EQ(s["records"], 4);
  EXPECT_EQ(s["parsed"].get<int>() + s["unparsed"].get<int>(), 4);
  EXPECT_EQ(s["failed"], 0);
  EXPECT_EQ(s["tokens"]["prompt"], prompt_tokens);
  EXPECT_EQ(s["tokens"]["completion"], completion_tokens);
  EXPECT_NE(r.out.find("judged 4 records"), std::string::npos) << r.out;

  // Pairwise: two requests per record, both outputs kept.
  testing::write_text(dir.file("pair.jsonl"),
                      "{\"question\": \"The cat?\", \"answer_a\": \"The cat sat.\", \"answer_b\": \"Tá sé.\"}\n");
  r = testing::run_nativelm("eval judge " + dir.file("pair.jsonl") + common + " --mode pairwise --prompt-file " +
                                dir.file("p.jsonl") + " --prompt short-pair -o " + dir.file("pair"),
                            dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  lines = read_jsonl(dir.file("pair/judgments.jsonl"));
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(lines[0]["judgments"].size(), 2u);
  EXPECT_TRUE(lines[0]["judgments"][1]["output"].is_string());
  EXPECT_NE(lines[0]["judgments"][1]["user"].get<std::string>().find("A: Tá sé. B: The cat sat."), std::string::npos);

  // MT-Bench's own prompt does not fit the tiny model: the server's 400 is a counted failure.
  r = testing::run_nativelm("eval judge " + dir.file("single.jsonl") + common + " -o " + dir.file("long"), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  s = json::parse(testing::read_text(dir.file("long/summary.json")));
  EXPECT_EQ(s["failed"], 4);
  lines = read_jsonl(dir.file("long/judgments.jsonl"));
  EXPECT_NE(lines[0]["error"].get<std::string>().find("HTTP 400"), std::string::npos) << lines[0].dump();
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace nlm
