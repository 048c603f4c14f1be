// `nativelm curate calibrate`: a threshold profile for a language the built-in profiles do not
// cover, derived from a sample of its clean text the way FineWeb-2 derived per-language
// thresholds: measure what clean documents of the language look like, then place each threshold
// where the English default sits relative to clean English text. Stop words are the language's
// most widespread words. The same procedure made the built-in profiles (docs/curate.md).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "corpus/read_options.h"
#include "curate/profiles.h"

namespace nlm::opt {
class Schema;
}

namespace nlm::curate {

struct CalibrateOptions {
  corpus::ReadOptions read;
  // The language code the profile is for (its key under `profiles:`).
  std::string lang;
  // YAML file to write (a curate config holding only `profiles:`); empty prints it.
  std::string output;
  // How many stop words to keep (the words found in the most documents).
  int64_t stop_words = 12;
  // Fewer documents of at least `min_words` words than this is an error: the quantiles would be
  // noise.
  int64_t min_docs = 30;
  // Documents shorter than this many words are not measured (they say little about a language).
  int64_t min_words = 20;
};

void declare(opt::Schema& schema, CalibrateOptions& options);

// What the sample measured: the quantiles each threshold was taken from.
struct CalibrationFigures {
  uint64_t docs = 0;              // measured
  uint64_t short_docs = 0;        // under min_words, not measured
  double word_length_p2 = 0, word_length_p50 = 0, word_length_p98 = 0;  // mean word length per document
  double alpha_p2 = 0;            // share of words holding a letter
  double line_punct_p50 = 0;      // share of lines ending in terminal punctuation
  double chars_per_word = 0;      // code points (spaces included) per word over the sample
  std::vector<std::pair<std::string, double>> stop_words;  // word, share of documents holding it
};

struct CalibrationResult {
  Profile profile;  // the default profile with the calibrated thresholds
  CalibrationFigures figures;
  std::string lang;
  // The profile as a curate config (`profiles: {LANG: {...}}`), with the figures as comments.
  std::string yaml() const;
  std::string summary() const;
};

// Thresholds from figures, by the documented rules (shared by the tests).
Profile profile_from_figures(const CalibrationFigures& f);

CalibrationResult calibrate_profile(const std::vector<std::string>& files, const CalibrateOptions& options);

}  // namespace nlm::curate
