// Training throughput and MFU on a CUDA device, for the two shapes issue 17 names: a
// GPT-2-124M-shaped Llama (d=768, 12 layers, 12 heads, SwiGLU 2048 so the MLP has GPT-2's
// parameter count, vocab 50304, tied, seq 1024) and a 1B Llama (Llama 3.2 1B's shape: d=2048,
// 16 layers, 32 heads, 8 KV heads, SwiGLU 8192, vocab 128256, tied, seq 2048). bf16 weights and
// activations, fp32 grads, master weights and AdamW state, as training on a GPU runs. MFU is the
// model's FLOPs per token (6·params + attention, Llama::train_flops_per_token) times tokens/s,
// over the backend's dense bf16 peak (CudaBackend::peak_flops). The reference points: llm.c
// reaches 38–56 % for GPT-2 124M–1.6B on A100/H100, torchtitan 33–39 % on Llama 3.1 8B.
// Without a CUDA device it says so and exits 0, so it can run in any build.
//   bench_train_gpu [124m|1b|both=both] [steps=10] [device=cuda]
// Per shape, env NLM_BENCH_B / NLM_BENCH_T override the batch and sequence length, and
// NLM_BENCH_RECOMPUTE=1 turns activation recomputation on.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "core/error.h"
#include "harness.h"
#include "model/llama.h"
#include "tensor/backend.h"
#include "train/adamw.h"

namespace {

using namespace nlm;

struct Shape {
  const char* name;
  model::ModelConfig config;
  int B, T;
};

Shape gpt2_124m() {
  model::ModelConfig c;
  c.vocab_size = 50304;
  c.hidden_size = 768;
  c.intermediate_size = 2048;
  c.num_hidden_layers = 12;
  c.num_attention_heads = 12;
  c.num_key_value_heads = 12;
  c.max_position_embeddings = 1024;
  c.tie_word_embeddings = true;
  return {"gpt2_124m_llama", c, 32, 1024};
}

Shape llama_1b() {
  model::ModelConfig c;
  c.vocab_size = 128256;
  c.hidden_size = 2048;
  c.intermediate_size = 8192;
  c.num_hidden_layers = 16;
  c.num_attention_heads = 32;
  c.num_key_value_heads = 8;
  c.max_position_embeddings = 2048;
  c.rope_theta = 500000;
  c.tie_word_embeddings = true;
  return {"llama_1b", c, 8, 2048};
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

void run(Shape s, int steps, tensor::Backend& be) {
  s.B = env_int("NLM_BENCH_B", s.B);
  s.T = env_int("NLM_BENCH_T", s.T);
  s.config.max_position_embeddings = std::max<int64_t>(s.config.max_position_embeddings, s.T);
  model::ModelOptions mo;
  mo.dtype = tensor::DType::BF16;
  mo.recompute = env_int("NLM_BENCH_RECOMPUTE", 0) != 0;
  model::Llama m(s.config, be, mo);
  m.init_random(1);
  train::AdamW opt(m, {});
  std::mt19937 rng(3);
  model::Batch batch;
  batch.B = s.B;
  batch.T = s.T;
  for (int i = 0; i < s.B * s.T; ++i) {
    batch.inputs.push_back(static_cast<int32_t>(rng() % s.config.vocab_size));
    batch.targets.push_back(static_cast<int32_t>(rng() % s.config.vocab_size));
  }
  batch.set_default_positions();
  std::printf("%s: params %lld, batch %d x %d, recompute %s\n", s.name,
              static_cast<long long>(s.config.parameter_count()), s.B, s.T,
              mo.recompute ? "on" : "off");
  double loss = 0;
  auto step = [&] {
    m.zero_grad();
    loss = m.forward_backward(batch);
    opt.step(3e-4);
    be.synchronize();
  };
  bench::Sample t = bench::time_runs(step, steps, 2);
  const double tokens = double(s.B) * s.T;
  const std::string tag = std::string(s.name) + "_" + be.name();
  bench::report_rate(tag + "_train_tokens_per_s", tokens, t, "tokens/s");
  const double mfu = tokens / t.median * m.train_flops_per_token(s.T) / be.peak_flops();
  bench::report_value(tag + "_train_mfu_bf16", 100 * mfu, "%");
  std::printf("%s: last loss %.4f (random tokens: about ln V = %.2f)\n", s.name, loss,
              std::log(double(s.config.vocab_size)));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "both";
  const int steps = argc > 2 ? std::atoi(argv[2]) : 10;
  const std::string device = argc > 3 ? argv[3] : "cuda";
  if (which != "124m" && which != "1b" && which != "both") {
    std::fprintf(stderr, "usage: bench_train_gpu [124m|1b|both] [steps] [device]\n");
    return 2;
  }
  tensor::Backend* be = nullptr;
  try {
    be = &tensor::backend_for(device);
  } catch (const Error& e) {
    std::printf("bench_train_gpu: skipped: no CUDA device (%s)\n", e.what());
    return 0;
  }
  try {
    bench::report_value("peak_flops_bf16_" + be->name(), be->peak_flops() / 1e12, "TFLOP/s");
    if (which != "1b") run(gpt2_124m(), steps, *be);
    if (which != "124m") run(llama_1b(), steps, *be);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_train_gpu: %s\n", e.what());
    return 1;
  }
  return 0;
}
