// Threshold profiles: one set of filter thresholds per language. A document uses the profile of
// its `lang` (exact, then the base code before '-'/'_'), then that of its main script (und-Thai,
// und-Jpan, ...), else "default". Built in: default (the published values without the stop-word
// rule, which needs a list for the language), en (Gopher's English values), de/fr/es (the same
// with their stop words), zh and yue (CJK values), sw and jv, about 75 languages calibrated from
// Debian's gettext text (profiles.cc), and the unspaced scripts. A config file edits these or adds
// its own; `nativelm curate calibrate` derives one for a new language.
#pragma once
#include <map>
#include <string>
#include <string_view>

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

// The profile key of an ISO 15924 script ("und-Thai"; BCP 47's undetermined language in that
// script). DocContext falls back to it when a document's language has no profile.
std::string script_profile_name(std::string_view iso15924);

}  // namespace nlm::curate
