// SynthOptions' declaration (see synth_options.h).
#include "synth/synth_options.h"

#include "core/options.h"

namespace nlm::synth {

const char* task_name(SynthTask t) {
  switch (t) {
    case SynthTask::Qa: return "qa";
    case SynthTask::Rephrase: return "rephrase";
    case SynthTask::Translate: return "translate";
    case SynthTask::Prefs: return "prefs";
  }
  return "?";
}

void declare(opt::Schema& s, SynthOptions& o) {
  s.add("text_field", o.text_field, "JSON member holding each document's text (synth qa, rephrase)");
  s.add("id_field", o.id_field, "JSON member holding each document's id (synth qa, rephrase)");
  s.add("chunk_chars", o.chunk_chars,
        "Chunk size in bytes; documents are cut at paragraph, line or word ends (synth qa, rephrase)")
      .range(64, 1 << 24);
  s.add("min_chunk_chars", o.min_chunk_chars, "Chunks shorter than this are not sent, counted (synth qa, rephrase)")
      .min(0);
  s.add("endpoint", o.endpoint, "Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1");
  s.add("model", o.model, "Model name sent in each request (empty = none)");
  s.add("api_key_env", o.api_key_env, "Environment variable holding the Bearer key (unset or empty = no key)");
  s.add("max_tokens", o.max_tokens, "max_tokens of each request").range(1, 1 << 20);
  s.add("temperature", o.temperature, "Sampling temperature of the generator").range(0, 2);
  s.add("concurrency", o.concurrency, "Requests in flight at once").range(1, 256);
  s.add("requests_per_minute", o.requests_per_minute,
        "Requests per minute over all concurrent requests of the run (0 = no limit)")
      .min(0);
  s.add("tokens_per_minute", o.tokens_per_minute,
        "Prompt + completion tokens per minute over the whole run (0 = no limit); a request reserves "
        "bytes/4 + max_tokens until its usage is known")
      .min(0);
  s.add("retries", o.retries, "Retries of a request after a connection error, timeout, HTTP 5xx or 429")
      .range(0, 100);
  s.duration("retry_wait", o.retry_wait, "Wait before the first retry; doubles with each retry (e.g. 1s, 250ms)");
  s.duration("timeout", o.timeout, "Longest wait for one answer (e.g. 300s, 10m)");
  s.add("price_prompt", o.price_prompt, "USD per million prompt tokens, for the cost estimate").min(0);
  s.add("price_completion", o.price_completion, "USD per million completion tokens, for the cost estimate").min(0);
  s.add("lang", o.lang, "Target language code (eu, sw, zh-TW): named in the prompt, checked by LID on every output");
  s.add("prompt", o.prompt,
        "Built-in prompt: qa (default), diverse-qa for synth qa; wikipedia (default), distill, extract-knowledge "
        "for synth rephrase; translate for synth translate");
  s.add("prompt_file", o.prompt_file,
        "Text file with the user-message template (replaces --prompt); fields {language}, {text}, {n}; for synth "
        "translate {source_language}, {language}, {text}");
  s.add("pairs", o.pairs, "Question-answer pairs asked for per chunk (synth qa)").range(1, 100);
  s.add("source_lang", o.source_lang, "Language code of the instructions to translate (synth translate)");
  s.add("translate_system", o.translate_system,
        "Translate system messages too; false keeps them verbatim (synth translate)");
  s.add("min_length_ratio", o.min_length_ratio,
        "Least translated/source length of a message, in characters (synth translate)")
      .min(0);
  s.add("max_length_ratio", o.max_length_ratio,
        "Most translated/source length of a message, in characters (synth translate)")
      .min(0);
  s.add("samples", o.samples, "Answers sampled per prompt (synth prefs)").range(2, 16);
  s.add("endpoint_b", o.endpoint_b, "Endpoint of every second sample (empty = --endpoint) (synth prefs)");
  s.add("model_b", o.model_b, "Model of every second sample (empty = --model) (synth prefs)");
  s.add("judge_endpoint", o.judge_endpoint, "Endpoint of the judge (empty = --endpoint) (synth prefs)");
  s.add("judge_model", o.judge_model, "Model of the judge (empty = --model) (synth prefs)");
  s.choice("judge_mode", o.judge_mode,
           {{"pairwise", eval::judge::JudgeMode::Pairwise}, {"single", eval::judge::JudgeMode::Single}},
        "pairwise: compare answers in both orders, a disagreement is a tie; single: rate each 1-10 (synth prefs)");
  s.add("judge_prompt", o.judge_prompt,
        "Judge prompt by name (empty = pair-v2 or single-v1), as for nativelm eval judge (synth prefs)");
  s.add("judge_prompt_file", o.judge_prompt_file,
        "JSON/JSONL judge prompts in FastChat's shape, as for nativelm eval judge (synth prefs)");
  s.add("judge_max_tokens", o.judge_max_tokens, "max_tokens of each judge request (synth prefs)").range(1, 1 << 20);
  s.add("margin", o.margin,
        "Single judge mode: least rating difference between chosen and rejected answers (synth prefs)")
      .range(0, 9);
  s.add("lid_model", o.lid_model, "fastText language-ID model for the language check (empty = CLD2)");
  s.add("min_lang_score", o.min_lang_score, "Lowest language-ID score an output may have").range(0, 1);
  s.add("grounding_ngram", o.grounding_ngram, "Word n-gram length of the grounding check").range(1, 8);
  s.add("min_grounding", o.min_grounding,
        "Least share of an output's word n-grams that must occur in its chunk (0 = no check)")
      .range(0, 1);
  s.add("min_chars", o.min_chars, "Shortest answer (qa, prefs) or text (rephrase) kept, in bytes").min(0);
  s.add("max_chars", o.max_chars, "Longest answer (qa, prefs) or text (rephrase) kept, in bytes").min(1);
  s.add("min_question_chars", o.min_question_chars, "Shortest question kept, in bytes (synth qa)").min(0);
  s.add("benchmark", o.benchmark,
        "Eval-set JSONL files (as for nativelm decontam); outputs sharing a word n-gram with a test item are "
        "rejected");
  s.add("decontam_ngram", o.decontam_ngram, "Word n-gram length of the decontamination check").range(1, 64);
  s.add("output", o.output, "Folder for the part-NNNNN.jsonl shards and summary.json").flag("-o,--output");
  s.add("shard_chunks", o.shard_chunks,
        "Chunks (qa, rephrase) or records (translate, prefs) per output shard, the unit of resume")
      .range(1, 1 << 20);
  s.add("force", o.force, "Start over when the output folder holds a run with other options").no_yaml().no_json();
  s.check([&o] {
    if (o.endpoint.empty())
      opt::fail("endpoint", "is required", "give the API's base URL, e.g. http://127.0.0.1:8080/v1");
    if (o.output.empty()) opt::fail("output", "is required", "give a folder for the output shards");
    if (o.lang.empty()) opt::fail("lang", "is required", "give the target language's code, e.g. --lang eu");
    if (o.timeout <= 0) opt::fail("timeout", "must be positive");
    if (o.max_chars < o.min_chars) opt::fail("max_chars", "is below --min-chars");
    if (o.max_length_ratio < o.min_length_ratio) opt::fail("max_length_ratio", "is below --min-length-ratio");
  });
}

}  // namespace nlm::synth
