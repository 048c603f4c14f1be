// The backend seam end to end: a second backend (the test's FakeBackend, which forwards to the
// CPU kernels under another name) trains a tiny Llama, runs the trainer through
// TrainOptions::device and decodes with a KV cache, with no change to model or trainer code.
// Results must equal the CPU backend's bit for bit, the fake's ops must really have run, and
// an op the fake does not support must be avoided through its fallback.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "data/token_shard.h"
#include "fake_backend.h"
#include "model/llama.h"
#include "model/sampler.h"
#include "tensor/backend.h"
#include "test_util.h"
#include "tiny_llama.h"
#include "train/adamw.h"
#include "train/trainer.h"

namespace nlm::testing {
namespace {

using tensor::Op;

std::vector<float> host(const tensor::Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  t.backend().download(t, v.data(), tensor::DType::F32);
  return v;
}

struct StepResult {
  std::vector<double> losses;
  std::vector<std::vector<float>> grads, params;
};

// Three optimizer steps: forward, backward, AdamW; the gradients of the last step and the
// parameters after it.
StepResult train_steps(tensor::Backend& be) {
  model::Llama m(seam_config(), be);
  m.init_random(11);
  train::AdamW opt(m, {});
  StepResult r;
  for (int step = 0; step < 3; ++step) {
    m.zero_grad();
    r.losses.push_back(m.forward(seam_batch(step)));
    m.backward();
    opt.step(1e-2);
  }
  for (auto& p : m.params()) {
    r.grads.push_back(host(p.grad));
    r.params.push_back(host(p.value));
  }
  return r;
}

class BackendSeam : public ::testing::Test {
 protected:
  void SetUp() override {
    fake().set_unsupported({Op::AttentionCached});
    fake().reset_calls();
  }
  void TearDown() override { SetUp(); }
  FakeBackend& fake() { return fake_backend(); }
};

TEST_F(BackendSeam, TrainingStepOnAnotherBackendEqualsCpu) {
  StepResult cpu = train_steps(tensor::backend_for("cpu"));
  StepResult other = train_steps(tensor::backend_for("fake"));
  EXPECT_EQ(cpu.losses, other.losses);
  EXPECT_EQ(cpu.grads, other.grads);
  EXPECT_EQ(cpu.params, other.params);
  EXPECT_GT(cpu.losses[0], cpu.losses[2]);  // it learned something
  // Every op of a training step ran on the fake backend; the unsupported one never did.
  for (Op op : {Op::EmbeddingForward, Op::EmbeddingBackward, Op::MatmulForward,
                Op::MatmulBackward, Op::RmsnormForward, Op::RmsnormBackward, Op::RopeForward,
                Op::RopeBackward, Op::AttentionForward, Op::AttentionBackward, Op::SwigluForward,
                Op::SwigluBackward, Op::CrossEntropyForward, Op::CrossEntropyBackward, Op::Add,
                Op::Sum, Op::SumSquares, Op::AdamwUpdate})
    EXPECT_GT(fake().calls(op), 0) << tensor::op_name(op);
  EXPECT_EQ(fake().calls(Op::AttentionCached), 0);
  EXPECT_EQ(fake().calls(Op::AttentionForward), 3 * 2);  // steps × layers
}

// Greedy decoding of a prompt, then 6 tokens one at a time; the logits of every call.
std::vector<std::vector<float>> decode_all(tensor::Backend& be) {
  model::Llama m(seam_config(), be);
  m.init_random(5);
  m.reset_cache(16);
  std::vector<std::vector<float>> all = {m.decode({1, 4, 9, 16})};
  for (int i = 0; i < 6; ++i) {
    const auto& last = all.back();
    int32_t next = static_cast<int32_t>(std::max_element(last.begin(), last.end()) - last.begin());
    all.push_back(m.decode({next}));
  }
  return all;
}

TEST_F(BackendSeam, DecodeFallsBackToAttentionForwardWithoutCachedAttention) {
  auto cpu = decode_all(tensor::backend_for("cpu"));
  auto other = decode_all(tensor::backend_for("fake"));  // attention_cached unsupported
  EXPECT_EQ(fake().calls(Op::AttentionCached), 0);
  EXPECT_EQ(fake().calls(Op::AttentionForward), 7 * 2);  // decode calls × layers
  ASSERT_EQ(cpu.size(), other.size());
  for (size_t i = 0; i < cpu.size(); ++i) {
    ASSERT_EQ(cpu[i].size(), other[i].size());
    // Same math by another kernel: equal up to float rounding, and the same greedy tokens.
    for (size_t v = 0; v < cpu[i].size(); ++v) EXPECT_NEAR(cpu[i][v], other[i][v], 1e-5) << i;
    EXPECT_EQ(std::max_element(cpu[i].begin(), cpu[i].end()) - cpu[i].begin(),
              std::max_element(other[i].begin(), other[i].end()) - other[i].begin());
  }
  // With attention_cached supported, decoding uses it and matches the CPU bit for bit.
  fake().set_unsupported({});
  fake().reset_calls();
  EXPECT_EQ(decode_all(tensor::backend_for("fake")), cpu);
  EXPECT_EQ(fake().calls(Op::AttentionCached), 7 * 2);
  EXPECT_EQ(fake().calls(Op::AttentionForward), 0);
}

TEST_F(BackendSeam, GenerationThroughTheFallbackPicksTheSameTokens) {
  model::SamplingOptions s;
  s.temperature = 0;
  s.max_tokens = 8;
  auto gen = [&](tensor::Backend& be) {
    model::Llama m(seam_config(), be);
    m.init_random(3);
    return model::generate(m, {2, 3, 5}, s, [](int32_t) { return true; });
  };
  auto cpu = gen(tensor::backend_for("cpu"));
  EXPECT_EQ(cpu.size(), 8u);
  EXPECT_EQ(gen(tensor::backend_for("fake")), cpu);
  EXPECT_EQ(fake().calls(Op::AttentionCached), 0);
  EXPECT_GT(fake().calls(Op::AttentionForward), 0);
}

TEST_F(BackendSeam, ModelRefusesABackendWithoutAnOpItNeeds) {
  fake().set_unsupported({Op::SwigluForward});
  try {
    model::Llama m(seam_config(), tensor::backend_for("fake"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("fake backend has no swiglu_forward for F32"),
              std::string::npos)
        << e.what();
  }
  // Backward ops are checked when backward runs: forward alone works without them.
  fake().set_unsupported({Op::AttentionBackward});
  model::Llama m(seam_config(), tensor::backend_for("fake"));
  m.init_random(1);
  double loss = m.forward(seam_batch(0));
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_THROW(m.backward(), Error);
  EXPECT_EQ(fake().calls(Op::AttentionBackward), 0);
}

// Writes token documents into a shard of vocabulary 29.
void write_tokens(const std::string& path) {
  data::TokShardWriter w(path, 29, Hash128{});
  for (int d = 0; d < 12; ++d) {
    std::vector<uint32_t> t;
    for (int i = 0; i < 9 + d % 4; ++i) t.push_back(static_cast<uint32_t>((d * 3 + i * i) % 29));
    w.add_document(t);
  }
  w.finish();
}

TEST_F(BackendSeam, RunTrainOnAnotherDeviceEqualsCpu) {
  TempDir dir;
  write_tokens(dir.file("d.tok"));
  train::TrainOptions o;
  o.model = seam_config();
  o.train_data = {{{dir.file("d.tok")}, 1.0}};
  o.batch_size = 2;
  o.seq_len = 8;
  o.steps = 3;
  o.log_every = 0;
  o.checkpoint_every = 0;
  o.out_dir = dir.file("cpu");
  train::TrainResult cpu = train::run_train(o);
  o.out_dir = dir.file("fake");
  o.device = "fake";
  train::TrainResult other = train::run_train(o);
  EXPECT_EQ(cpu.losses, other.losses);
  EXPECT_EQ(read_text(dir.file("cpu/model/model.safetensors")),
            read_text(dir.file("fake/model/model.safetensors")));
  EXPECT_GT(fake().calls(Op::AdamwUpdate), 0);
  // MFU is measured against the device's own peak.
  EXPECT_EQ(other.sgemm_gflops, FakeBackend::kPeakFlops / 1e9);
  EXPECT_GT(cpu.sgemm_gflops, 0.1);

  o.device = "nope";
  o.out_dir = dir.file("nope");
  EXPECT_THROW(train::run_train(o), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("nope")));
}

}  // namespace
}  // namespace nlm::testing
