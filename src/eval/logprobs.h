// `nativelm eval logprobs MODEL FILE.jsonl`: per-token log-probabilities of JSONL requests,
// one JSON line out per line in, for checking a model token by token and for scoring outside
// nativelm (the numbers lm-eval's loglikelihood sums). A request is either
//   {"context": "...", "continuation": "..."}  the continuation's tokens, encoded as lm-eval
//                                              encodes a loglikelihood request; or
//   {"text": "..."}                            every token of the text: after BOS with --bos,
//                                              else from the second token on (the first has no
//                                              prediction and is printed with "logprob": null).
// Output: {"index", "tokens": [{"id", "token", "text", "logprob", "greedy", "top": [...]}],
// "logprob" (the sum), "is_greedy", "scored"}.
#pragma once
#include <iosfwd>
#include <string>

#include "eval/loglikelihood.h"

namespace nlm::eval {

struct LogprobsOptions {
  ScoringOptions scoring;
  std::string device = "cpu";  // compute device, as tensor::backend_for() names it
};
void declare(opt::Schema& schema, LogprobsOptions& options);

// Scores every request of `jsonl` with the model in `model_dir` (its tokenizer.json encodes and
// names the tokens) and writes one line per request to `out`. Usage errors name the file and line
// of a bad record (not JSON, neither text nor context/continuation, non-string fields).
void run_logprobs(const std::string& model_dir, const std::string& jsonl, const LogprobsOptions& options,
                  std::ostream& out);

}  // namespace nlm::eval
