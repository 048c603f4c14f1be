// `nativelm eval judge`'s options: which OpenAI-compatible endpoint judges, with which prompt,
// how politely it is called (retries, rate limit) and where the judgments go. One struct,
// declared once (docs/options.md); the command itself is in run_judge.h.
#pragma once
#include <string>

namespace nlm::opt {
class Schema;
}

namespace nlm::eval::judge {

enum class JudgeMode { Single, Pairwise };

struct JudgeOptions {
  JudgeMode mode = JudgeMode::Single;  // single-answer grading or pairwise comparison
  std::string endpoint;                // base URL of the API, e.g. http://127.0.0.1:8080/v1
  std::string judge_model;             // "model" of each request; "" = none sent
  std::string api_key;                 // Bearer key; "" = $OPENAI_API_KEY, else none
  int max_tokens = 1024;               // max_tokens of each judge request
  double temperature = 0;              // MT-Bench judges at temperature 0
  std::string prompt;                  // prompt name; "" = by mode and by whether a reference is given
  std::string prompt_file;             // JSON/JSONL prompts in FastChat's judge_prompts.jsonl shape
  int retries = 3;                     // extra tries on a connection error, 5xx or 429
  double retry_wait = 1;               // seconds before the first retry; doubles each time
  double timeout = 120;                // seconds to wait for one answer
  double requests_per_minute = 0;      // 0 = no rate limit
  std::string output;                  // folder for judgments.jsonl and summary.json (required)
  bool resume = false;                 // keep the finished records of judgments.jsonl
  bool force = false;                  // start over when judgments.jsonl exists
};
void declare(opt::Schema& schema, JudgeOptions& options);

}  // namespace nlm::eval::judge
