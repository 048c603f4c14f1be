// `nativelm lid predict` and `nativelm lid eval`: run the lid step's identifier (CLD2 or a
// fastText model) over documents on its own, to label them or to measure it against labelled data
// before trusting it to filter a corpus. Labels in the data go through the same code table as
// --lang (lang_codes.h), so data labelled `eus` is scored against CLD2's `eu`.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/options.h"
#include "corpus/read_options.h"

namespace nlm::curate {

struct LidPredictOptions {
  // How the inputs are read (any format curate reads: JSONL, text, compressed, WARC, wiki dumps).
  corpus::ReadOptions read;
  // fastText model (from `nativelm lid train`); empty uses CLD2.
  std::string model;
  // Bytes of each document examined, as the lid step's max_bytes.
  int64_t max_bytes = 4096;
  // How many guesses to give; above 1 they go to "lang_top" as [{"lang", "score"}, ...] (CLD2 gives
  // at most 3). "lang" and "lang_score" always hold the best one.
  int64_t top_k = 1;
  // JSONL file to write (codec from the extension); empty writes to standard output.
  std::string output;
};

// Its flags, defaults and bounds (not the read options); the table in docs/curate.md comes from it.
void declare(opt::Schema& schema, LidPredictOptions& options);

struct LidPredictResult {
  uint64_t docs = 0;
  std::map<std::string, uint64_t> langs;  // documents per best guess
  corpus::ReadStats read;
  std::string summary() const;
};

// Writes every document read, with "lang", "lang_score" (and "lang_top") added, in input order.
LidPredictResult lid_predict(const std::vector<std::string>& files, const LidPredictOptions& options);

struct LidEvalOptions {
  corpus::ReadOptions read;
  // fastText model (from `nativelm lid train`); empty uses CLD2.
  std::string model;
  // Bytes of each document examined, as the lid step's max_bytes.
  int64_t max_bytes = 4096;
  // JSON member holding each document's true language (any code --lang accepts).
  std::string label_field = "lang";
  // Also write the figures as JSON to this file.
  std::string json;
  // How many of the most frequent confusions to list.
  int64_t top_confusions = 10;
};

void declare(opt::Schema& schema, LidEvalOptions& options);

struct LidLanguageScore {
  std::string lang;  // BCP 47 spelling of the data's label, or the identifier's label
  uint64_t support = 0;    // documents labelled so
  uint64_t predicted = 0;  // documents the identifier gave this language
  uint64_t correct = 0;
  double precision = 0, recall = 0, f1 = 0;
};

struct LidEvalResult {
  std::string lid;       // "CLD2" or "the fastText model ..."
  uint64_t docs = 0;     // documents read
  uint64_t unlabelled = 0;  // without a string label (not scored)
  uint64_t scored = 0;
  uint64_t correct = 0;
  double accuracy = 0;
  double macro_f1 = 0;  // over the languages with support
  std::vector<LidLanguageScore> languages;  // by support, then code
  struct Confusion {
    std::string gold, predicted;
    uint64_t count = 0;
  };
  std::vector<Confusion> confusions;  // the most frequent first, at most top_confusions
  // Labels the identifier cannot emit (yue with CLD2): not scored; what it said instead.
  std::map<std::string, std::map<std::string, uint64_t>> unsupported;
  corpus::ReadStats read;
  std::string to_table() const;
  std::string to_json() const;
};

// Throws a usage nlm::Error when no document carries a label.
LidEvalResult lid_eval(const std::vector<std::string>& files, const LidEvalOptions& options);

}  // namespace nlm::curate
