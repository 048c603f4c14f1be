// SFT throughput against plain pretraining on the same model and row shape: the goal is that
// packed SFT trains at least 0.9× as many real tokens per second as pretraining (packing leaves
// only a few per cent of each row empty, and document masking costs nothing extra). Also shows
// what padding (one example per row) costs. Config as bench_train: d=384, 6 layers, 6 heads,
// 2 KV heads, SwiGLU 1536, vocab 8192, batch 8 × 256; examples of 24..256 tokens (uniform), the
// second half of each in the loss. Each figure is the median over `reps` timed runs of `steps`
// optimizer steps (real tokens / seconds), the three timed in turn within each repetition; the
// ratios are medians of each repetition's back-to-back ratios, which a busy machine disturbs less.
//   bench_sft [steps=1] [reps=15] [threads=0 (all)]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/runtime.h"
#include "bench_model.h"
#include "harness.h"
#include "model/llama.h"
#include "tensor/cpu/cpu_backend.h"
#include "train/adamw.h"
#include "train/sft_batches.h"

namespace {

using namespace nlm;

constexpr int kB = bench::kTrainB, kT = bench::kTrainT;

// Plain pretraining rows: every slot is a real token.
class FullRows : public train::LoopData {
 public:
  explicit FullRows(int64_t vocab) {
    std::mt19937 rng(3);
    b_.B = kB;
    b_.T = kT;
    for (int i = 0; i < kB * kT; ++i) {
      b_.inputs.push_back(static_cast<int32_t>(rng() % vocab));
      b_.targets.push_back(static_cast<int32_t>(rng() % vocab));
    }
    b_.set_default_positions();
  }
  model::Batch next(int64_t& tokens) override {
    tokens = int64_t(kB) * kT;
    return b_;
  }
  std::string state_json() const override { return "{}"; }
  void restore(const std::string&) override {}

 private:
  model::Batch b_;
};

std::vector<train::SftTokens> examples(int64_t vocab, int n) {
  std::mt19937 rng(5);
  std::vector<train::SftTokens> ex(static_cast<size_t>(n));
  for (auto& e : ex) {
    int L = 24 + static_cast<int>(rng() % (kT + 1 - 24));
    for (int t = 0; t < L; ++t) {
      e.ids.push_back(static_cast<uint32_t>(rng() % vocab));
      e.mask.push_back(t >= L / 2);
    }
  }
  return ex;
}

// Real tokens/s of `steps` optimizer steps on `data`.
double run_steps(model::Llama& m, train::AdamW& opt, train::LoopData& data, int steps) {
  double tokens = 0, t0 = bench::now_seconds();
  for (int s = 0; s < steps; ++s) {
    int64_t n = 0;
    model::Batch b = data.next(n);
    tokens += static_cast<double>(n);
    m.zero_grad();
    m.forward(b);
    m.backward();
    opt.step(1e-5);
  }
  return tokens / (bench::now_seconds() - t0);
}

void report(const std::string& name, const bench::Sample& s) {
  std::printf("BENCH %-40s %10.1f tokens/s (median of %d, %.1f .. %.1f)\n", name.c_str(), s.median, s.runs, s.min,
              s.max);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int steps = argc > 1 ? std::atoi(argv[1]) : 1;
  int reps = argc > 2 ? std::atoi(argv[2]) : 15;
  int threads = argc > 3 ? std::atoi(argv[3]) : 0;
  RuntimeOptions ro;
  ro.threads = threads;
  set_runtime_options(ro);
  auto& be = static_cast<tensor::CpuBackend&>(tensor::cpu_backend());
  be.set_threads(thread_count());
  std::printf("threads %d, B=%d T=%d\n", thread_count(), kB, kT);

  model::ModelConfig cfg = bench::train_bench_config();
  model::Llama m(cfg, be);
  m.init_random(1);
  train::AdamW opt(m, {});

  FullRows full(cfg.vocab_size);
  auto ex = examples(cfg.vocab_size, 2000);
  train::SftBatches packed(ex, kB, kT, data::SftPacking::Bfd, 1, 0);
  train::SftBatches padded(ex, kB, kT, data::SftPacking::None, 1, 0);
  bench::report_value("sft_packing_fill", 100 * packed.fill(), "% of row slots");

  // The three are timed in turn within each repetition, so a busy machine slows them alike.
  train::LoopData* data[3] = {&full, &packed, &padded};
  std::vector<double> rates[3];
  for (auto* d : data) run_steps(m, opt, *d, 1);  // warm-up: allocation
  for (int r = 0; r < reps; ++r)
    for (int k = 0; k < 3; ++k) rates[k].push_back(run_steps(m, opt, *data[k], steps));
  bench::Sample pre = bench::sample_of(rates[0]), sft = bench::sample_of(rates[1]), pad = bench::sample_of(rates[2]);
  report("pretrain_tokens_per_s", pre);
  report("sft_packed_tokens_per_s", sft);
  report("sft_padded_tokens_per_s", pad);
  // Ratios of runs made back to back are steadier than ratios of medians on a shared machine.
  std::vector<double> packed_ratio, padded_ratio;
  for (int r = 0; r < reps; ++r) {
    packed_ratio.push_back(rates[1][static_cast<size_t>(r)] / rates[0][static_cast<size_t>(r)]);
    padded_ratio.push_back(rates[2][static_cast<size_t>(r)] / rates[0][static_cast<size_t>(r)]);
  }
  bench::Sample pr = bench::sample_of(packed_ratio), dr = bench::sample_of(padded_ratio);
  std::printf("BENCH %-40s %10.3f x (goal >= 0.9; median of %d back-to-back ratios, %.3f .. %.3f)\n",
              "sft_packed_over_pretrain", pr.median, pr.runs, pr.min, pr.max);
  std::printf("BENCH %-40s %10.3f x (median of %d back-to-back ratios, %.3f .. %.3f)\n",
              "sft_padded_over_pretrain", dr.median, dr.runs, dr.min, dr.max);
  return 0;
}
