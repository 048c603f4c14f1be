// `tokenizer train`: learn a BPE tokenizer from documents. Two styles:
//  - byte-level (GPT-2 / Llama 3 / Qwen / o200k): a split rule cuts text into words, the alphabet
//    is the 256 bytes, merges never cross word boundaries;
//  - sentencepiece (Llama 2 / Mistral / Gemma style): spaces become "▁" (prepended to the text),
//    words start at each "▁", the alphabet is the characters covering `char_coverage` of the text,
//    and the rest falls back to <0xXX> byte tokens.
// Word counting runs on all threads; pair counts are signed 64-bit (no overflow on huge corpora,
// and a negative count is a bug that is caught). Long unspaced runs (CJK, Thai) are cut into
// chunks of at most `max_word_bytes` bytes for counting, which bounds memory and time; encoding
// later uses the real split rule, so the only effect is that no token spans a chunk boundary.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"
#include "corpus/read_options.h"
#include "tokenizer/split_rules.h"
#include "tokenizer/tokenizer.h"

namespace nlm::tokenizer {

enum class TrainMode { ByteLevel, SentencePiece };

struct TrainOptions {
  // Total vocabulary size, special and added tokens included; at most 2^24.
  uint32_t vocab_size = 32000;
  // A pair must occur at least this often (after language weighting) to be merged.
  uint64_t min_frequency = 2;
  TrainMode mode = TrainMode::ByteLevel;
  // Byte-level split rule (ignored in sentencepiece mode).
  SplitRule rule = SplitRule::Llama3;
  // Split numbers into single digits (byte-level: the Qwen2 rule instead of Llama3's 1-3 digits).
  bool split_digits = false;
  // Special tokens, appended after the learned vocabulary (Llama 3 layout) in byte-level mode, or
  // taking ids 0.. in sentencepiece mode (where the first three default to <unk> <s> </s>).
  std::vector<std::string> special_tokens;
  // Extra special tokens <|reserved_special_token_N|> reserved for later use (chat roles, tools).
  uint32_t reserved_tokens = 0;
  // Longest token in bytes; 0 = no limit.
  uint32_t max_token_bytes = 0;
  // Added tokens for runs of 2..N spaces (Salamandra-style, helps code); 0 = none, at most 1024.
  // Byte-level mode only.
  uint32_t whitespace_runs = 0;
  // Counting cap on one word (see the top comment); runs are cut at character boundaries.
  uint32_t max_word_bytes = 128;
  // Per-language sampling: each language's weight is proportional to share^alpha, so alpha < 1
  // flattens the distribution toward small languages; 1 keeps the corpus as it is. Must be in
  // [0, 1]: above 1 the integer weights overflow.
  double lang_alpha = 1.0;
  // JSON field with the document's language (documents without it count as "und").
  std::string lang_field = "lang";
  // SentencePiece mode: the alphabet keeps the most frequent characters covering this fraction.
  double char_coverage = 0.9995;
  // Add the first special token as BOS in the post-processor (add_special_tokens=True).
  bool add_bos = true;
  corpus::ReadOptions read;
};

// The options of a fresh tokenizer, each declared once (key, flag, doc, bounds): the vocabulary
// layout (vocab size, mode, split rule, special tokens, ...) and then the counting options. The
// read options are not declared here: front ends add them (cli::add_read_options) or pass them.
void declare(opt::Schema& schema, TrainOptions& options);
// The two halves of that declaration. `extend` uses only the counting half (min_frequency,
// max_token_bytes, max_word_bytes, lang_alpha, lang_field): the layout comes from the base.
void declare_layout(opt::Schema& schema, TrainOptions& options);
void declare_counting(opt::Schema& schema, TrainOptions& options);
// The checks over several fields (special tokens, vocab size against the alphabet, ...), run by
// resolve() and again by train_bpe for direct library callers. Throws opt::OptionError.
void check_train_options(const TrainOptions& options);

// Why the merge loop stopped.
enum class MergeStop {
  Target,        // the vocabulary reached its size
  MinFrequency,  // the most frequent remaining pair occurs less than min_frequency times
  NoPairs,       // no mergeable pair is left (words are single tokens, or max_token_bytes)
};

struct TrainStats {
  uint64_t docs = 0, bytes = 0, words = 0, unique_words = 0, merges = 0;
  std::vector<std::pair<std::string, double>> lang_weights;  // (lang, weight applied)
  double count_seconds = 0, merge_seconds = 0;
  MergeStop stop = MergeStop::Target;
  int64_t stop_count = 0;  // MinFrequency: the count of the most frequent remaining pair
  // Merges whose result was already a token of the vocabulary: each adds a merge but no token.
  uint64_t merges_to_existing = 0;
  // Why the vocabulary stopped growing, in words ("" when it reached its size).
  std::string stop_reason(uint64_t min_frequency) const;
  std::string to_json() const;
};

// Trains on the given files (threads from nlm::thread_count()); deterministic for a given input
// and options regardless of the thread count.
Tokenizer train_bpe(const std::vector<std::string>& files, const TrainOptions& options,
                    TrainStats* stats = nullptr);
// The same from words already counted (word bytes -> count); used by `extend` and tests.
Tokenizer train_bpe_from_counts(std::vector<std::pair<std::string, uint64_t>> word_counts,
                                const TrainOptions& options, TrainStats* stats = nullptr);

// Counts the words of `files` as `pipeline` pre-tokenizes them (per-language weights applied),
// sorted by word. Fills docs, bytes, words, lang_weights and count_seconds of `stats`.
std::vector<std::pair<std::string, uint64_t>> count_words(const std::vector<std::string>& files,
                                                         const Tokenizer& pipeline, const TrainOptions& options,
                                                         TrainStats& stats);
// Continues BPE from the model's merges: words are segmented by the existing merges, and up to
// `new_tokens` merges are learned on top and appended (ranked after every existing merge, so
// existing text tokenizes the same except where a new merge applies). Returns merges added.
// Fills stop, stop_count and merges_to_existing of `stats` when given.
uint64_t extend_bpe(BpeModel& model, const std::vector<std::pair<std::string, uint64_t>>& words,
                    uint32_t new_tokens, const TrainOptions& options, TrainStats* stats = nullptr);

// The pipeline (normalizers, pre-tokenizers, decoders) of a freshly trained tokenizer.
void set_pipeline(Tokenizer& tok, const TrainOptions& options);

}  // namespace nlm::tokenizer
