// DPO step time against an SFT step on the same batch: the goal is that a DPO optimizer step
// takes at most 2.2× an SFT step on the same shapes (both run one forward and one backward over
// the same rows; DPO adds the per-sequence log-probs on the host and the weighted backward's
// scaling of the logit gradients). Model as bench_train (bench_model.h), 8 rows × 256 = 4 pairs
// whose chosen and rejected sides have 256 tokens, the second half of each the response. Each
// figure is the median over `reps` steps, the two timed in turn; the ratio is the median of the
// back-to-back ratios.
//   bench_dpo [reps=7] [threads=0 (all)]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "bench_model.h"
#include "core/runtime.h"
#include "harness.h"
#include "model/llama.h"
#include "tensor/cpu/cpu_backend.h"
#include "train/adamw.h"
#include "train/dpo_step.h"

namespace {

using namespace nlm;

constexpr int kPairs = bench::kTrainB / 2, kT = bench::kTrainT;

train::DpoSplit pairs(int64_t vocab) {
  std::mt19937 rng(5);
  train::DpoSplit s;
  for (int i = 0; i < 2 * kPairs; ++i) {
    train::SftTokens e;
    for (int t = 0; t <= kT; ++t) {
      e.ids.push_back(static_cast<uint32_t>(rng() % vocab));
      e.mask.push_back(t > kT / 2);
    }
    s.examples.push_back(std::move(e));
  }
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = argc > 1 ? std::atoi(argv[1]) : 7;
  RuntimeOptions ro;
  ro.threads = argc > 2 ? std::atoi(argv[2]) : 0;
  set_runtime_options(ro);
  auto& be = static_cast<tensor::CpuBackend&>(tensor::cpu_backend());
  be.set_threads(thread_count());
  std::printf("threads %d, %d pairs = %d rows x T=%d\n", thread_count(), kPairs, 2 * kPairs, kT);

  model::ModelConfig cfg = bench::train_bench_config();
  model::Llama m(cfg, be);
  m.init_random(1);
  train::AdamW opt(m, {});
  train::DpoSplit split = pairs(cfg.vocab_size);
  train::DpoBatches data(split, kPairs, kT, 1);
  const train::SeqLogps ref = train::score_pairs(m, data, kPairs);
  int64_t tokens = 0;
  const model::Batch batch = data.pairs_batch(0, kPairs, tokens);
  std::vector<size_t> ids(kPairs);
  for (int i = 0; i < kPairs; ++i) ids[static_cast<size_t>(i)] = static_cast<size_t>(i);
  train::DpoLossOptions loss;
  auto sft_step = [&] {
    m.zero_grad();
    m.forward(batch);
    m.backward();
    opt.step(1e-7);
  };
  auto dpo_step = [&] {
    train::DpoFigures f;
    m.zero_grad();
    train::dpo_micro_step(m, batch, ids, ref, loss, 1.0, f);
    opt.step(1e-7);
  };
  sft_step();  // warm-up: allocation
  dpo_step();
  std::vector<double> sft, dpo, ratio;
  for (int r = 0; r < reps; ++r) {
    double t0 = bench::now_seconds();
    sft_step();
    double t1 = bench::now_seconds();
    dpo_step();
    double t2 = bench::now_seconds();
    sft.push_back(t1 - t0);
    dpo.push_back(t2 - t1);
    ratio.push_back((t2 - t1) / (t1 - t0));
  }
  std::printf("BENCH %-40s %10.3f s\n", "sft_step_seconds", median(sft));
  std::printf("BENCH %-40s %10.3f s\n", "dpo_step_seconds", median(dpo));
  std::printf("BENCH %-40s %10.3f x (goal <= 2.2; median of %d back-to-back ratios, %.3f .. %.3f)\n",
              "dpo_over_sft_step_time", median(ratio), reps, *std::min_element(ratio.begin(), ratio.end()),
              *std::max_element(ratio.begin(), ratio.end()));
  return 0;
}
