// Text end to end through the real tokenizer: tokenizer train → tokenize → train (bits per byte
// from tokenizer.json) → generate from a text prompt with a stop string → eval ppl with bits per
// byte first.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace nlm::testing {
namespace {

TEST(Cli, TextPipelineWithTokenizer) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += "Der Hund läuft im Park. The dog runs in the park. El perro corre en el parque " +
            std::to_string(i) + ".\n\n";
  write_text(dir.file("c.txt"), text);
  auto r = run_nativelm("--threads 1 tokenizer train " + dir.file("c.txt") + " -o " + dir.file("tok") +
                            " --vocab-size 300 --min-frequency 1",
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_nativelm("--threads 1 tokenize " + dir.file("c.txt") + " -t " + dir.file("tok") + " -o " + dir.file("shards"),
                   dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string shard;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir.file("shards")))
    if (e.path().extension() == ".tok") shard = e.path().string();
  ASSERT_FALSE(shard.empty());
  write_text(dir.file("c.yaml"),
             "model:\n  vocab_size: 300\n  hidden_size: 32\n  intermediate_size: 64\n  num_hidden_layers: 1\n"
             "  num_attention_heads: 4\n  num_key_value_heads: 2\n  max_position_embeddings: 128\n"
             "batch_size: 2\nseq_len: 32\nlog_every: 0\nsteps: 20\neval_batches: 1\n"
             "schedule: {lr: 0.01, min_lr: 0.001, warmup_steps: 2}\n");
  r = run_nativelm("--threads 1 train " + dir.file("c.yaml") + " --out " + dir.file("run") + " --train " + shard +
                       " --eval " + shard + " --tokenizer " + dir.file("tok/tokenizer.json"),
                   dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("eval bits/byte"), std::string::npos) << r.out;
  EXPECT_NE(read_text(dir.file("run/metrics.jsonl")).find("eval_bits_per_byte"), std::string::npos);

  r = run_nativelm("--threads 1 generate -m " + dir.file("run/model") +
                       " 'The dog' --max-tokens 12 --temperature 0 --stop 'zzz_never'",
                   dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("The dog", 0), 0u) << r.out;
  EXPECT_GT(r.out.size(), std::string("The dog\n").size());

  r = run_nativelm("--threads 1 eval ppl -m " + dir.file("run/model") + " " + shard, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("bits_per_byte", 0), 0u) << r.out;  // shown first
  EXPECT_EQ(r.out.find("n/a"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace nlm::testing
