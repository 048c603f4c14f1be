// The sft stage reaches its options through the same declaration as `nativelm sft`: the same
// settings give the same options JSON on the command line and in a pipeline (which adds the data
// files' sizes and hashes), and a bad value is named as each caller spells it.
#include <gtest/gtest.h>

#include "cli/options_equivalence.h"

using namespace nlm::testing;

namespace {

TEST(OptionsEquivalence, Sft) {
  TempDir dir;
  write_text(dir.file("in.txt"), "Tá an aimsir go deas inniu.\n");
  write_text(dir.file("chat.jsonl"), "{\"prompt\": \"Dia duit\", \"completion\": \" Dia is Muire duit\"}\n");
  const std::string m = dir.file("model"), d = dir.file("chat.jsonl"), o = " -o " + dir.file("out");
  const std::string base = "{model: " + m + ", data: [" + d + "]";
  const std::vector<Case> cases = {
      {"sft", "sft " + m + " " + d + o, base + "}"},
      {"sft", "sft " + m + " " + d + o + " --loss full --max-length 256 --overlong drop --chat-prompt --no-add-eos",
       base + ", loss: full, max_length: 256, overlong: drop, chat_prompt: true, add_eos: false}"},
      {"sft", "sft " + m + " " + d + o + " --packing none --batch-size 4 --grad-accum 2 --epochs 3 --eval-fraction 0.1",
       base + ", packing: none, batch_size: 4, grad_accum: 2, epochs: 3, eval_fraction: 0.1}"},
      {"sft", "sft " + m + " " + d + o + " --eval " + d + " --steps 20 --lr 0.001 --warmup-steps 2 --schedule constant",
       base + ", eval_data: [" + d + "], steps: 20, schedule: {lr: 0.001, warmup_steps: 2, type: constant}}"},
      {"sft", "sft " + m + " " + d + o + " --eval-every 5 --checkpoint-every 10 --seed 9 --save-dtype bfloat16",
       base + ", eval_every: 5, checkpoint_every: 10, seed: 9, save_dtype: bfloat16}"},
  };
  for (const auto& c : cases) expect_same_in(c, dir, {"data_files"});
}

TEST(OptionsEquivalence, SftPipelineRecordsTheDataFilesAndNamesBadKeys) {
  TempDir dir;
  write_text(dir.file("in.txt"), "text\n");
  write_text(dir.file("chat.jsonl"), "{\"prompt\": \"a\", \"completion\": \"b\"}\n");
  auto b = pipeline_options({"sft", "", "{data: [" + dir.file("chat.jsonl") + "]}"}, dir);
  ASSERT_TRUE(b.contains("data_files")) << b.dump();
  ASSERT_EQ(b["data_files"].size(), 1u);
  EXPECT_EQ(b["data_files"][0][1], 35);  // bytes
  // Changed data changes the stage's options JSON (so the pipeline reruns it).
  write_text(dir.file("chat.jsonl"), "{\"prompt\": \"a\", \"completion\": \"c\"}\n");
  auto b2 = pipeline_options({"sft", "", "{data: [" + dir.file("chat.jsonl") + "]}"}, dir);
  EXPECT_NE(b2["data_files"][0][2], b["data_files"][0][2]);

  write_text(dir.file("p.yaml"), "work_dir: " + dir.file("w") + "\ninputs: [" + dir.file("in.txt") +
                                     "]\nstages:\n  sft: {data: [" + dir.file("chat.jsonl") + "], packing: tight}\n");
  auto r = run_nativelm("build " + dir.file("p.yaml") + " --print-options", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("sft.packing"), std::string::npos) << r.err;
  auto c = run_nativelm("sft m " + dir.file("chat.jsonl") + " -o o --packing tight", dir.path());
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.err.find("--packing"), std::string::npos) << c.err;
}

}  // namespace
