// JudgeOptions' declaration (see judge_options.h).
#include "eval/judge/judge_options.h"

#include "core/options.h"

namespace nlm::eval::judge {

void declare(opt::Schema& s, JudgeOptions& o) {
  s.choice("mode", o.mode,
           {{"single", JudgeMode::Single}, {"pairwise", JudgeMode::Pairwise}, {"pair", JudgeMode::Pairwise}},
           "single: grade each answer 1-10; pairwise: compare answer_a with answer_b, in both orders");
  s.add("endpoint", o.endpoint, "Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1");
  s.add("judge_model", o.judge_model, "Model name sent in each request (empty = none)");
  s.add("api_key", o.api_key, "Bearer key for the endpoint (default: $OPENAI_API_KEY)").no_yaml().no_json();
  s.add("max_tokens", o.max_tokens, "max_tokens of each judge request").range(1, 1 << 20);
  s.add("temperature", o.temperature, "Sampling temperature of the judge (MT-Bench: 0)").range(0, 2);
  s.add("prompt", o.prompt,
        "Judge prompt by name: single-v1, single-math-v1, pair-v2, pair-math-v1 or one from --prompt-file "
        "(empty = by mode, the math one for records with a reference)");
  s.add("prompt_file", o.prompt_file,
        "JSON or JSONL prompts in FastChat's judge_prompts.jsonl shape (name, type, system_prompt, prompt_template)");
  s.add("retries", o.retries, "Retries of a request after a connection error, HTTP 5xx or 429").range(0, 100);
  s.duration("retry_wait", o.retry_wait, "Wait before the first retry; doubles with each retry (e.g. 1s, 250ms)");
  s.duration("timeout", o.timeout, "Longest wait for one judge answer (e.g. 120s, 10m)");
  s.add("requests_per_minute", o.requests_per_minute, "Rate limit on judge requests (0 = none)").min(0);
  s.add("output", o.output, "Folder for judgments.jsonl and summary.json").flag("-o,--output");
  s.add("resume", o.resume, "Keep the finished records of an earlier run's judgments.jsonl and judge the rest")
      .no_yaml()
      .no_json();
  s.add("force", o.force, "Start over when the output folder already has judgments.jsonl").no_yaml().no_json();
  s.check([&o] {
    if (o.endpoint.empty())
      opt::fail("endpoint", "is required", "give the API's base URL, e.g. http://127.0.0.1:8080/v1");
    if (o.output.empty()) opt::fail("output", "is required", "give a folder for judgments.jsonl and summary.json");
    if (o.timeout <= 0) opt::fail("timeout", "must be positive");
    if (o.resume && o.force) opt::fail("force", "cannot be combined with --resume", "pick one");
  });
}

}  // namespace nlm::eval::judge
