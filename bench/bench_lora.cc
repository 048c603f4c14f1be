// LoRA fine-tuning throughput against full fine-tuning on the same model and packed SFT rows
// (bench_sft's shapes: d=384, 6 layers, SwiGLU 1536, vocab 8192, batch 8 × 256). LoRA freezes the
// base, so its backward skips every frozen weight's dW product and AdamW touches only the
// adapters; the adapters add two thin matmuls per projection. Reports real tokens/s of each
// (median over `reps` runs of `steps` optimizer steps, timed in turn) and the median of the
// back-to-back ratios, for rank 16 on all seven projections and rank 16 on q_proj/v_proj, plus
// the trainable parameter counts.
//   bench_lora [steps=1] [reps=11] [threads=0 (all)]
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <random>
#include <vector>

#include "bench_model.h"
#include "core/runtime.h"
#include "harness.h"
#include "model/llama.h"
#include "tensor/cpu/cpu_backend.h"
#include "train/adamw.h"
#include "train/sft_batches.h"

namespace {

using namespace nlm;

std::vector<train::SftTokens> examples(int64_t vocab, int n) {
  std::mt19937 rng(5);
  std::vector<train::SftTokens> ex(static_cast<size_t>(n));
  for (auto& e : ex) {
    int L = 24 + static_cast<int>(rng() % (bench::kTrainT + 1 - 24));
    for (int t = 0; t < L; ++t) {
      e.ids.push_back(static_cast<uint32_t>(rng() % vocab));
      e.mask.push_back(t >= L / 2);
    }
  }
  return ex;
}

struct Run {
  const char* name;
  std::unique_ptr<model::Llama> model;
  std::unique_ptr<train::AdamW> opt;
  std::vector<double> rates;
};

double run_steps(Run& r, train::LoopData& data, int steps) {
  double tokens = 0, t0 = bench::now_seconds();
  for (int s = 0; s < steps; ++s) {
    int64_t n = 0;
    model::Batch b = data.next(n);
    tokens += static_cast<double>(n);
    r.model->zero_grad();
    r.model->forward(b);
    r.model->backward();
    r.opt->step(1e-4);
  }
  return tokens / (bench::now_seconds() - t0);
}

double trainable(const model::Llama& m) {
  double n = 0;
  for (const auto& p : m.params()) n += p.trainable ? double(p.value.numel()) : 0;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  int steps = argc > 1 ? std::atoi(argv[1]) : 1;
  int reps = argc > 2 ? std::atoi(argv[2]) : 11;
  RuntimeOptions ro;
  ro.threads = argc > 3 ? std::atoi(argv[3]) : 0;
  set_runtime_options(ro);
  auto& be = static_cast<tensor::CpuBackend&>(tensor::cpu_backend());
  be.set_threads(thread_count());
  const model::ModelConfig cfg = bench::train_bench_config();
  std::printf("threads %d, B=%d T=%d\n", thread_count(), bench::kTrainB, bench::kTrainT);

  Run runs[3] = {{"full_ft", nullptr, nullptr, {}}, {"lora_r16_all_linear", nullptr, nullptr, {}},
                 {"lora_r16_q_v", nullptr, nullptr, {}}};
  for (int k = 0; k < 3; ++k) {
    runs[k].model = std::make_unique<model::Llama>(cfg, be);
    runs[k].model->init_random(1);
    model::LoraConfig lc;
    lc.rank = 16;
    lc.alpha = 32;
    if (k == 2) lc.targets = {"q_proj", "v_proj"};
    if (k > 0) runs[k].model->add_lora(lc, 2);
    runs[k].opt = std::make_unique<train::AdamW>(*runs[k].model, train::AdamWOptions{});
    bench::report_value(std::string(runs[k].name) + "_trainable_params", trainable(*runs[k].model), "params");
  }
  auto ex = examples(cfg.vocab_size, 2000);
  train::SftBatches packed(ex, bench::kTrainB, bench::kTrainT, data::SftPacking::Bfd, 1, 0);
  for (auto& r : runs) run_steps(r, packed, 1);  // warm-up: allocation
  for (int i = 0; i < reps; ++i)
    for (auto& r : runs) r.rates.push_back(run_steps(r, packed, steps));
  for (auto& r : runs) {
    bench::Sample s = bench::sample_of(r.rates);
    std::printf("BENCH %-40s %10.1f tokens/s (median of %d, %.1f .. %.1f)\n",
                (std::string(r.name) + "_tokens_per_s").c_str(), s.median, s.runs, s.min, s.max);
  }
  for (int k = 1; k < 3; ++k) {
    std::vector<double> ratio;
    for (int i = 0; i < reps; ++i) ratio.push_back(runs[k].rates[size_t(i)] / runs[0].rates[size_t(i)]);
    bench::Sample s = bench::sample_of(ratio);
    std::printf("BENCH %-40s %10.3f x (median of %d back-to-back ratios, %.3f .. %.3f)\n",
                (std::string(runs[k].name) + "_over_full_ft").c_str(), s.median, s.runs, s.min, s.max);
  }
  return 0;
}
