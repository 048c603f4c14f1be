// The pieces of `nativelm synth` that need no endpoint: the built-in prompts (our own wording of
// the Nemotron-CC kinds), cutting documents into chunks, reading question-answer pairs out of a
// model's answer, and the text measures the quality filters use (normalised keys, grounding).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "synth/synth_options.h"

namespace nlm::synth {

// The user-message template of a built-in prompt, or nullopt for an unknown name. Fields:
// {language} (the target language's English name), {text} (the chunk), {n} (pairs asked for);
// translate's: {source_language}, {language}, {text}.
std::optional<std::string> builtin_prompt(SynthTask task, const std::string& name);
// The names of the task's built-in prompts, the default first.
std::vector<std::string> builtin_prompt_names(SynthTask task);

// `text` cut into pieces of at most `max_bytes`, preferring a paragraph break, then a line break,
// then a space, and never splitting a UTF-8 sequence. Pieces are trimmed; empty ones are dropped.
std::vector<std::string> chunk_text(std::string_view text, size_t max_bytes);

struct QaPair {
  std::string question, answer;
};
// The pairs in a model's answer: a JSON array of {"question", "answer"} objects (also inside a
// ```json fence or surrounded by prose, or under a top-level key), else numbered text where lines
// start with "Q:", "Question 1:", "1. Q:" ... and "A:", "Answer:" .... Empty when neither is
// found (a malformed answer).
std::vector<QaPair> parse_qa(std::string_view reply);

// `text` without leading and trailing ASCII whitespace.
std::string trimmed(std::string_view text);

// The text with ASCII case folded, ASCII punctuation dropped and whitespace runs made one space:
// the key of the normalised dedup.
std::string normalize_key(std::string_view text);

// Words for the grounding check: runs of letters and digits (any non-ASCII byte counts as a
// letter), ASCII case folded.
std::vector<std::string> words_of(std::string_view text);

// The share of `output`'s word n-grams (n = `ngram`, or all its words as one gram when it is
// shorter) that occur in `source`; 1 for an output without words.
double grounding(std::string_view output, std::string_view source, int ngram);

}  // namespace nlm::synth
