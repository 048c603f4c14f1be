// The batching loop (see scheduler.h). Everything that touches the Decoder runs on the worker
// thread; jobs hand text to request threads through their own queue.
#include "serve/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace nlm::serve {

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Prompt tokens fed per iteration to one prefilling slot, so a long prompt does not stall the
// other slots' streams for its whole length.
constexpr int kPrefillChunk = 256;

TokenLogprob logprob_of(const float* logits, int64_t V, int32_t token, int top) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < V; ++i) mx = std::max(mx, logits[i]);
  double z = 0;
  for (int64_t i = 0; i < V; ++i) z += std::exp(double(logits[i]) - mx);
  const double lz = std::log(z) + mx;
  TokenLogprob r;
  r.token = token;
  r.logprob = static_cast<float>(logits[token] - lz);
  if (top > 0) {
    std::vector<int32_t> idx(static_cast<size_t>(V));
    std::iota(idx.begin(), idx.end(), 0);
    const int k = static_cast<int>(std::min<int64_t>(top, V));
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                      [&](int32_t a, int32_t b) { return logits[a] != logits[b] ? logits[a] > logits[b] : a < b; });
    for (int i = 0; i < k; ++i) r.top.emplace_back(idx[static_cast<size_t>(i)], static_cast<float>(logits[idx[static_cast<size_t>(i)]] - lz));
  }
  return r;
}

}  // namespace

bool Job::next(Piece& piece) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return done_ || !pieces_.empty(); });
  if (pieces_.empty()) return false;
  piece = std::move(pieces_.front());
  pieces_.pop_front();
  return true;
}

Scheduler::Scheduler(std::unique_ptr<model::SlotDecoder> decoder, const tokenizer::Tokenizer& tok,
                     std::vector<int32_t> stop_ids, Metrics& metrics)
    : decoder_(std::move(decoder)), tok_(tok), stop_ids_(std::move(stop_ids)), metrics_(metrics) {
  active_.resize(static_cast<size_t>(decoder_->slots()));
  last_used_.assign(active_.size(), 0);
  metrics_.slots_total = decoder_->slots();
  metrics_.kv_capacity = int64_t(decoder_->slots()) * decoder_->context();
  worker_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

std::shared_ptr<Job> Scheduler::submit(std::vector<int32_t> prompt, model::SamplingOptions sampling,
                                       std::vector<std::string> stop, int logprobs,
                                       std::shared_ptr<const JsonSchema> schema, int prompt_logprobs) {
  auto j = std::make_shared<Job>();
  j->prompt_logprobs_ = prompt_logprobs;
  j->schema_ = std::move(schema);
  j->prompt_ = std::move(prompt);
  j->sampling_ = std::move(sampling);
  j->stop_ = std::move(stop);
  j->logprobs_ = logprobs;
  j->submitted_ = now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) {
      j->finish_reason = "error";
      j->error = "the server is stopping";
      j->done_ = true;
      return j;
    }
    waiting_.push_back(j);
    metrics_.queue_depth = static_cast<int>(waiting_.size());
  }
  cv_.notify_all();
  return j;
}

void Scheduler::emit(Job& j, const std::string& text, bool prompt) {
  Piece p;
  p.prompt = prompt;
  p.text = text;
  p.logprobs = std::move(j.pending_logprobs_);
  j.pending_logprobs_.clear();
  {
    std::lock_guard<std::mutex> lock(j.mu_);
    j.pieces_.push_back(std::move(p));
  }
  j.cv_.notify_all();
}

void Scheduler::start(Job& j, int slot) {
  j.slot_ = slot;
  j.sampler_.emplace(j.sampling_);
  j.history_ = j.prompt_;
  if (j.schema_) {
    if (!token_bytes_) token_bytes_ = std::make_unique<TokenBytes>(tok_);
    j.constraint_.emplace(j.schema_.get());
    j.scratch_.emplace(j.schema_.get());
  }
  j.text_ = std::make_unique<model::TextStream>(tok_, j.stop_, [this, &j](const std::string& t) { emit(j, t); });
  // Scoring the prompt needs the logits of all of it: nothing comes from the cache.
  j.fed_ = decoder_->reuse_prefix(slot, j.prompt_logprobs_ >= 0 ? std::vector<int32_t>() : j.prompt_);
  j.cached_prompt_tokens = j.fed_;
  last_used_[static_cast<size_t>(slot)] = ++clock_;
  metrics_.prompt_tokens += j.prompt_.size();
  metrics_.prompt_tokens_cached += static_cast<uint64_t>(j.fed_);
}

void Scheduler::prefill(Job& j, int slot, float* logits) {
  const int n = std::min(kPrefillChunk, static_cast<int>(j.prompt_.size()) - j.fed_);
  if (j.prompt_logprobs_ < 0) {
    decoder_->prefill(slot, j.prompt_.data() + j.fed_, n, logits);
    j.fed_ += n;
    return;
  }
  const int64_t V = decoder_->vocab_size();
  rows_.resize(size_t(n) * size_t(V));
  decoder_->prefill(slot, j.prompt_.data() + j.fed_, n, rows_.data(), /*every_row=*/true);
  for (int i = 0; i < n; ++i) {
    const size_t next = size_t(j.fed_) + size_t(i) + 1;
    if (next < j.prompt_.size())
      j.pending_logprobs_.push_back(logprob_of(rows_.data() + i * V, V, j.prompt_[next], j.prompt_logprobs_));
  }
  std::copy(rows_.data() + (n - 1) * V, rows_.data() + n * V, logits);
  j.fed_ += n;
  if (j.fed_ == static_cast<int>(j.prompt_.size())) emit(j, "", /*prompt=*/true);  // the prompt's logprobs go first
}

void Scheduler::finish(Job& j, const std::string& reason, const std::string& error) {
  if (j.text_ && reason != "error") {
    j.text_->finish();
    if (!j.pending_logprobs_.empty()) emit(j, "");  // logprobs of tokens whose text was cut by a stop string
  }
  const double t = now();
  if (reason == "error")
    ++metrics_.requests_error;
  else
    ++metrics_.requests_ok;
  metrics_.request_duration.observe(t - j.submitted_);
  {
    std::lock_guard<std::mutex> lock(j.mu_);
    j.finish_reason = reason;
    j.error = error;
    j.done_ = true;
  }
  j.cv_.notify_all();
  if (j.slot_ >= 0) active_[static_cast<size_t>(j.slot_)].reset();  // the slot keeps its tokens
}

void Scheduler::deliver(Job& j, int32_t token, const float* logits) {
  const double t = now();
  if (j.completion_tokens == 0)
    metrics_.time_to_first_token.observe(t - j.submitted_);
  else
    metrics_.inter_token_latency.observe(t - j.last_token_);
  j.last_token_ = t;
  ++j.completion_tokens;
  ++metrics_.generated_tokens;
  j.history_.push_back(token);
  if (j.logprobs_ >= 0) j.pending_logprobs_.push_back(logprob_of(logits, decoder_->vocab_size(), token, j.logprobs_));
  const bool more_text = j.text_->push(token);
  const auto& ids = j.sampling_.stop_ids;
  const bool stop_id = std::find(ids.begin(), ids.end(), token) != ids.end() ||
                       std::find(stop_ids_.begin(), stop_ids_.end(), token) != stop_ids_.end();
  // A constrained answer ends once its JSON is complete (nothing but the end could follow).
  const bool json_done = j.constraint_ && !stop_id && size_t(token) < token_bytes_->size() &&
                         j.constraint_->advance((*token_bytes_)[size_t(token)]) && j.constraint_->complete();
  if (!more_text || stop_id || json_done) {
    finish(j, "stop");
  } else if (j.completion_tokens >= j.sampling_.max_tokens) {
    finish(j, "length");
  } else {
    j.next_ = token;
  }
}

int32_t Scheduler::sample(Job& j, const float* logits) {
  const int64_t V = decoder_->vocab_size();
  // The job's own buffer: the logits stay intact for logprobs, and nothing is allocated per token.
  std::vector<float>& z = j.logits_;
  z.assign(logits, logits + V);
  if (j.constraint_) {
    std::vector<int32_t> ends = stop_ids_;
    ends.insert(ends.end(), j.sampling_.stop_ids.begin(), j.sampling_.stop_ids.end());
    mask_logits(*j.constraint_, *token_bytes_, ends, j.sampling_, z.data(), V, *j.scratch_);
  }
  return j.sampler_->sample_in_place(z, j.history_);
}

void Scheduler::run() {
  const int64_t V = decoder_->vocab_size();
  const int S = decoder_->slots();
  std::vector<float> logits(static_cast<size_t>(V) * static_cast<size_t>(S));
  std::vector<int32_t> slots, ids;
  std::vector<Job*> stepping;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto has_free = [&] { return std::any_of(active_.begin(), active_.end(), [](auto& a) { return !a; }); };
      auto busy = [&] { return std::any_of(active_.begin(), active_.end(), [](auto& a) { return bool(a); }); };
      cv_.wait(lock, [&] { return stop_ || busy() || (!waiting_.empty() && has_free()); });
      if (stop_) break;
      // Admit in arrival order; each to the free slot sharing the longest prefix with its prompt
      // (then the least recently used).
      while (!waiting_.empty() && has_free()) {
        auto j = waiting_.front();
        waiting_.pop_front();
        if (j->cancelled_) {
          finish(*j, "stop");
          continue;
        }
        int best = -1;
        size_t best_len = 0;
        for (int s = 0; s < S; ++s) {
          if (active_[static_cast<size_t>(s)]) continue;
          const auto& have = decoder_->tokens(s);
          size_t n = 0;
          while (n < have.size() && n < j->prompt_.size() && have[n] == j->prompt_[n]) ++n;
          if (best < 0 || n > best_len ||
              (n == best_len && last_used_[static_cast<size_t>(s)] < last_used_[static_cast<size_t>(best)])) {
            best = s;
            best_len = n;
          }
        }
        active_[static_cast<size_t>(best)] = j;
        start(*j, best);
      }
      metrics_.queue_depth = static_cast<int>(waiting_.size());
    }
    int busy_slots = 0;
    for (auto& a : active_) busy_slots += a ? 1 : 0;
    metrics_.slots_busy = busy_slots;

    // Prompts: one chunk per prefilling slot; the last chunk's logits give the first token.
    stepping.clear();
    slots.clear();
    ids.clear();
    for (int s = 0; s < S; ++s) {
      auto j = active_[static_cast<size_t>(s)];
      if (!j) continue;
      if (j->cancelled_) {
        finish(*j, "stop");
        continue;
      }
      try {
        if (j->fed_ < static_cast<int>(j->prompt_.size())) {
          prefill(*j, s, logits.data());
          if (j->fed_ == static_cast<int>(j->prompt_.size())) {
            if (j->sampling_.max_tokens <= 0)  // echo with max_tokens 0: only the prompt's logprobs
              finish(*j, "length");
            else
              deliver(*j, sample(*j, logits.data()), logits.data());
          }
        } else if (j->next_) {
          stepping.push_back(j.get());
          slots.push_back(s);
          ids.push_back(*j->next_);
        }
      } catch (const std::exception& e) {
        finish(*j, "error", clean_message(e.what()));
      }
    }
    if (!stepping.empty()) {
      try {
        decoder_->step(slots.data(), ids.data(), static_cast<int>(slots.size()), logits.data());
        ++metrics_.steps;
        for (size_t i = 0; i < stepping.size(); ++i) {
          Job& j = *stepping[i];
          j.next_.reset();
          const float* z = logits.data() + int64_t(i) * V;
          deliver(j, sample(j, z), z);
        }
      } catch (const std::exception& e) {
        for (Job* j : stepping) finish(*j, "error", clean_message(e.what()));
      }
    }
    int64_t kv = 0;
    for (int s = 0; s < S; ++s) kv += decoder_->length(s);
    metrics_.kv_tokens = kv;
  }
  // Stopping: nothing more is generated.
  for (auto& a : active_)
    if (a) finish(*a, "error", "the server is stopping");
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& j : waiting_) finish(*j, "error", "the server is stopping");
  waiting_.clear();
}

}  // namespace nlm::serve
