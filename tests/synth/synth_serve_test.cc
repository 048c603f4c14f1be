// `nativelm synth` end to end against a real `nativelm serve` child on loopback. The tiny random
// model writes noise, so this checks the shape: every chunk is sent, every candidate lands in
// exactly one funnel step, tokens are summed from `usage`, and a rerun resumes every shard
// without changing a byte.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "eval/judge_stub.h"
#include "serve/serve_fixture.h"
#include "test_util.h"

namespace nlm {
namespace {

using nlohmann::json;

const char* const kSteps[] = {"malformed", "truncated", "too_short", "too_long", "wrong_language",
                              "ungrounded", "copies_source", "contaminated", "duplicate", "kept"};

TEST(SynthServe, QaAndRephraseRunEndToEndAgainstNativelmServe) {
  testing::TempDir dir;
  testing::write_tiny_model(dir.file("model"));
  testing::ServerProcess server(dir.file("model"), dir.path(), {"--model-name", "tiny"});
  ASSERT_TRUE(server.up()) << server.log();
  // The tiny model's context is 256 tokens: a short prompt and short chunks.
  testing::write_text(dir.file("prompt.txt"), "{n} Q/A in {language} from: {text}");
  std::string docs;
  for (int k = 0; k < 5; ++k)
    docs += json{{"id", k}, {"text", "The cat sat on mat number " + std::to_string(k) +
                                         ". It was a sunny day and the birds sang in the old tree by the river."}}
                .dump() +
            "\n";
  testing::write_text(dir.file("docs.jsonl"), docs);
  for (const std::string task : {"qa", "rephrase"}) {
    const std::string args = "synth " + task + " " + dir.file("docs.jsonl") + " --endpoint " + server.url() +
                             "/v1 --model tiny --lang en --max-tokens 12 --temperature 0 --prompt-file " +
                             dir.file("prompt.txt") + " --chunk-chars 64 --min-chunk-chars 10 --shard-chunks 3" +
                             " --concurrency 2 -o " + dir.file(task);
    auto r = testing::run_nativelm(args, dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err << "\n" << server.log();
    auto s = json::parse(testing::read_text(dir.file(task + "/summary.json")));
    const auto& f = s["funnel"];
    EXPECT_EQ(f["chunks"], 10) << s.dump();  // each document cuts into two chunks of at most 64 bytes
    EXPECT_EQ(f["requests"], 10);
    EXPECT_EQ(f["request_failed"], 0);
    uint64_t steps = 0;
    for (const char* k : kSteps) steps += f[k].get<uint64_t>();
    EXPECT_EQ(steps, f["candidates"].get<uint64_t>()) << s.dump();
    EXPECT_GE(f["candidates"].get<uint64_t>(), 10u);
    EXPECT_GT(s["tokens"]["prompt"].get<int64_t>(), 0);
    EXPECT_GT(s["tokens"]["completion"].get<int64_t>(), 0);
    EXPECT_LE(s["tokens"]["completion"].get<int64_t>(), 120);
    EXPECT_EQ(s["shards"], 4);
    EXPECT_NE(r.out.find("candidates:"), std::string::npos) << r.out;

    std::string before;
    for (int k = 0; k < 4; ++k) before += testing::read_text(dir.file(task + "/part-0000" + std::to_string(k) + ".jsonl"));
    r = testing::run_nativelm(args, dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto again = json::parse(testing::read_text(dir.file(task + "/summary.json")));
    EXPECT_EQ(again["shards_resumed"], 4);
    EXPECT_EQ(again["funnel"], s["funnel"]);
    std::string after;
    for (int k = 0; k < 4; ++k) after += testing::read_text(dir.file(task + "/part-0000" + std::to_string(k) + ".jsonl"));
    EXPECT_EQ(before, after);
  }
}

}  // namespace
}  // namespace nlm

namespace nlm {
namespace {

using nlohmann::json;

uint64_t sum(const json& f, std::initializer_list<const char*> keys) {
  uint64_t s = 0;
  for (const char* k : keys) s += f[k].get<uint64_t>();
  return s;
}

TEST(SynthServe, TranslateAndPrefsRunEndToEndAgainstNativelmServe) {
  testing::TempDir dir;
  testing::write_tiny_model(dir.file("model"));
  testing::ServerProcess server(dir.file("model"), dir.path(), {"--model-name", "tiny"});
  ASSERT_TRUE(server.up()) << server.log();
  // Short prompts: the tiny model's context is 256 tokens.
  testing::write_text(dir.file("prompt.txt"), "{source_language} to {language}: {text}");
  testing::write_text(dir.file("judge.jsonl"),
                      R"({"name": "tiny", "type": "pairwise", "system_prompt": "Judge.", )"
                      R"("prompt_template": "Q {question} A {answer_a} B {answer_b}"})"
                      "\n");
  std::string sft, prompts;
  for (int k = 0; k < 4; ++k) {
    sft += json{{"messages",
                 {{{"role", "user"}, {"content", "Say hello to {name} number " + std::to_string(k) + "."}},
                  {{"role", "assistant"}, {"content", "Hello {name}! Run `echo " + std::to_string(k) + "`."}}}}}
               .dump() +
           "\n";
    prompts += json{{"prompt", "Tell me about cat number " + std::to_string(k) + "."}}.dump() + "\n";
  }
  testing::write_text(dir.file("sft.jsonl"), sft);
  testing::write_text(dir.file("prompts.jsonl"), prompts);
  const std::string common = " --endpoint " + server.url() + "/v1 --model tiny --lang en --max-tokens 12 " +
                             "--temperature 0.8 --shard-chunks 3 --concurrency 2 --min-chars 1 ";

  const std::string translate = "synth translate " + dir.file("sft.jsonl") + common + "--prompt-file " +
                                dir.file("prompt.txt") + " -o " + dir.file("tr");
  auto r = testing::run_nativelm(translate, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err << "\n" << server.log();
  auto s = json::parse(testing::read_text(dir.file("tr/summary.json")));
  auto f = s["funnel"];
  EXPECT_EQ(f["records"], 4) << s.dump();
  EXPECT_EQ(f["bad_input"], 0);
  EXPECT_EQ(f["requests"], 8);  // two messages each; the inline code never goes
  EXPECT_EQ(sum(f, {"request_failed", "truncated", "malformed", "code_mismatch", "placeholder_mismatch",
                    "bad_length_ratio", "wrong_language", "contaminated", "duplicate", "kept"}),
            4u)
      << s.dump();
  EXPECT_GT(s["tokens"]["prompt"].get<int64_t>(), 0);
  EXPECT_EQ(s["shards"], 2);
  r = testing::run_nativelm(translate, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(testing::read_text(dir.file("tr/summary.json")))["shards_resumed"], 2);

  const std::string prefs = "synth prefs " + dir.file("prompts.jsonl") + common + "--samples 2 --judge-prompt tiny " +
                            "--judge-prompt-file " + dir.file("judge.jsonl") + " --judge-max-tokens 8 -o " +
                            dir.file("pr");
  r = testing::run_nativelm(prefs, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err << "\n" << server.log();
  s = json::parse(testing::read_text(dir.file("pr/summary.json")));
  f = s["funnel"];
  EXPECT_EQ(f["prompts"], 4) << s.dump();
  EXPECT_EQ(f["answers"], 8);
  EXPECT_EQ(sum(f, {"answer_failed", "answer_truncated", "answer_malformed", "answer_too_short", "answer_too_long",
                    "answer_wrong_language", "answer_duplicate", "answers_passed"}),
            8u)
      << s.dump();
  EXPECT_EQ(sum(f, {"bad_input", "too_few_answers", "judge_failed", "judge_unparsed", "tie", "unclear",
                    "contaminated", "duplicate", "kept"}),
            4u)
      << s.dump();
  EXPECT_GT(s["tokens"]["completion"].get<int64_t>(), 0);
  EXPECT_EQ(s["judge_prompt"], "tiny");
  r = testing::run_nativelm(prefs, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto again = json::parse(testing::read_text(dir.file("pr/summary.json")));
  EXPECT_EQ(again["shards_resumed"], 2);
  EXPECT_EQ(again["funnel"], f);

  // The tiny model's answers stop at max_tokens, so none reaches the judge above. Here a scripted
  // generator writes two good English answers and nativelm serve judges them, in both orders.
  testing::StubJudge gen([](const std::string&, const std::string& user) {
    return testing::StubReply{200, user.find("cat") != std::string::npos
                                       ? "Cats are small furry animals that people keep as pets at home."
                                       : "Dogs are loyal animals that like to run and play outside."};
  });
  testing::StubJudge gen_b([](const std::string&, const std::string&) {
    return testing::StubReply{200, "The weather today is sunny and warm with a light breeze."};
  });
  r = testing::run_nativelm("synth prefs " + dir.file("prompts.jsonl") + " --endpoint " + gen.base_url() +
                                " --endpoint-b " + gen_b.base_url() + " --judge-endpoint " + server.url() +
                                "/v1 --judge-model tiny --lang en --concurrency 2 --judge-prompt tiny " +
                                "--judge-prompt-file " + dir.file("judge.jsonl") + " --judge-max-tokens 8 -o " +
                                dir.file("pj"),
                            dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err << "\n" << server.log();
  s = json::parse(testing::read_text(dir.file("pj/summary.json")));
  f = s["funnel"];
  EXPECT_EQ(f["answers_passed"], 8) << s.dump();
  EXPECT_EQ(f["judge_requests"], 8);  // four prompts, two orders each
  EXPECT_EQ(sum(f, {"judge_failed", "judge_unparsed", "tie", "unclear", "contaminated", "duplicate", "kept"}), 4u)
      << s.dump();
  EXPECT_GT(s["tokens"]["prompt"].get<int64_t>(), 8 * 100);  // the stub's 100 per answer, and the judge's
  EXPECT_EQ(s["judge_model"], "tiny");
}

}  // namespace
}  // namespace nlm
