// Continuous batching for the server: one worker thread owns the inference engine (a SlotDecoder with
// one KV-cache slot per parallel sequence) and loops — admit waiting requests into free slots,
// feed each new prompt a chunk at a time, then one decode step for every generating slot at once.
// Requests join and leave between iterations. A free slot keeps its tokens, and a new request
// goes to the slot that shares the longest prefix with its prompt (the prompt cache: a chat's
// next turn re-feeds only the new messages). Request threads never touch the engine: they read
// text pieces from their job, so a slow client cannot stall the batch, and a client that goes
// away cancels its job.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "model/slot_decoder.h"
#include "model/sampler.h"
#include "model/text_generation.h"
#include "serve/json_constraint.h"
#include "serve/metrics.h"
#include "serve/token_mask.h"

namespace nlm::serve {

// One generated token's log-probability under the model (raw logits, before sampling
// adjustments), and the most likely alternatives when asked for.
struct TokenLogprob {
  int32_t token = 0;
  bool none = false;  // no log-probability: the first prompt token, with nothing before it (echo)
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;
};

struct Piece {
  bool prompt = false;  // echo: the prompt's logprobs (logprobs[i] is prompt token i + 1's), sent first
  std::string text;
  std::vector<TokenLogprob> logprobs;  // the tokens that produced this text (when requested)
};

class Job {
 public:
  // Waits for the next piece of text; false once the job is done and every piece was read.
  bool next(Piece& piece);
  // Asks the scheduler to stop generating (the client went away).
  void cancel() { cancelled_ = true; }

  // Valid once next() returned false.
  std::string finish_reason;  // "stop", "length", or "error"
  std::string error;          // the failure, for "error"
  int completion_tokens = 0;
  int cached_prompt_tokens = 0;  // prompt tokens reused from the slot's cache

 private:
  friend class Scheduler;
  std::vector<int32_t> prompt_;
  model::SamplingOptions sampling_;
  std::vector<std::string> stop_;
  int logprobs_ = -1;  // -1 off; else how many alternatives per token
  int prompt_logprobs_ = -1;  // echo with logprobs: alternatives per prompt token (-1 off)
  std::shared_ptr<const JsonSchema> schema_;  // response_format: the answer must be this JSON
  std::optional<JsonConstraint> constraint_, scratch_;
  std::vector<float> logits_;  // the sampler's copy of this step's logits
  // Worker-side state.
  int slot_ = -1, fed_ = 0;
  std::optional<model::Sampler> sampler_;
  std::vector<int32_t> history_;
  std::optional<int32_t> next_;  // sampled, not yet fed
  std::unique_ptr<model::TextStream> text_;
  std::vector<TokenLogprob> pending_logprobs_;
  double submitted_ = 0, last_token_ = 0;
  // Shared with the request thread.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Piece> pieces_;
  bool done_ = false;
  std::atomic<bool> cancelled_{false};
};

class Scheduler {
 public:
  // Takes the engine; `tok` must outlive the scheduler. stop_ids end every request.
  Scheduler(std::unique_ptr<model::SlotDecoder> decoder, const tokenizer::Tokenizer& tok, std::vector<int32_t> stop_ids,
            Metrics& metrics);
  ~Scheduler();  // finishes nothing more: jobs still running end with an error

  // Queues a request; its max_tokens must leave room in a slot (prompt + max_tokens <= context).
  // With a schema, sampling is masked so the answer is JSON it accepts; the job ends ("stop") as
  // soon as that JSON is complete. prompt_logprobs >= 0 (echo) scores the whole prompt first
  // (no prompt cache) and sends its logprobs as the first piece; max_tokens may then be 0.
  std::shared_ptr<Job> submit(std::vector<int32_t> prompt, model::SamplingOptions sampling,
                              std::vector<std::string> stop, int logprobs = -1,
                              std::shared_ptr<const JsonSchema> schema = nullptr, int prompt_logprobs = -1);
  const model::SlotDecoder& decoder() const { return *decoder_; }

 private:
  void run();
  void start(Job& j, int slot);
  void deliver(Job& j, int32_t token, const float* logits);
  int32_t sample(Job& j, const float* logits);  // logits [V], masked first for a constrained job
  void finish(Job& j, const std::string& reason, const std::string& error = "");
  void emit(Job& j, const std::string& text, bool prompt = false);  // a piece with the pending logprobs
  void prefill(Job& j, int slot, float* logits);  // one prompt chunk; logits: its last row's

  std::unique_ptr<model::SlotDecoder> decoder_;
  const tokenizer::Tokenizer& tok_;
  std::vector<int32_t> stop_ids_;
  Metrics& metrics_;
  std::vector<float> rows_;  // echo: a prompt chunk's logits [n, V]
  std::unique_ptr<TokenBytes> token_bytes_;  // built on the first constrained job
  std::vector<std::shared_ptr<Job>> active_;  // per slot; worker thread only
  std::vector<uint64_t> last_used_;          // per slot, for least-recently-used choice
  uint64_t clock_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> waiting_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace nlm::serve
