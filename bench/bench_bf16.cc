// What mixed precision costs on the CPU backend, which has no bf16 arithmetic and runs BF16 ops as
// fp32 kernels on widened copies (src/tensor/cpu/bf16_ops.h): forward + backward tokens/s of the
// training benchmark's model (bench_model.h) in F32 and in BF16 on the same weights and batch, and
// their ratio. The CPU BF16 path exists for tests and for comparing against the CUDA backend, so
// this figure is a guard against pathological copies, not a goal.
//   bench_bf16 [runs=3] [threads=0 (all)] [batch rows=4]
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "bench_model.h"
#include "harness.h"
#include "model/llama.h"
#include "tensor/cpu/cpu_backend.h"

namespace {

using namespace nlm;

double step_seconds(model::Llama& m, const model::Batch& batch) {
  return bench::time_runs(
             [&] {
               m.zero_grad();
               m.forward_backward(batch);
             },
             1, 0)
      .median;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 3;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 0;
  const int B = argc > 3 ? std::atoi(argv[3]) : 4, T = bench::kTrainT;
  auto& cpu = tensor::cpu_backend();
  cpu.set_threads(threads);
  const model::ModelConfig c = bench::train_bench_config();
  model::Llama f32(c, cpu, {tensor::DType::F32, false}), bf16(c, cpu, {tensor::DType::BF16, false});
  f32.init_random(1);
  for (auto& p : f32.params()) cpu.convert(bf16.find(p.name)->value, p.value);
  model::Batch batch;
  batch.B = B;
  batch.T = T;
  std::mt19937 rng(2);
  for (int i = 0; i < B * T; ++i) {
    batch.inputs.push_back(static_cast<int32_t>(rng() % c.vocab_size));
    batch.targets.push_back(static_cast<int32_t>(rng() % c.vocab_size));
  }
  batch.set_default_positions();
  std::printf("model d=%lld L=%lld V=%lld, batch %d x %d, %d threads, median of %d\n",
              static_cast<long long>(c.hidden_size), static_cast<long long>(c.num_hidden_layers),
              static_cast<long long>(c.vocab_size), B, T, cpu.threads(), runs);
  // Alternating steps (after one warm-up each), so load on a shared machine hits both alike; the
  // ratio is taken per pair.
  const double tokens = double(B) * T;
  step_seconds(f32, batch);
  step_seconds(bf16, batch);
  std::vector<double> r32, r16, ratio;
  for (int i = 0; i < runs; ++i) {
    const double t32 = step_seconds(f32, batch), t16 = step_seconds(bf16, batch);
    r32.push_back(tokens / t32);
    r16.push_back(tokens / t16);
    ratio.push_back(t16 / t32);
  }
  auto print = [](const char* name, const bench::Sample& s, const char* unit) {
    std::printf("BENCH %-40s %10.3f %s (median of %d, %.3f .. %.3f)\n", name, s.median, unit, s.runs,
                s.min, s.max);
  };
  print("cpu_fwd_bwd_f32_tokens_per_s", bench::sample_of(r32), "tok/s");
  print("cpu_fwd_bwd_bf16_tokens_per_s", bench::sample_of(r16), "tok/s");
  print("cpu_bf16_over_f32_time_ratio", bench::sample_of(ratio), "x");
  return 0;
}
