// Threshold profiles: one set of filter thresholds per language. A document uses the profile of
// its `lang` (exact, then the base code before '-'/'_'), else "default". Built in: default (the
// published values without the stop-word rule, which needs a list for the language), en (Gopher's
// English values), de/fr/es (the same with their stop words), zh and yue (CJK values: ICU words
// are 1-2 characters long, Chinese stop words, Cantonese particles). A config file edits these or
// adds its own.
#pragma once
#include <map>
#include <string>

#include "curate/c4.h"
#include "curate/fineweb.h"
#include "curate/gopher_quality.h"
#include "curate/gopher_repetition.h"
#include "curate/nemo.h"

namespace nlm::curate {

struct Profile {
  GopherQualityOptions gopher_quality;
  GopherRepetitionOptions gopher_repetition;
  C4Options c4;
  FineWebOptions fineweb;
  NemoOptions nemo;
};

// Declares the options of the filter `step` ("gopher_quality", ...) of `profile` into `schema`;
// false (and nothing declared) when `step` is not a filter step.
bool declare_filter(opt::Schema& schema, Profile& profile, const std::string& step);

std::map<std::string, Profile> builtin_profiles();

}  // namespace nlm::curate
