// Continuous batching: requests decoded together give the same tokens as each alone, a repeated
// prompt is served from the prefix cache, a cancelled job stops and frees its slot, and the
// metrics count what happened.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "fake_backend.h"
#include "model/backend_decoder.h"
#include "model/decoder.h"
#include "model/llama.h"
#include "model/model_helpers.h"
#include "serve/scheduler.h"
#include "tensor/backend.h"
#include "tokenizer/trainer.h"

namespace nlm::testing {
namespace {

using serve::Job;
using serve::Metrics;
using serve::Piece;
using serve::Scheduler;

struct Fixture {
  tokenizer::Tokenizer tok;
  std::unique_ptr<model::Llama> model;
  Fixture() {
    tokenizer::TrainOptions o;
    o.vocab_size = 300;
    o.min_frequency = 1;
    tok = tokenizer::train_bpe_from_counts({{"The", 5}, {" cat", 4}, {"Tá", 3}, {" 我們", 3}}, o);
    model::ModelConfig c = tiny_config(/*tied=*/true);
    c.vocab_size = tok.vocab_size();
    c.hidden_size = 32;
    c.intermediate_size = 48;
    c.head_dim = 8;
    c.max_position_embeddings = 4096;
    c.initializer_range = 0.3;
    model = std::make_unique<model::Llama>(c, tensor::backend_for("cpu"));
    model->init_random(4);
  }
  std::unique_ptr<model::Decoder> decoder(int slots, int context = 96) {
    return std::make_unique<model::Decoder>(*model,
                                            model::DecoderOptions{tensor::cpu::WeightFormat::F32, 2, slots, context, 256});
  }
};

std::vector<int32_t> prompt_of(int i) {
  std::vector<int32_t> p;
  for (int k = 0; k < 3 + i * 2; ++k) p.push_back(static_cast<int32_t>((i * 37 + k * 11) % 250 + 3));
  return p;
}

model::SamplingOptions sampling_of(int i) {
  model::SamplingOptions s;
  s.temperature = i % 2 ? 0.8 : 0.0;
  s.seed = 100 + static_cast<uint64_t>(i);
  s.max_tokens = 20 + i;
  return s;
}

std::vector<int32_t> run_job(Job& j, std::string* text = nullptr) {
  Piece p;
  std::vector<int32_t> ids;
  while (j.next(p)) {
    if (text) *text += p.text;
    for (auto& t : p.logprobs) ids.push_back(t.token);
  }
  return ids;
}

// Requests 0 .. n-1 generated alone: one slot, one request at a time, through model::generate.
std::vector<std::vector<int32_t>> alone(Fixture& f, int n) {
  auto single = f.decoder(1);
  std::vector<std::vector<int32_t>> out;
  for (int i = 0; i < n; ++i)
    out.push_back(model::generate(*single, 0, prompt_of(i), sampling_of(i), [](int32_t) { return true; }));
  return out;
}

// Requests 0 .. n-1 submitted at once and read concurrently; their tokens, and the jobs.
std::vector<std::vector<int32_t>> together(Scheduler& sched, int n, std::vector<std::shared_ptr<Job>>& jobs) {
  for (int i = 0; i < n; ++i) jobs.push_back(sched.submit(prompt_of(i), sampling_of(i), {}, 0));
  std::vector<std::future<std::vector<int32_t>>> running;
  for (auto& j : jobs) running.push_back(std::async(std::launch::async, [j] { return run_job(*j); }));
  std::vector<std::vector<int32_t>> out;
  for (auto& r : running) out.push_back(r.get());
  return out;
}

TEST(Scheduler, BatchedJobsGenerateWhatEachGeneratesAlone) {
  Fixture f;
  const auto want = alone(f, 6);
  // Together: 3 slots for 6 concurrent requests, so they join and leave between steps.
  Metrics metrics;
  Scheduler sched(f.decoder(3), f.tok, {}, metrics);
  std::vector<std::shared_ptr<Job>> jobs;
  const auto got = together(sched, 6, jobs);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(got[static_cast<size_t>(i)], want[static_cast<size_t>(i)]) << "request " << i;
    EXPECT_EQ(jobs[static_cast<size_t>(i)]->finish_reason, "length");
    EXPECT_EQ(jobs[static_cast<size_t>(i)]->completion_tokens, 20 + i);
  }
  EXPECT_EQ(metrics.requests_ok.load(), 6u);
  EXPECT_EQ(metrics.generated_tokens.load(), uint64_t(20 + 21 + 22 + 23 + 24 + 25));
  EXPECT_LT(metrics.steps.load(), metrics.generated_tokens.load());  // steps were shared
}

// `serve --device cuda` batches through BackendDecoder (the model's own decode on its backend, a
// cache per slot); on the test's "fake" backend it generates what the CPU engine does alone.
TEST(Scheduler, BackendDecoderJobsGenerateWhatTheEngineGenerates) {
  Fixture f;
  const auto want = alone(f, 5);
  auto m = std::make_unique<model::Llama>(f.model->config(), fake_backend());
  m->init_random(4);
  Metrics metrics;
  Scheduler sched(std::make_unique<model::BackendDecoder>(std::move(m), 2, 96), f.tok, {}, metrics);
  std::vector<std::shared_ptr<Job>> jobs;
  const auto got = together(sched, 5, jobs);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(got[static_cast<size_t>(i)], want[static_cast<size_t>(i)]) << "request " << i;
  EXPECT_EQ(metrics.requests_ok.load(), 5u);
  EXPECT_NE(sched.decoder().describe().find("on fake"), std::string::npos);
}

TEST(Scheduler, RepeatedPromptComesFromThePrefixCache) {
  Fixture f;
  Metrics metrics;
  Scheduler sched(f.decoder(2), f.tok, {}, metrics);
  auto p = prompt_of(5);
  auto a = sched.submit(p, sampling_of(0), {}, 0);
  auto first = run_job(*a);
  EXPECT_EQ(a->cached_prompt_tokens, 0);
  // A follow-up that extends the conversation: the earlier prompt and answer are cached.
  auto longer = p;
  longer.insert(longer.end(), first.begin(), first.end() - 1);
  longer.push_back(7);
  auto b = sched.submit(longer, sampling_of(0), {}, 0);
  run_job(*b);
  EXPECT_EQ(b->cached_prompt_tokens, static_cast<int>(p.size() + first.size() - 1));
  EXPECT_EQ(metrics.prompt_tokens_cached.load(), static_cast<uint64_t>(b->cached_prompt_tokens));
}

TEST(Scheduler, CancelledJobStopsAndFreesItsSlot) {
  Fixture f;
  Metrics metrics;
  Scheduler sched(f.decoder(1, 4096), f.tok, {}, metrics);
  auto s = sampling_of(1);
  s.max_tokens = 4000;  // long enough that the cancel lands while it runs
  auto j = sched.submit(prompt_of(0), s, {}, 0);
  Piece p;
  ASSERT_TRUE(j->next(p));
  j->cancel();
  auto rest = run_job(*j);
  EXPECT_LT(j->completion_tokens, 4000);
  EXPECT_EQ(j->finish_reason, "stop");
  // The only slot is free again: the next request runs to the end.
  auto k = sched.submit(prompt_of(1), sampling_of(0), {}, -1);
  std::string text;
  run_job(*k, &text);
  EXPECT_EQ(k->finish_reason, "length");
  EXPECT_EQ(k->completion_tokens, 20);
}

TEST(Scheduler, StopStringsAndStopIdsEndAJob) {
  Fixture f;
  Metrics metrics;
  auto greedy = sampling_of(0);
  greedy.max_tokens = 40;
  // What greedy decoding says first, so a stop id and a stop string can be taken from it.
  auto single = f.decoder(1);
  auto ids = model::generate(*single, 0, prompt_of(2), greedy, [](int32_t) { return true; });
  ASSERT_GE(ids.size(), 5u);
  Scheduler sched(f.decoder(1), f.tok, {ids[3]}, metrics);
  auto j = sched.submit(prompt_of(2), greedy, {}, 0);
  EXPECT_EQ(run_job(*j).size(), 4u);
  EXPECT_EQ(j->finish_reason, "stop");
}

TEST(Scheduler, MetricsRenderInPrometheusFormat) {
  Metrics m;
  m.requests_ok = 3;
  m.time_to_first_token.observe(0.02);
  m.time_to_first_token.observe(7);
  const std::string text = m.render("tiny \"model\"");
  EXPECT_NE(text.find("nativelm_requests_total 3\n"), std::string::npos);
  EXPECT_NE(text.find("nativelm_model_info{model=\"tiny \\\"model\\\"\"} 1"), std::string::npos);
  EXPECT_NE(text.find("nativelm_time_to_first_token_seconds_bucket{le=\"0.025\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("nativelm_time_to_first_token_seconds_bucket{le=\"10\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("nativelm_time_to_first_token_seconds_count 2\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE nativelm_inter_token_latency_seconds histogram"), std::string::npos);
}

}  // namespace
}  // namespace nlm::testing
