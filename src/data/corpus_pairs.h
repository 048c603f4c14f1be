// SFT examples made from plain documents: "continue this text" chats whose user turn is an
// instruction and the first part of a document's words, and whose assistant turn is the rest.
// The `sft` stage of `nativelm build` uses it (`from_corpus:`) to fine-tune a chat model on the
// pipeline's own curated documents when no chat data exists for the language, as the demo does
// with German proverbs. The pairs are written as chat JSONL, so users can read what the model
// was taught and `nativelm sft` can train on the same file. The same cut gives DPO preference
// pairs (the document's own ending over another document's) for the `dpo` stage.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"
#include "corpus/read_options.h"

namespace nlm::data {

struct CorpusPairsOptions {
  // Text before the document's first part in the user turn, e.g. "Complete the proverb:".
  std::string instruction = "Continue the text:";
  // Share of a document's words that go into the prompt (0.5: the first half); the rest is the
  // completion. Each side keeps at least one word.
  double prompt_fraction = 0.5;
  // Documents with fewer words are skipped (too short to split into a useful pair).
  int64_t min_words = 4;
  // Documents with more words are skipped (0 = no limit): keeps long texts from filling the rows.
  int64_t max_words = 0;
  // At most this many pairs, spread evenly over the documents (0 = one per usable document, or
  // for preference pairs one per two).
  uint64_t max_examples = 0;
};

// Keys under `from_corpus.` (the sft stage's mapping).
void declare(opt::Schema& schema, CorpusPairsOptions& options);

struct CorpusPairsResult {
  uint64_t documents = 0;  // documents read
  uint64_t pairs = 0;      // records written (chats, or preference pairs)
  uint64_t too_short = 0, too_long = 0;
};

// The prompt and completion of one text: cut at the start of word round(fraction · words),
// keeping the text's own spacing and line breaks inside each side, trimmed at the cut. Returns
// false when the text has fewer than two words.
bool split_text(const std::string& text, double prompt_fraction, std::string& prompt, std::string& completion);

// Reads `documents` (with `read`) and writes one chat record per usable document to `out_path`
// (atomically): {"messages": [{"role": "user", "content": INSTRUCTION + " " + PROMPT},
// {"role": "assistant", "content": COMPLETION}]}.
CorpusPairsResult write_corpus_pairs(const std::vector<std::string>& documents, const corpus::ReadOptions& read,
                                     const CorpusPairsOptions& options, const std::string& out_path);

// The same documents as preference pairs for DPO. Usable documents are taken two at a time
// (max_examples pairs spread over 2 x max_examples documents): the first gives the user turn as
// above and its own ending as `chosen`, the second only its ending, `rejected`; so no ending is
// both chosen and rejected anywhere. Written as chat lists: {"prompt": [{"role": "user", ...}],
// "chosen": [{"role": "assistant", ...}], "rejected": [...]}. Two equal endings give no pair,
// nor does an odd last document.
CorpusPairsResult write_corpus_preferences(const std::vector<std::string>& documents,
                                           const corpus::ReadOptions& read, const CorpusPairsOptions& options,
                                           const std::string& out_path);

}  // namespace nlm::data
