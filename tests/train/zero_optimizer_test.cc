// The ZeRO-1 AdamW on one rank: bit for bit the unsharded AdamW it replaced (reimplemented here
// as the reference, per parameter), its parameters and gradients as views of flat buffers, the
// gradient groups the model's backward announces, fp32 master weights under BF16 parameters,
// its one-file optimizer state, and the order in which a step waits for asynchronous
// reduce-scatters. Several ranks are tested over MPI in data_parallel_test.cc.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "model/llama.h"
#include "model/safetensors.h"
#include "tensor/backend.h"
#include "tensor/cpu/cpu_backend.h"
#include "test_util.h"
#include "tiny_llama.h"
#include "train/adamw.h"

namespace {

using namespace nlm;
using nlm::testing::TempDir;

// The shared tiny model with a third layer (so the gradient groups are L = 3, 2, 1, 0, −1).
model::ModelConfig config(bool tied) {
  model::ModelConfig c = nlm::testing::seam_config();
  c.num_hidden_layers = 3;
  c.tie_word_embeddings = tied;
  return c;
}

model::Batch batch(int step) { return nlm::testing::seam_batch(step); }

// Tiny tensors: one thread avoids OpenMP hand-off costs on a busy machine.
tensor::Backend& one_thread() {
  tensor::cpu_backend().set_threads(1);
  return tensor::cpu_backend();
}

std::vector<float> host(const tensor::Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  t.backend().download(t, v.data(), tensor::DType::F32);
  return v;
}

// The optimizer before ZeRO-1: per parameter, m and v of its own, norm summed per parameter.
struct ReferenceAdamW {
  model::Llama& m;
  train::AdamWOptions o;
  std::vector<tensor::Tensor> mom, vel;
  int64_t t = 0;
  ReferenceAdamW(model::Llama& model, train::AdamWOptions options) : m(model), o(options) {
    for (auto& p : m.params()) {
      mom.push_back(m.backend().zeros(p.value.shape(), p.value.dtype()));
      vel.push_back(m.backend().zeros(p.value.shape(), p.value.dtype()));
    }
  }
  double step(double lr) {
    auto& be = m.backend();
    double sq = 0;
    for (auto& p : m.params()) sq += be.sum_squares(p.grad);
    double norm = std::sqrt(sq);
    if (o.grad_clip > 0 && norm > o.grad_clip)
      for (auto& p : m.params()) be.scale(p.grad, o.grad_clip / norm);
    ++t;
    for (size_t i = 0; i < m.params().size(); ++i) {
      auto& p = m.params()[i];
      double wd = p.is_norm_or_bias && !o.decay_norms_and_biases ? 0.0 : o.weight_decay;
      be.adamw_update(p.value, p.grad, mom[i], vel[i], lr, o.beta1, o.beta2, o.eps, wd, t);
    }
    return norm;
  }
};

TEST(ZeroOptimizer, OneRankIsTheUnshardedAdamWBitForBit) {
  auto& be = one_thread();
  for (bool tied : {true, false}) {
    model::Llama a(config(tied), be), b(config(tied), be);
    a.init_random(5);
    b.init_random(5);
    train::AdamWOptions o;
    o.grad_clip = 0.5;  // clipping active
    train::AdamW zero(a, o);
    ReferenceAdamW ref(b, o);
    EXPECT_EQ(zero.shard_begin(), 0);
    EXPECT_EQ(zero.shard_end(), zero.flat_size());
    for (int s = 0; s < 4; ++s) {
      for (auto* m : {&a, &b}) {
        m->zero_grad();
        m->forward(batch(s));
        m->backward();
      }
      EXPECT_EQ(zero.step(1e-2), ref.step(1e-2)) << "step " << s;
    }
    for (size_t i = 0; i < a.params().size(); ++i)
      EXPECT_EQ(host(a.params()[i].value), host(b.params()[i].value)) << a.params()[i].name;
  }
}

TEST(ZeroOptimizer, ParamsAndGradsAreViewsOfOneFlatBuffer) {
  auto& be = one_thread();
  model::Llama m(config(false), be);
  m.init_random(3);
  const std::vector<float> before = host(m.params()[1].value);
  train::AdamW opt(m, {});
  int64_t total = 0;
  for (auto& p : m.params()) total += p.value.numel();
  EXPECT_EQ(opt.flat_size(), total);
  EXPECT_EQ(host(m.params()[1].value), before);  // moved into the flat buffer unchanged
  // Contiguous: the flat order follows backward's groups, so each layer is one range.
  const char* base = static_cast<const char*>(m.find("model.norm.weight")->grad.raw());
  EXPECT_EQ(static_cast<const char*>(m.find("lm_head.weight")->grad.raw()),
            base + m.find("model.norm.weight")->grad.bytes());
  // The model's backward announces every group once, final norm/head first, embeddings last.
  std::vector<int> groups;
  m.set_grad_ready_hook([&](int g) { groups.push_back(g); });
  m.zero_grad();
  m.forward(batch(0));
  m.backward();
  m.set_grad_ready_hook(nullptr);
  EXPECT_EQ(groups, (std::vector<int>{3, 2, 1, 0, -1}));
  // A view past the end of its tensor is an error, not a wild pointer.
  EXPECT_THROW(m.params()[0].value.view(1, {m.params()[0].value.numel()}), Error);
}

// Rank 0 of two whose peer contributes zero gradients, logging the order of its calls: what an
// asynchronous communicator (NCCL's reduce-scatters on their own stream) relies on the optimizer for.
class OrderLoggingComm final : public train::dist::DeviceComm {
 public:
  std::vector<std::string> log;
  int rank() const override { return 0; }
  int size() const override { return 2; }
  int local_rank() const override { return 0; }
  std::string name() const override { return "logging"; }
  void all_reduce_sum(tensor::Tensor&) override { log.push_back("all_reduce"); }
  void all_reduce_sum(std::vector<double>&) override { log.push_back("all_reduce"); }
  void reduce_scatter_sum(const tensor::Tensor& flat, tensor::Tensor& shard, const std::vector<int64_t>& counts) override {
    EXPECT_EQ(counts.size(), 2u);
    EXPECT_EQ(shard.numel(), counts[0]);
    if (shard.numel() > 0 && shard.raw() != flat.raw()) flat.backend().convert(shard, flat.view(0, {counts[0]}));
    log.push_back("reduce_scatter");
  }
  void all_gather(const tensor::Tensor&, tensor::Tensor&, const std::vector<int64_t>&) override {
    log.push_back("all_gather");  // rank 0's part is already in place; the peer's stays as it was
  }
  void broadcast(tensor::Tensor&, int) override { log.push_back("broadcast"); }
  void barrier() override {}
  void wait_for_pending() override { log.push_back("wait"); }
};

TEST(ZeroOptimizer, StepWaitsForTheReduceScattersBeforeReadingTheShards) {
  auto& be = one_thread();
  model::Llama m(config(false), be);
  m.init_random(3);
  OrderLoggingComm comm;
  train::AdamW opt(m, {}, &comm);
  m.zero_grad();
  m.set_grad_ready_hook([&opt](int group) { opt.grads_ready(group); });
  m.forward(batch(0));
  m.backward();
  m.set_grad_ready_hook(nullptr);
  // Backward reduced every group (L, L−1 … 0, −1) as it finished, before the step.
  std::vector<std::string> during(comm.log.begin() + 1, comm.log.end());  // after the first broadcast
  EXPECT_EQ(during, std::vector<std::string>(5, "reduce_scatter"));
  const size_t before_step = comm.log.size();
  const double norm = opt.step(1e-3);
  EXPECT_GT(norm, 0);
  // The step issues no reduce-scatter again and waits for them before the norm's all-reduce
  // (the first read of the reduced shards) and before all-gathering the updated parameters.
  std::vector<std::string> step(comm.log.begin() + static_cast<std::ptrdiff_t>(before_step), comm.log.end());
  EXPECT_EQ(step, (std::vector<std::string>{"wait", "all_reduce", "all_gather"}));
  // A step whose groups were not announced reduces them all in step(), and still waits after.
  comm.log.clear();
  m.zero_grad();
  m.forward(batch(1));
  m.backward();
  opt.step(1e-3);
  ASSERT_EQ(comm.log.size(), 8u);
  EXPECT_EQ(comm.log[4], "reduce_scatter");
  EXPECT_EQ(comm.log[5], "wait");
}

TEST(ZeroOptimizer, BF16ParametersKeepFp32MasterWeights) {
  auto& be = one_thread();
  // BF16 weights with fp32 gradients, as a bf16 model holds them (set by hand: the optimizer
  // needs no forward here).
  model::Llama lo(config(true), be), hi(config(true), be);
  lo.init_random(9);
  hi.init_random(9);
  for (size_t i = 0; i < hi.params().size(); ++i) {
    auto& p = lo.params()[i];
    std::vector<float> w = host(p.value);
    p.value = be.empty(p.value.shape(), tensor::DType::BF16);
    be.upload(p.value, w.data(), tensor::DType::F32);
    w = host(p.value);  // rounded to bf16: both runs start from these weights
    be.upload(hi.params()[i].value, w.data(), tensor::DType::F32);
  }
  train::AdamWOptions o;
  o.grad_clip = 0;
  train::AdamW a(lo, o), b(hi, o);
  EXPECT_EQ(lo.params()[0].grad.dtype(), tensor::DType::F32);  // fp32 gradients
  EXPECT_EQ(lo.params()[0].value.dtype(), tensor::DType::BF16);
  // Tiny updates, many times: bf16 weights alone would round most of them away.
  for (int s = 0; s < 20; ++s) {
    for (size_t i = 0; i < hi.params().size(); ++i) {
      std::vector<float> g(static_cast<size_t>(hi.params()[i].grad.numel()));
      for (size_t k = 0; k < g.size(); ++k) g[k] = std::sin(0.37f * float(k) + float(i) + 0.1f * float(s));
      be.upload(lo.params()[i].grad, g.data(), tensor::DType::F32);
      be.upload(hi.params()[i].grad, g.data(), tensor::DType::F32);
    }
    a.step(1e-4);
    b.step(1e-4);
  }
  // The bf16 weights are the fp32 run's weights rounded: the master copy kept every update.
  for (size_t i = 0; i < hi.params().size(); ++i) {
    std::vector<float> w32 = host(hi.params()[i].value), w16 = host(lo.params()[i].value);
    tensor::Tensor rounded = be.empty(hi.params()[i].value.shape(), tensor::DType::BF16);
    be.upload(rounded, w32.data(), tensor::DType::F32);
    EXPECT_EQ(w16, host(rounded)) << hi.params()[i].name;
  }
  // The one-file state holds the master weights beside the moments, and loads back.
  TempDir dir;
  a.save(dir.file("opt.safetensors"));
  model::SafetensorsReader r(dir.file("opt.safetensors"));
  ASSERT_NE(r.find("model.norm.weight.master"), nullptr);
  EXPECT_EQ(r.find("model.norm.weight.master")->dtype, tensor::DType::F32);
  train::AdamW again(lo, o);
  again.load(dir.file("opt.safetensors"), 20);
  EXPECT_EQ(again.steps(), 20);
}

TEST(ZeroOptimizer, OneFileStateOfF32RunsIsTheOldFormat) {
  auto& be = one_thread();
  model::Llama m(config(true), be);
  m.init_random(1);
  train::AdamW opt(m, {});
  m.zero_grad();
  m.forward(batch(0));
  m.backward();
  opt.step(1e-3);
  TempDir dir;
  opt.save(dir.file("optimizer.safetensors"));
  model::SafetensorsReader r(dir.file("optimizer.safetensors"));
  EXPECT_EQ(r.entries().size(), 2 * m.params().size());  // exp_avg and exp_avg_sq, no master
  ASSERT_NE(r.find("model.embed_tokens.weight.exp_avg_sq"), nullptr);
  EXPECT_EQ(r.find("model.embed_tokens.weight.exp_avg_sq")->shape, (tensor::Shape{29, 16}));
  // load_dir reads it (no index: the one-file format); a different model is a usage error.
  train::AdamW back(m, {});
  back.load_dir(dir.path(), 1);
  model::Llama other(config(false), be);
  train::AdamW wrong(other, {});
  try {
    wrong.load_dir(dir.path(), 1);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
  }
}

}  // namespace
