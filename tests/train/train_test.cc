// Training: schedules, shard batching (documents, mixing, cursor restore), a tiny model that
// overfits a small text, bit-exact resume, and clear errors for bad data, configs and checkpoints.
#include <gtest/gtest.h>

#include <algorithm>
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
  // Numbers that are not non-negative integers are refused by name (fuzz_trainer_state found a
  // float rng converted with undefined behaviour), and the cursor is left usable.
  auto field_error = [&](const std::string& from, const std::string& to) {
    std::string bad = state;
    size_t at = bad.find(from);
    EXPECT_NE(at, std::string::npos) << bad;
    bad.replace(at, from.size(), to);
    try {
      c.restore(bad);
      return std::string("accepted");
    } catch (const Error& e) {
      return std::string(e.what());
    }
  };
  const std::string rng = "\"rng\":";
  const size_t at = state.find(rng);
  ASSERT_NE(at, std::string::npos);
  const std::string rng_value = state.substr(at, state.find_first_of(",}", at) - at);
  EXPECT_NE(field_error(rng_value, rng + "2.46111111111111e27").find("'rng'"), std::string::npos);
  EXPECT_NE(field_error(rng_value, rng + "-5").find("'rng'"), std::string::npos);
  EXPECT_NE(field_error("\"epoch\":0", "\"epoch\":0.5").find("'epoch'"), std::string::npos);
}

// Documents "<letter>0123..." of different lengths over two shards; each row starts a document's
// first token only at a document start, so the letters seen at document starts give the order.
std::vector<char> shuffled_doc_order(train::LmBatches& b, int rows) {
  std::vector<char> order;
  for (int i = 0; i < rows; ++i) {
    model::Batch x = b.next();
    for (int t = 0; t < x.T; ++t)
      if ((t == 0 || x.docs[t] != x.docs[t - 1]) && x.inputs[t] >= 'A' && x.inputs[t] <= 'Z')
        order.push_back(static_cast<char>(x.inputs[t]));
  }
  return order;
}

TEST(LmBatches, ShuffledDocumentsEachOncePerEpochAndStateRestores) {
  TempDir dir;
  std::vector<std::string> a, c;
  for (int d = 0; d < 13; ++d)
    (d < 7 ? a : c).push_back(std::string(1, static_cast<char>('A' + d)) + std::string(3 + d % 4, '0'));
  write_shard(dir.file("a.tok"), a);
  write_shard(dir.file("c.tok"), c);
  uint64_t tokens = 0;
  for (auto* v : {&a, &c})
    for (auto& s : *v) tokens += s.size();
  const std::vector<train::DataSource> src = {{{dir.file("a.tok"), dir.file("c.tok")}, 1.0}};
  const int T = 5;
  // Three epochs of rows (a document start in the last token of a row is seen again as the next
  // row's first token, so count starts in inputs only).
  train::LmBatches b(src, 1, T, true, 42, 256, true);
  auto order = shuffled_doc_order(b, static_cast<int>(3 * tokens / T) + 1);
  ASSERT_GE(order.size(), 3u * 13);
  for (int e = 0; e < 3; ++e) {
    std::string epoch(order.begin() + 13 * e, order.begin() + 13 * (e + 1));
    std::string sorted = epoch;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, "ABCDEFGHIJKLM") << "epoch " << e << ": " << epoch;  // every document once
    EXPECT_NE(epoch, "ABCDEFGHIJKLM");                                     // not shard order
  }
  EXPECT_NE(std::string(order.begin(), order.begin() + 13), std::string(order.begin() + 13, order.begin() + 26));
  // Same seed, same order; another seed, another order.
  train::LmBatches same(src, 1, T, true, 42, 256, true), other(src, 1, T, true, 43, 256, true);
  auto first = shuffled_doc_order(same, 20);
  EXPECT_EQ(first, std::vector<char>(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(first.size())));
  EXPECT_NE(shuffled_doc_order(other, 20), first);
  // A restored cursor continues identically, also across the epoch boundary.
  for (int skip : {3, 9, 17}) {
    train::LmBatches x(src, 2, T, true, 42, 256, true), y(src, 2, T, true, 7, 256, true);
    for (int i = 0; i < skip; ++i) x.next();
    y.restore(x.state_json());
    for (int i = 0; i < 12; ++i) {
      auto bx = x.next(), by = y.next();
      ASSERT_EQ(bx.inputs, by.inputs) << skip << " " << i;
      ASSERT_EQ(bx.docs, by.docs);
      ASSERT_EQ(bx.positions, by.positions);
    }
  }
  // A cursor of the other mode is refused.
  train::LmBatches plain(src, 1, T, true, 42, 256);
  EXPECT_THROW(plain.restore(b.state_json()), Error);
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
void one_thread() { tensor::cpu_backend().set_threads(1); }

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

// Runs `full` into DIR/part stopped after step `stop` (its checkpoint); returns the options that
// resume it to the end.
train::TrainOptions resumable(const TempDir& dir, const train::TrainOptions& full, int64_t stop) {
  auto part = full;
  part.out_dir = dir.file("part");
  part.steps = stop;
  train::run_train(part);
  auto resumed = full;
  resumed.out_dir = dir.file("part");
  resumed.resume = true;
  return resumed;
}

// The resumed run's losses are the uninterrupted run's from step `stop` on, bit for bit.
void expect_same_tail(const train::TrainResult& full, const train::TrainResult& resumed, size_t stop) {
  ASSERT_EQ(resumed.losses.size(), full.losses.size() - stop);
  for (size_t i = 0; i < resumed.losses.size(); ++i)
    EXPECT_EQ(full.losses[stop + i], resumed.losses[i]) << "step " << stop + 1 + i;
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
  auto resumed = resumable(dir, full, 4);
  expect_same_tail(a, train::run_train(resumed), 4);
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

TEST(Train, ResumeWithShuffledDocumentsIsBitExact) {
  one_thread();
  TempDir dir;
  write_shard(dir.file("t.tok"), {kText, "Zwei Dokumente sind besser als eins.", "Tres.", kText, "Cuatro."});
  auto full = tiny_run(dir.file("full"), dir.file("t.tok"));
  full.shuffle_documents = true;
  full.steps = 6;
  full.checkpoint_every = 3;
  auto a = train::run_train(full);
  auto plain = full;
  plain.out_dir = dir.file("plain");
  plain.shuffle_documents = false;
  EXPECT_NE(train::run_train(plain).losses, a.losses);  // the shuffle changes what is read

  auto resumed = resumable(dir, full, 3);
  resumed.seed = 99;  // the permutation comes from the checkpoint, like the data cursor
  expect_same_tail(a, train::run_train(resumed), 3);
  // Resuming a shuffled run without shuffling is refused.
  resumed.shuffle_documents = false;
  EXPECT_THROW(train::run_train(resumed), Error);
}

TEST(Train, YamlConfigAndBadKeys) {
  TempDir dir;
  write_shard(dir.file("t.tok"), {kText});
  write_text(dir.file("c.yaml"), "out_dir: " + dir.file("run") +
                                     "\nmodel:\n  vocab_size: 256\n  hidden_size: 16\n  intermediate_size: 32\n"
                                     "  num_hidden_layers: 1\n  num_attention_heads: 2\n"
                                     "data:\n  train:\n    - shards: [" + dir.file("t.tok") +
                                     "]\n      weight: 2\nschedule:\n  type: wsd\n  lr: 0.001\n  min_lr: 0.0001\n"
                                     "steps: 3\nseq_len: 16\nshuffle_documents: true\n");
  train::TrainOptions o;
  train::load_train_yaml(dir.file("c.yaml"), o);
  EXPECT_EQ(o.model.hidden_size, 16);
  EXPECT_EQ(o.model.num_key_value_heads, 2);
  EXPECT_EQ(o.train_data.at(0).weight, 2.0);
  EXPECT_EQ(o.schedule.type, "wsd");
  EXPECT_EQ(o.steps, 3);
  EXPECT_TRUE(o.shuffle_documents);
  write_text(dir.file("bad.yaml"), "stepz: 3\n");
  try {
    train::load_train_yaml(dir.file("bad.yaml"), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stepz"), std::string::npos);
  }
  write_text(dir.file("shape.yaml"), "model:\n  hidden_size: 10\n  num_attention_heads: 3\n");
  EXPECT_THROW(train::load_train_yaml(dir.file("shape.yaml"), o), Error);
  // Shards where the config goes (`nativelm train shards/train-00000.tok`) used to read as a YAML
  // syntax error about \x00; the error now says what to do.
  for (const std::string& given : {dir.file("t.tok"), dir.path()}) {
    try {
      train::load_train_yaml(given, o);
      FAIL() << given;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("is token shards, not a YAML config"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("--train"), std::string::npos) << e.what();
    }
  }
}

// Found by fuzz/fuzz_train_yaml (fuzz/findings/fuzz_train_yaml/train_yaml_invalid_utf8_shard): a shard path that
// is not UTF-8 made config_json() throw nlohmann's type_error; it is recorded with U+FFFD.
TEST(TrainConfig, ConfigJsonTakesPathsThatAreNotUtf8) {
  train::TrainOptions o;
  o.train_data = {{{"u\xbb.tok"}, 1.0}};
  std::string j;
  ASSERT_NO_THROW(j = train::config_json(o));
  EXPECT_NE(j.find("u\xef\xbf\xbd.tok"), std::string::npos) << j;
}

}  // namespace
}  // namespace nlm::testing
