// Training: schedules, shard batching (documents, mixing, cursor restore), a tiny model that
// overfits a small text, bit-exact resume, and clear errors for bad data, configs and checkpoints.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "data/token_shard.h"
#include "tensor/cpu/cpu_backend.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/lm_batches.h"
#include "train/schedule.h"
#include "train/trainer.h"

namespace nlm::testing {
namespace {

namespace fs = std::filesystem;

// Writes the bytes of each document as tokens (a byte-level vocabulary of 256).
void write_shard(const std::string& path, const std::vector<std::string>& docs, uint64_t vocab = 256) {
  data::TokShardWriter w(path, vocab, Hash128{});
  for (auto& d : docs) {
    std::vector<uint32_t> t(d.begin(), d.end());
    for (auto& x : t) x &= 0xff;
    w.add_document(t);
  }
  w.finish();
}

const char* kText =
    "Der Fuchs springt über den faulen Hund. The quick brown fox jumps over the lazy dog. "
    "El zorro marrón salta sobre el perro perezoso. ";

TEST(Schedule, WarmupCosineWsdConstant) {
  train::ScheduleOptions s;
  s.lr = 1.0;
  s.min_lr = 0.1;
  s.warmup_steps = 10;
  EXPECT_NEAR(train::lr_at(s, 0, 100), 0.1, 1e-12);
  EXPECT_NEAR(train::lr_at(s, 9, 100), 1.0, 1e-12);
  EXPECT_NEAR(train::lr_at(s, 55, 100), 0.55, 1e-12);  // cosine midpoint
  EXPECT_NEAR(train::lr_at(s, 100, 100), 0.1, 1e-12);
  s.type = "wsd";
  s.decay_fraction = 0.2;
  EXPECT_EQ(train::lr_at(s, 79, 100), 1.0);
  EXPECT_NEAR(train::lr_at(s, 89, 100), 0.55, 1e-12);
  EXPECT_NEAR(train::lr_at(s, 99, 100), 0.1, 1e-12);
  s.type = "constant";
  EXPECT_EQ(train::lr_at(s, 99, 100), 1.0);
  s.type = "linear";
  EXPECT_THROW(train::lr_at(s, 1, 10), Error);
}

TEST(LmBatches, DocumentsPositionsAndTargets) {
  TempDir dir;
  write_shard(dir.file("a.tok"), {"abc", "defgh", "ij"});
  train::LmBatches b({{{dir.file("a.tok")}, 1.0}}, 1, 6, true, 1, 256);
  model::Batch x = b.next();
  EXPECT_EQ(x.inputs, (std::vector<int32_t>{'a', 'b', 'c', 'd', 'e', 'f'}));
  EXPECT_EQ(x.targets, (std::vector<int32_t>{'b', 'c', 'd', 'e', 'f', 'g'}));
  EXPECT_EQ(x.docs, (std::vector<int32_t>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(x.positions, (std::vector<int32_t>{0, 1, 2, 0, 1, 2}));
  model::Batch y = b.next();  // continues at 'g' and wraps around to the start
  EXPECT_EQ(y.inputs, (std::vector<int32_t>{'g', 'h', 'i', 'j', 'a', 'b'}));
  EXPECT_EQ(y.docs, (std::vector<int32_t>{0, 0, 1, 1, 2, 2}));
}

TEST(LmBatches, MixingFollowsWeightsAndStateRestores) {
  TempDir dir;
  write_shard(dir.file("a.tok"), {std::string(1000, 'a')});
  write_shard(dir.file("b.tok"), {std::string(1000, 'b')});
  train::LmBatches b({{{dir.file("a.tok")}, 3.0}, {{dir.file("b.tok")}, 1.0}}, 40, 4, false, 7, 256);
  for (int i = 0; i < 3; ++i) b.next();
  std::string state = b.state_json();
  model::Batch next = b.next();
  int as = 0;
  for (int r = 0; r < 40; ++r) as += next.inputs[r * 4] == 'a';
  EXPECT_GT(as, 20);
  EXPECT_LT(as, 38);
  train::LmBatches c({{{dir.file("a.tok")}, 3.0}, {{dir.file("b.tok")}, 1.0}}, 40, 4, false, 99, 256);
  c.restore(state);
  EXPECT_EQ(c.next().inputs, next.inputs);
}

TEST(LmBatches, EmptyShardsAndVocabMismatchAreClearErrors) {
  TempDir dir;
  write_shard(dir.file("empty.tok"), {});
  try {
    train::LmBatches b({{{dir.file("empty.tok")}, 1.0}}, 1, 4, true, 1, 256);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos);
  }
  write_shard(dir.file("big.tok"), {"abc"}, 50000);
  try {
    train::LmBatches b({{{dir.file("big.tok")}, 1.0}}, 1, 4, true, 1, 256);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("vocabulary mismatch"), std::string::npos);
  }
}

train::TrainOptions tiny_run(const std::string& dir, const std::string& shard) {
  train::TrainOptions o;
  o.out_dir = dir;
  o.model.vocab_size = 256;
  o.model.hidden_size = 32;
  o.model.intermediate_size = 64;
  o.model.num_hidden_layers = 2;
  o.model.num_attention_heads = 4;
  o.model.num_key_value_heads = 2;
  o.model.max_position_embeddings = 64;
  o.model.tie_word_embeddings = true;
  o.train_data = {{{shard}, 1.0}};
  o.batch_size = 4;
  o.seq_len = 32;
  o.log_every = 0;
  o.schedule.lr = 1e-2;
  o.schedule.min_lr = 1e-3;
  o.schedule.warmup_steps = 5;
  o.optimizer.weight_decay = 0.0;
  return o;
}

// Tiny models run thousands of small ops; one thread avoids OpenMP hand-off costs on a busy
// machine (determinism holds for any fixed thread count).
void one_thread() { static_cast<tensor::CpuBackend&>(tensor::cpu_backend()).set_threads(1); }

TEST(Train, TinyModelOverfitsSmallText) {
  one_thread();
  TempDir dir;
  // One 64-byte document and rows of 64 tokens: every row is the whole text, so a model that
  // memorises it can reach a loss near 0.
  write_shard(dir.file("t.tok"), {std::string(kText).substr(0, 64)});
  auto o = tiny_run(dir.file("run"), dir.file("t.tok"));
  o.seq_len = 64;
  o.model.max_position_embeddings = 64;
  o.steps = 120;
  o.checkpoint_every = 0;
  o.eval_shards = {dir.file("t.tok")};
  o.eval_every = 0;
  o.eval_batches = 2;
  o.token_bytes.assign(256, 1);
  auto r = train::run_train(o);
  EXPECT_GT(r.losses.front(), 4.0);
  EXPECT_LT(r.last_loss, 0.1);
  EXPECT_LT(r.last_eval_loss, 0.1);
  EXPECT_NEAR(r.last_eval_bpb, r.last_eval_loss / std::log(2.0), 1e-9);
  EXPECT_TRUE(fs::exists(dir.file("run/model/model.safetensors")));
  std::string metrics = read_text(dir.file("run/metrics.jsonl"));
  EXPECT_NE(metrics.find("\"step\":120,\"loss\""), std::string::npos);
  EXPECT_NE(metrics.find("eval_bits_per_byte"), std::string::npos);
}

TEST(Train, ResumeEqualsUninterruptedRun) {
  one_thread();
  TempDir dir;
  write_shard(dir.file("t.tok"), {kText, "Zwei Dokumente sind besser als eins.", kText});
  auto full = tiny_run(dir.file("full"), dir.file("t.tok"));
  full.steps = 8;
  full.checkpoint_every = 4;
  full.grad_accum = 2;
  auto a = train::run_train(full);

  // The same run, stopped after step 4 (its checkpoint), then resumed.
  auto part = full;
  part.out_dir = dir.file("part");
  part.steps = 4;
  train::run_train(part);
  auto resumed = full;
  resumed.out_dir = dir.file("part");
  resumed.resume = true;
  auto b = train::run_train(resumed);
  ASSERT_EQ(b.losses.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a.losses[4 + i], b.losses[i]) << "step " << 5 + i;
  EXPECT_EQ(read_text(dir.file("full/model/model.safetensors")),
            read_text(dir.file("part/model/model.safetensors")));
  // Rotation kept the newest two checkpoints.
  EXPECT_TRUE(fs::exists(dir.file("full/checkpoints/step-00000008")));
  EXPECT_TRUE(fs::exists(dir.file("full/checkpoints/step-00000004")));

  // Resuming with a different batch shape is refused.
  auto other = resumed;
  other.batch_size = 2;
  EXPECT_THROW(train::run_train(other), Error);
  // A corrupt optimizer file is a clear runtime error.
  std::string opt = dir.file("part/checkpoints/step-00000008/optimizer.safetensors");
  std::string bytes = read_text(opt);
  write_text(opt, bytes.substr(0, bytes.size() / 2));
  try {
    train::run_train(resumed);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt"), std::string::npos);
  }
}

TEST(Train, YamlConfigAndBadKeys) {
  TempDir dir;
  write_shard(dir.file("t.tok"), {kText});
  write_text(dir.file("c.yaml"), "out_dir: " + dir.file("run") +
                                     "\nmodel:\n  vocab_size: 256\n  hidden_size: 16\n  intermediate_size: 32\n"
                                     "  num_hidden_layers: 1\n  num_attention_heads: 2\n"
                                     "data:\n  train:\n    - shards: [" + dir.file("t.tok") +
                                     "]\n      weight: 2\nschedule:\n  type: wsd\n  lr: 0.001\n  min_lr: 0.0001\n"
                                     "steps: 3\nseq_len: 16\n");
  train::TrainOptions o;
  train::load_train_yaml(dir.file("c.yaml"), o);
  EXPECT_EQ(o.model.hidden_size, 16);
  EXPECT_EQ(o.model.num_key_value_heads, 2);
  EXPECT_EQ(o.train_data.at(0).weight, 2.0);
  EXPECT_EQ(o.schedule.type, "wsd");
  EXPECT_EQ(o.steps, 3);
  write_text(dir.file("bad.yaml"), "stepz: 3\n");
  try {
    train::load_train_yaml(dir.file("bad.yaml"), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stepz"), std::string::npos);
  }
  write_text(dir.file("shape.yaml"), "model:\n  hidden_size: 10\n  num_attention_heads: 3\n");
  EXPECT_THROW(train::load_train_yaml(dir.file("shape.yaml"), o), Error);
}

}  // namespace
}  // namespace nlm::testing
