// `nativelm synth qa|rephrase|translate|prefs`'s options: the input, the OpenAI-compatible
// endpoint that writes (and how politely it is called), the prompt, the judge (prefs), and the
// quality filters every output passes. One struct for every task, declared once (docs/options.md).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "eval/judge/judge_options.h"

namespace nlm::opt {
class Schema;
}

namespace nlm::synth {

enum class SynthTask { Qa, Rephrase, Translate, Prefs };
const char* task_name(SynthTask task);  // "qa", "rephrase", "translate", "prefs"

struct SynthOptions {
  SynthTask task = SynthTask::Qa;  // set by the subcommand, not a flag
  // Input.
  std::string text_field = "text";  // JSON member holding each document's text
  std::string id_field = "id";      // JSON member holding each document's id
  int64_t chunk_chars = 4000;       // chunk size in bytes; documents are cut at paragraph, line or word ends
  int64_t min_chunk_chars = 200;    // shorter chunks are not sent (counted as too short)
  // Endpoint.
  std::string endpoint;                       // base URL, e.g. http://127.0.0.1:8080/v1
  std::string model;                          // "model" of each request; "" = none sent
  std::string api_key_env = "OPENAI_API_KEY";  // environment variable holding the Bearer key
  int max_tokens = 2048;
  double temperature = 0.7;
  int concurrency = 4;              // requests in flight
  double requests_per_minute = 0;  // 0 = no limit; one budget shared by every concurrent request
  double tokens_per_minute = 0;    // 0 = no limit; prompt + completion tokens, shared likewise
  int retries = 3;                 // extra tries on a connection error, timeout, 5xx or 429
  double retry_wait = 1;           // seconds; doubles per retry, capped at 60 s
  double timeout = 300;            // seconds per request
  double price_prompt = 0;         // USD per million prompt tokens, for the cost estimate
  double price_completion = 0;     // USD per million completion tokens
  // Prompt.
  std::string lang;         // target language code (required): the prompt names it and LID checks it
  std::string prompt;       // built-in prompt: qa, diverse-qa (qa); wikipedia, distill, extract-knowledge (rephrase)
  std::string prompt_file;  // a text file with the user-message template ({language}, {text}, {n})
  int pairs = 3;            // question-answer pairs asked for per chunk (qa)
  // Translate.
  std::string source_lang = "en";  // the language the instructions are written in
  bool translate_system = true;    // translate system messages (false: keep them verbatim)
  double min_length_ratio = 0.4;   // least translated/source length, in characters
  double max_length_ratio = 2.5;   // most translated/source length
  // Prefs.
  int samples = 2;                  // answers sampled per prompt
  std::string endpoint_b;           // second endpoint: odd samples come from it ("" = --endpoint)
  std::string model_b;              // model of the odd samples ("" = --model)
  std::string judge_endpoint;       // "" = --endpoint
  std::string judge_model;          // "" = --model
  eval::judge::JudgeMode judge_mode = eval::judge::JudgeMode::Pairwise;  // both orders, or 1-10 ratings
  std::string judge_prompt;         // "" = pair-v2 (pairwise) or single-v1 (single)
  std::string judge_prompt_file;    // FastChat-shaped prompts, as for eval judge
  int judge_max_tokens = 1024;
  double margin = 2;                // single: least rating difference between chosen and rejected
  // Quality control.
  std::string lid_model;        // fastText LID model; "" = CLD2
  double min_lang_score = 0;    // lowest LID score kept
  int grounding_ngram = 2;      // word n-gram length of the grounding check
  double min_grounding = 0.25;  // least share of an answer's (or rephrasing's) n-grams found in its chunk
  int64_t min_chars = 2;        // shortest answer (qa) or text (rephrase) kept, in bytes
  int64_t max_chars = 8000;     // longest kept
  int64_t min_question_chars = 8;
  std::vector<std::string> benchmark;  // eval-set JSONL files; outputs sharing an n-gram with an item are rejected
  int decontam_ngram = 13;             // word n-gram length of that check (NeMo: 13)
  // Output.
  std::string output;        // folder for part-NNNNN.jsonl shards and summary.json (required)
  int64_t shard_chunks = 64;  // chunks (qa, rephrase) or records (translate, prefs) per shard: the unit of resume
  bool force = false;        // start over when the folder holds a run with other options
};
void declare(opt::Schema& schema, SynthOptions& options);

}  // namespace nlm::synth
