// Multiple-choice scoring throughput (eval::score_tokens, what `eval run` uses for
// multiple_choice and loglikelihood tasks) against `eval ppl`'s rolling perplexity on the same
// model and the same token sequences: the goal is ≥ 0.9×, i.e. batching by length makes
// lm-eval-style scoring as fast per token as plain perplexity. Model as bench_train (d=384,
// 6 layers, vocab 8192); 48 questions × 4 choices, contexts of 48..160 tokens and continuations
// of 2..24 (random ids). Tokens/s counts every token a forward pass reads (context and
// continuation). Medians over `reps` runs, the two timed in turn; the ratio is the median of
// the back-to-back ratios.
//   bench_scoring [reps=5] [threads=0 (all)] [batch_size=8]
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench_model.h"
#include "core/runtime.h"
#include "eval/loglikelihood.h"
#include "eval/perplexity.h"
#include "harness.h"
#include "model/llama.h"
#include "tensor/cpu/cpu_backend.h"

int main(int argc, char** argv) {
  using namespace nlm;
  const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  RuntimeOptions ro;
  ro.threads = argc > 2 ? std::atoi(argv[2]) : 0;
  set_runtime_options(ro);
  auto& be = static_cast<tensor::CpuBackend&>(tensor::cpu_backend());
  be.set_threads(thread_count());
  model::ModelConfig cfg = bench::train_bench_config();
  cfg.bos_token_id = 1;
  model::Llama m(cfg, be);
  m.init_random(1);

  std::mt19937 rng(7);
  auto ids = [&](int n) {
    std::vector<int32_t> v;
    for (int i = 0; i < n; ++i) v.push_back(static_cast<int32_t>(2 + rng() % (cfg.vocab_size - 2)));
    return v;
  };
  std::vector<eval::TokenRequest> requests;
  std::vector<std::vector<int32_t>> docs;
  double tokens = 0;
  for (int q = 0; q < 48; ++q) {
    std::vector<int32_t> ctx = ids(48 + static_cast<int>(rng() % 113));
    ctx.insert(ctx.begin(), 1);  // the prefix token lm-eval puts before the context
    for (int c = 0; c < 4; ++c) {
      eval::TokenRequest r;
      r.tokens = ctx;
      std::vector<int32_t> cont = ids(2 + static_cast<int>(rng() % 23));
      r.tokens.insert(r.tokens.end(), cont.begin(), cont.end());
      r.n_context = ctx.size();
      // Perplexity reads the same sequence (its prefix token is the BOS already in front).
      docs.emplace_back(r.tokens.begin() + 1, r.tokens.end());
      tokens += static_cast<double>(r.tokens.size() - 1);
      requests.push_back(std::move(r));
    }
  }
  eval::ScoringOptions so;
  so.batch_size = argc > 3 ? std::atoi(argv[3]) : 8;
  eval::PerplexityOptions po;
  std::printf("threads %d, %zu requests, %.0f tokens, batch %d\n", thread_count(), requests.size(), tokens,
              so.batch_size);
  std::vector<double> mc, ppl, ratio;
  eval::score_tokens(m, {requests.front()}, so);  // warm-up
  for (int r = 0; r < reps; ++r) {
    double t0 = bench::now_seconds();
    eval::score_tokens(m, requests, so);
    double t1 = bench::now_seconds();
    eval::rolling_perplexity(m, docs, {}, po);
    double t2 = bench::now_seconds();
    mc.push_back(tokens / (t1 - t0));
    ppl.push_back(tokens / (t2 - t1));
    ratio.push_back(mc.back() / ppl.back());
  }
  bench::Sample a = bench::sample_of(mc), b = bench::sample_of(ppl), q = bench::sample_of(ratio);
  std::printf("BENCH %-40s %10.1f tokens/s (median of %d, %.1f .. %.1f)\n", "mc_scoring_tokens_per_s", a.median,
              a.runs, a.min, a.max);
  std::printf("BENCH %-40s %10.1f tokens/s (median of %d, %.1f .. %.1f)\n", "eval_ppl_tokens_per_s", b.median,
              b.runs, b.min, b.max);
  std::printf("BENCH %-40s %10.3f x (goal >= 0.9; median of %d back-to-back ratios, %.3f .. %.3f)\n",
              "mc_scoring_over_eval_ppl", q.median, q.runs, q.min, q.max);
  return 0;
}
