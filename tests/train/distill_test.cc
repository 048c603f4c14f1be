// `nativelm distill`: the loss against a plain reference (its value written out with explicit
// softmaxes, its gradient by central finite differences, top-k with K = V equal to the full KL),
// the done-when (a tiny teacher trained here, distilled into a smaller student, ends
// nearer the teacher and with fewer held-out bits per byte than the same student trained on the
// LM loss alone with the same init, data and steps), resume, and the bad inputs.
#include "train/distill.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/rng.h"
#include "data/token_shard.h"
#include "eval/tiny_text_model.h"
#include "model/hf_checkpoint.h"
#include "test_util.h"
#include "train/distill_loss.h"
#include "train/trainer.h"

namespace nlm::testing {
namespace {

namespace fs = std::filesystem;

std::vector<float> random_logits(size_t n, uint64_t seed, double spread) {
  std::vector<float> x(n);
  uint64_t r = seed;
  for (auto& v : x) v = static_cast<float>(spread * (static_cast<double>(splitmix64(r) % 20001) / 10000.0 - 1.0));
  return x;
}

// KL at temperature tau, written out: p = softmax(t/tau), log r = log_softmax(s/tau), summed over
// the positions whose target ≥ 0, mixed with the cross-entropy and averaged.
double reference_loss(const std::vector<float>& t, const std::vector<float>& s, const std::vector<int32_t>& targets,
                      int64_t V, double tau, double alpha) {
  double kd = 0, ce = 0;
  int n_pos = 0;
  for (size_t n = 0; n < targets.size(); ++n) {
    if (targets[n] < 0) continue;
    ++n_pos;
    std::vector<double> p(static_cast<size_t>(V)), r(static_cast<size_t>(V)), c(static_cast<size_t>(V));
    double zp = 0, zr = 0, zc = 0;
    for (int64_t v = 0; v < V; ++v) {
      zp += p[size_t(v)] = std::exp(t[n * V + v] / tau);
      zr += r[size_t(v)] = std::exp(s[n * V + v] / tau);
      zc += c[size_t(v)] = std::exp(s[n * V + v]);
    }
    for (int64_t v = 0; v < V; ++v) kd += tau * tau * p[size_t(v)] / zp * std::log((p[size_t(v)] / zp) / (r[size_t(v)] / zr));
    ce += -std::log(c[size_t(targets[n])] / zc);
  }
  return (alpha * kd + (1 - alpha) * ce) / n_pos;
}

TEST(DistillLoss, MatchesAPlainReference) {
  const int64_t N = 4, V = 9;
  const auto t = random_logits(size_t(N * V), 1, 3), s = random_logits(size_t(N * V), 2, 3);
  const std::vector<int32_t> targets = {3, -1, 0, 8};
  for (double tau : {1.0, 2.0, 0.5})
    for (double alpha : {0.0, 0.3, 1.0}) {
      train::DistillLossOptions o{tau, alpha, 0};
      auto l = train::distill_loss(s, targets, train::teacher_targets(t, N, V, o), o, 1.0, nullptr);
      EXPECT_EQ(l.positions, 3);
      EXPECT_NEAR(l.total, reference_loss(t, s, targets, V, tau, alpha), 1e-5) << tau << " " << alpha;
      EXPECT_GT(l.kd, 0);
    }
  // The student equal to the teacher: no KL, at any temperature, and kl_sum agrees.
  train::DistillLossOptions o{2.0, 1.0, 0};
  EXPECT_NEAR(train::distill_loss(t, targets, train::teacher_targets(t, N, V, o), o, 1, nullptr).kd, 0, 1e-6);
  EXPECT_NEAR(train::kl_sum(t, t, targets, V), 0, 1e-6);
  o.temperature = 1;
  auto l = train::distill_loss(s, targets, train::teacher_targets(t, N, V, o), o, 1, nullptr);
  EXPECT_NEAR(train::kl_sum(t, s, targets, V), 3 * l.kd, 1e-5);
}

TEST(DistillLoss, GradientMatchesFiniteDifferences) {
  const int64_t N = 3, V = 7;
  const auto t = random_logits(size_t(N * V), 3, 2);
  const std::vector<int32_t> targets = {2, 6, -1};
  for (int64_t k : {int64_t(0), int64_t(3), V})
    for (double alpha : {0.0, 0.4, 1.0}) {
      train::DistillLossOptions o{2.0, alpha, k};
      const auto tt = train::teacher_targets(t, N, V, o);
      auto s = random_logits(size_t(N * V), 4, 2);
      std::vector<float> grad;
      train::distill_loss(s, targets, tt, o, 0.5, &grad);
      ASSERT_EQ(grad.size(), size_t(N * V));
      for (size_t i = 0; i < s.size(); ++i) {
        const float keep = s[i];
        s[i] = keep + 1e-2f;
        const float up = s[i];
        const double lu = train::distill_loss(s, targets, tt, o, 1, nullptr).total;
        s[i] = keep - 1e-2f;
        const float down = s[i];
        const double ld = train::distill_loss(s, targets, tt, o, 1, nullptr).total;
        s[i] = keep;
        const double fd = 0.5 * (lu - ld) / (double(up) - double(down));
        EXPECT_NEAR(grad[i], fd, 2e-4) << "k " << k << " alpha " << alpha << " logit " << i;
      }
      for (int64_t v = 0; v < V; ++v) EXPECT_EQ(grad[size_t(2 * V + v)], 0.0f);  // the ignored row
    }
}

TEST(DistillLoss, TopKOfTheWholeVocabularyIsTheFullLossAndSmallerKIsRenormalised) {
  const int64_t N = 5, V = 11;
  const auto t = random_logits(size_t(N * V), 5, 4), s = random_logits(size_t(N * V), 6, 4);
  const std::vector<int32_t> targets = {0, 1, 2, 3, 4};
  train::DistillLossOptions full{2.0, 0.7, 0}, all{2.0, 0.7, V}, top{2.0, 1.0, 3};
  const auto tf = train::teacher_targets(t, N, V, full), ta = train::teacher_targets(t, N, V, all);
  ASSERT_TRUE(tf.ids.empty());
  ASSERT_EQ(ta.ids.size(), size_t(N * V));  // the sorted top-k path, not a shortcut to the full one
  EXPECT_NE(ta.ids[0], 0);
  std::vector<float> gf, ga;
  auto lf = train::distill_loss(s, targets, tf, full, 1, &gf);
  auto la = train::distill_loss(s, targets, ta, all, 1, &ga);
  EXPECT_NEAR(lf.total, la.total, 1e-6);
  for (size_t i = 0; i < gf.size(); ++i) EXPECT_NEAR(gf[i], ga[i], 1e-6) << i;
  // K = 3: the three largest teacher logits, probabilities summing to 1, and the loss is the KL of
  // the renormalised teacher against the student's full-vocabulary log-softmax at those ids.
  const auto t3 = train::teacher_targets(t, N, V, top);
  double kd = 0;
  for (int64_t n = 0; n < N; ++n) {
    double sum = 0, zs = 0;
    for (int64_t v = 0; v < V; ++v) zs += std::exp(s[size_t(n * V + v)] / 2.0);
    for (int64_t i = 0; i < 3; ++i) {
      const int32_t id = t3.ids[size_t(n * 3 + i)];
      int larger = 0;
      for (int64_t v = 0; v < V; ++v) larger += t[size_t(n * V + v)] > t[size_t(n * V + id)];
      EXPECT_EQ(larger, i);
      const double q = t3.probs[size_t(n * 3 + i)];
      sum += q;
      kd += 4 * q * std::log(q / (std::exp(s[size_t(n * V + id)] / 2.0) / zs));
    }
    EXPECT_NEAR(sum, 1, 1e-6);
  }
  EXPECT_NEAR(train::distill_loss(s, targets, t3, top, 1, nullptr).kd, kd / N, 1e-5);
  EXPECT_THROW(train::teacher_targets(t, N, V, train::DistillLossOptions{2.0, 1.0, V + 1}), Error);
}

// ---- runs -----------------------------------------------------------------------------------

// Basque sentences with a little structure for a teacher to learn, tokenized with the tiny BPE
// tokenizer (most of it byte tokens), in train and held-out shards.
struct Runs {
  TempDir dir;
  TextModel t = text_model(64, 5);
  double teacher_bpb = -1;
  Runs() {
    t.tok.save(dir.file("tok"));
    const std::vector<std::string> subjects = {"Katua", "Txakurra", "Haurra", "Amona"};
    const std::vector<std::string> verbs = {" etxean dago.", " kalean dabil.", " lo dago.", " jaten ari da."};
    auto shard = [&](const std::string& name, int docs, uint64_t seed) {
      data::TokShardWriter w(dir.file(name), t.tok.vocab_size(), t.tok.hash());
      uint64_t r = seed;
      for (int d = 0; d < docs; ++d) {
        std::string text;
        for (int k = 0; k < 3; ++k) {
          const size_t a = splitmix64(r) % subjects.size();
          text += subjects[a] + verbs[(a + (splitmix64(r) % 4 == 0 ? 1 : 0)) % verbs.size()] + " ";
        }
        w.add_document(t.tok.encode(text));
      }
      w.finish();
    };
    shard("train.tok", 60, 1);
    shard("eval.tok", 12, 2);
    shard("few.tok", 3, 3);  // the student's own data: the teacher saw twenty times more
  }
  // The teacher: 2 layers of width 32, trained here from scratch on the train shard (or left at
  // its random init when `trained` is false: enough for tests of the inputs).
  bool trained = true;
  std::string teacher() {
    if (fs::exists(dir.file("teacher/model/config.json"))) return dir.file("teacher/model");
    train::TrainOptions o;
    o.out_dir = dir.file("teacher");
    o.model = tiny_config(t.tok.vocab_size(), 0, 64);
    o.model.hidden_size = 32;
    o.model.intermediate_size = 64;
    o.model.initializer_range = 0.02;
    if (!trained) {
      model::Llama m(o.model, tensor::backend_for("cpu"));
      m.init_random(3);
      model::save_hf_model(dir.file("teacher/model"), m);
      t.tok.save(dir.file("teacher/model"));
      return dir.file("teacher/model");
    }
    o.train_data = {{{dir.file("train.tok")}, 1.0}};
    o.eval_shards = {dir.file("eval.tok")};
    o.eval_batches = 3;
    o.tokenizer = dir.file("tok/tokenizer.json");
    o.batch_size = 4;
    o.seq_len = 32;
    o.steps = 150;
    o.schedule.lr = 3e-3;
    o.schedule.min_lr = 3e-4;
    o.schedule.warmup_steps = 5;
    o.eval_every = 0;
    o.checkpoint_every = 0;
    o.log_every = 0;
    teacher_bpb = train::run_train(o).last_eval_bpb;
    return dir.file("teacher/model");
  }
  // The student: 1 layer of width 16, random weights, the same tokenizer.
  std::string student(const std::string& name = "student") {
    model::ModelConfig c = tiny_config(t.tok.vocab_size(), 0, 64);
    c.num_hidden_layers = 1;
    c.initializer_range = 0.02;
    model::Llama m(c, tensor::backend_for("cpu"));
    m.init_random(11);
    model::save_hf_model(dir.file(name), m);
    t.tok.save(dir.file(name));
    return dir.file(name);
  }
  train::DistillOptions options(const std::string& out, double alpha) {
    train::DistillOptions o;
    o.teacher = teacher();
    o.student = fs::exists(dir.file("student/config.json")) ? dir.file("student") : student();
    o.data = {dir.file("train.tok")};
    o.eval_shards = {dir.file("eval.tok")};
    o.out_dir = dir.file(out);
    o.loss.alpha = alpha;
    o.batch_size = 4;
    o.seq_len = 32;
    o.steps = 60;
    o.schedule.lr = 1e-2;
    o.schedule.min_lr = 3e-4;
    o.schedule.warmup_steps = 3;
    o.eval_every = 0;
    o.eval_batches = 3;
    o.checkpoint_every = 0;
    o.log_every = 0;
    return o;
  }
};

TEST(DistillRun, TheDistilledStudentIsNearerTheTeacherAndBetterThanLmLossAlone) {
  Runs runs;
  // The classic case for distillation: the student has little data of its own (3 documents), the
  // teacher was trained on more. Defaults: temperature 1, alpha 0.5.
  auto ko = runs.options("kd", 0.5);
  ko.data = {runs.dir.file("few.tok")};
  auto kd = train::run_distill(ko);
  auto lo = runs.options("lm", 0.0);  // the same student, init, data and steps; CE only
  lo.data = ko.data;
  auto lm = train::run_distill(lo);  // the same student, init, data and steps; CE only
  ASSERT_EQ(kd.train.steps, 60);
  ASSERT_EQ(lm.train.steps, 60);
  EXPECT_LT(kd.last_eval_kl, lm.last_eval_kl);
  EXPECT_LT(kd.train.last_eval_bpb, lm.train.last_eval_bpb);
  std::printf("held-out KL to the teacher: kd %.4f, lm %.4f; bits per byte: kd %.4f, lm %.4f (teacher %.4f)\n",
              kd.last_eval_kl, lm.last_eval_kl, kd.train.last_eval_bpb, lm.train.last_eval_bpb, runs.teacher_bpb);
  // metrics.jsonl has the three losses per step and the eval figures; the student is an HF folder.
  std::ifstream metrics(runs.dir.file("kd/metrics.jsonl"));
  std::string line;
  int steps = 0, evals = 0;
  while (std::getline(metrics, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) {
      ++steps;
      EXPECT_TRUE(j.contains("kd_loss") && j.contains("ce_loss")) << line;
      EXPECT_NEAR(j["loss"].get<double>(), 0.5 * (j["kd_loss"].get<double>() + j["ce_loss"].get<double>()), 1e-4)
          << line;  // alpha = 0.5
    }
    if (j.contains("eval_loss")) {
      ++evals;
      EXPECT_TRUE(j.contains("eval_kl") && j.contains("eval_bits_per_byte") && j.contains("eval_kd_loss")) << line;
    }
  }
  EXPECT_EQ(steps, 60);
  EXPECT_EQ(evals, 1);
  auto student = model::load_hf_model(runs.dir.file("kd/model"), tensor::backend_for("cpu"));
  EXPECT_EQ(student->config().num_hidden_layers, 1);
  EXPECT_TRUE(fs::exists(runs.dir.file("kd/model/tokenizer.json")));
}

TEST(DistillRun, ResumeContinuesTheSameLossCurve) {
  Runs runs;
  runs.trained = false;
  auto o = runs.options("full", 0.5);
  o.steps = 6;
  o.loss.top_k = 16;
  o.eval_shards.clear();
  auto full = train::run_distill(o);
  o.out_dir = runs.dir.file("part");
  o.steps = 3;
  o.checkpoint_every = 3;
  auto first = train::run_distill(o);
  o.steps = 6;
  o.resume = true;
  auto again = train::run_distill(o);
  ASSERT_EQ(full.train.losses.size(), 6u);
  ASSERT_EQ(again.train.losses.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(again.train.losses[size_t(i)], full.train.losses[size_t(3 + i)], 1e-6) << i;
}

void expect_usage(const train::DistillOptions& o, const std::string& says) {
  try {
    train::run_distill(o);
    ADD_FAILURE() << "accepted; expected an error saying " << says;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  }
}

TEST(DistillRun, BadInputIsAUsageErrorNamingIt) {
  Runs runs;
  runs.trained = false;
  auto good = runs.options("bad", 0.5);
  auto o = good;
  o.teacher = runs.dir.file("no-such-teacher");
  expect_usage(o, "no-such-teacher");
  o = good;
  o.loss.temperature = 0;
  expect_usage(o, "temperature");
  o.loss.temperature = -1;
  expect_usage(o, "temperature");
  o = good;
  o.loss.alpha = 1.5;
  expect_usage(o, "alpha");
  o.loss.alpha = -0.1;
  expect_usage(o, "alpha");
  o = good;
  o.loss.top_k = runs.t.tok.vocab_size() + 1;
  expect_usage(o, "larger than the vocabulary");
  // A student whose tokenizer differs: another BPE, the same size.
  const std::string other = runs.student("other");
  tokenizer::TrainOptions to;
  to.vocab_size = runs.t.tok.vocab_size();
  to.min_frequency = 1;
  to.special_tokens = {"<|begin_of_text|>"};
  tokenizer::train_bpe_from_counts({{"Kaixo", 9}, {" mundua", 7}, {" etxea", 5}, {" gaur", 4}}, to).save(other);
  o = good;
  o.student = other;
  try {
    train::run_distill(o);
    ADD_FAILURE() << "a student with another tokenizer was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    const std::string what = e.what();
    EXPECT_NE(what.find("vocabulary mismatch"), std::string::npos) << what;
    EXPECT_NE(what.find(good.teacher), std::string::npos) << what;
    EXPECT_NE(what.find(other), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(runs.dir.file("bad/model")));
}

TEST(DistillRun, TheCommandLineRunsAndRefusesATeacherItCannotFind) {
  Runs runs;
  runs.trained = false;
  const std::string teacher = runs.teacher(), student = runs.student();
  auto r = run_nativelm("--threads 1 distill --teacher " + teacher + " --student " + student + " " +
                            runs.dir.file("train.tok") + " --eval " + runs.dir.file("eval.tok") + " -o " +
                            runs.dir.file("cli") + " --steps 3 --batch-size 2 --seq-len 16 --top-k 8 --eval-batches 1",
                        runs.dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("eval KL to teacher"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(runs.dir.file("cli/model/model.safetensors")));
  r = run_nativelm("--threads 1 distill --teacher " + runs.dir.file("nope") + " --student " + student + " " +
                       runs.dir.file("train.tok") + " -o " + runs.dir.file("cli2"),
                   runs.dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("teacher model folder does not exist"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nlm::testing

namespace nlm::testing {
namespace {

// The student's backward from distill_loss's gradient: with alpha = 0 it is the model's own LM
// backward, and with alpha = 1 the weights' gradient matches finite differences of the KD loss.
TEST(DistillLoss, BackwardThroughTheStudentMatchesTheModelsOwn) {
  TextModel t = text_model(64, 5);
  model::Llama& m = *t.model;
  model::Batch b;
  b.B = 2;
  b.T = 5;
  b.inputs = {1, 4, 9, 2, 7, 3, 8, 5, 6, 2};
  b.targets = {4, 9, 2, 7, 3, 8, 5, 6, 2, -1};
  b.set_default_positions();
  const int64_t V = m.config().vocab_size;
  auto grads = [&m] {
    std::vector<std::vector<float>> g;
    for (auto& p : m.params()) {
      g.emplace_back(static_cast<size_t>(p.grad.numel()));
      m.backend().download(p.grad, g.back().data(), tensor::DType::F32);
    }
    return g;
  };
  m.zero_grad();
  m.forward(b);
  m.backward(0.5);
  const auto own = grads();
  m.zero_grad();
  m.forward(b);
  train::DistillLossOptions o{2.0, 0.0, 0};
  const auto logits = m.logits();
  std::vector<float> d;
  train::distill_loss(logits, b.targets, train::teacher_targets(logits, 10, V, o), o, 0.5, &d);
  m.backward_logits(d);
  const auto mine = grads();
  for (size_t i = 0; i < own.size(); ++i)
    for (size_t k = 0; k < own[i].size(); ++k) ASSERT_NEAR(own[i][k], mine[i][k], 1e-5) << m.params()[i].name << k;
}

}  // namespace
}  // namespace nlm::testing
