// The train / generate / eval ppl commands end to end on a byte-level token shard: a tiny model
// trains, generates the requested number of ids and is scored; bad input fails with the right code.
#include <gtest/gtest.h>

#include "data/token_shard.h"
#include "test_util.h"

namespace nlm::testing {
namespace {

TEST(Cli, TrainGenerateEvalPpl) {
  TempDir dir;
  {
    data::TokShardWriter w(dir.file("t.tok"), 256, Hash128{});
    std::string text = "nativelm trains small models. ";
    for (int d = 0; d < 8; ++d) {
      std::vector<uint32_t> t(text.begin(), text.end());
      w.add_document(t);
    }
    w.finish();
  }
  write_text(dir.file("c.yaml"),
             "model:\n  vocab_size: 256\n  hidden_size: 32\n  intermediate_size: 64\n  num_hidden_layers: 1\n"
             "  num_attention_heads: 4\n  num_key_value_heads: 1\n  max_position_embeddings: 64\n"
             "  eos_token_id: 10\nbatch_size: 2\nseq_len: 32\nlog_every: 0\n");
  auto r = run_nativelm("--threads 1 train " + dir.file("c.yaml") + " --out " + dir.file("run") + " --train " +
                            dir.file("t.tok") + " --eval " + dir.file("t.tok") +
                            " --steps 30 --lr 0.01 --warmup-steps 3 --eval-batches 2",
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("trained 30 steps"), std::string::npos);
  r = run_nativelm("generate -m " + dir.file("run/model") + " --prompt-ids '110 97' --max-tokens 5 --temperature 0",
                   dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int n = 0;
  for (char c : r.out) n += c == ' ';
  EXPECT_EQ(n, 4) << r.out;  // five ids
  r = run_nativelm("eval ppl -m " + dir.file("run/model") + " " + dir.file("t.tok") + " --json", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"tokens\":240"), std::string::npos) << r.out;

  // Errors: no data (usage, exit 2), a bad prompt id, a missing model.
  r = run_nativelm("train " + dir.file("c.yaml") + " --out " + dir.file("x"), dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nativelm: error: "), std::string::npos);
  r = run_nativelm("generate -m " + dir.file("run/model") + " --prompt-ids '9999'", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  r = run_nativelm("eval ppl -m " + dir.file("nope") + " " + dir.file("t.tok"), dir.path());
  EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace nlm::testing
