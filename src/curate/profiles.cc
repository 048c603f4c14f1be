// The built-in profiles. Most are calibrated from Debian's gettext catalogues by
// scripts/derive-profiles.py (profiles_calibrated.inc; the method is `curate calibrate`'s). By
// hand: en (Gopher's published values), de/fr/es (those values with their stop words), zh and yue
// (CJK values: ICU dictionary segmentation gives Chinese words of ~1.5 characters, so the
// mean-word-length window is 1..4; a Chinese line carries about as much as an English line three
// times longer, so "short" is 10 characters; stop words are the commonest function words
// (Mandarin) and sentence particles (Cantonese)), sw and jv, which Debian has no catalogue
// text for (the default values with common function words as stop words), and am (Ethiopic). Script profiles
// (und-Thai, ...) serve documents whose language has no profile.
#include "curate/profiles.h"

namespace nlm::curate {

bool declare_filter(opt::Schema& s, Profile& p, const std::string& step) {
  if (step == "gopher_quality") declare(s, p.gopher_quality);
  else if (step == "gopher_repetition") declare(s, p.gopher_repetition);
  else if (step == "c4") declare(s, p.c4);
  else if (step == "fineweb") declare(s, p.fineweb);
  else if (step == "nemo") declare(s, p.nemo);
  else return false;
  return true;
}

namespace {
Profile cjk(std::vector<std::string> stop_words) {
  Profile p;
  p.gopher_quality.min_words = 50;
  p.gopher_quality.min_avg_word_length = 1;
  p.gopher_quality.max_avg_word_length = 4;
  p.gopher_quality.stop_words = std::move(stop_words);
  p.fineweb.short_line_length = 10;
  p.c4.terminal_punctuation = {".", "?", "!", "\"", "'", "。", "！", "？", "”", "」", "』", "）"};
  p.c4.min_words_per_line = 3;
  return p;
}

Profile with_stop_words(std::vector<std::string> stop_words) {
  Profile p;
  p.gopher_quality.stop_words = std::move(stop_words);
  return p;
}

struct Calibrated {
  const char* lang;
  int docs;  // documents the row was measured on
  double min_avg_word_length, max_avg_word_length, min_alpha_words_ratio;
  int64_t min_stop_words;
  double min_line_punct_ratio;
  int64_t short_line_length;
  std::vector<std::string> stop_words;
};

const std::vector<Calibrated>& calibrated() {
  static const std::vector<Calibrated> rows = {
#include "curate/profiles_calibrated.inc"
  };
  return rows;
}

Profile from_row(const Calibrated& c) {
  Profile p;
  p.gopher_quality.min_avg_word_length = c.min_avg_word_length;
  p.gopher_quality.max_avg_word_length = c.max_avg_word_length;
  p.gopher_quality.min_alpha_words_ratio = c.min_alpha_words_ratio;
  p.gopher_quality.min_stop_words = c.min_stop_words;
  p.gopher_quality.stop_words = c.stop_words;
  p.fineweb.min_line_punct_ratio = c.min_line_punct_ratio;
  p.fineweb.short_line_length = c.short_line_length;
  return p;
}

// A script's profile without stop words (they belong to a language).
Profile script_profile(Profile p) {
  p.gopher_quality.stop_words.clear();
  p.gopher_quality.min_stop_words = 0;
  return p;
}
}  // namespace

std::string script_profile_name(std::string_view iso15924) { return "und-" + std::string(iso15924); }

std::map<std::string, Profile> builtin_profiles() {
  std::map<std::string, Profile> m;
  // Generic: the published thresholds, but no stop-word rule, since stop words are per language.
  m["default"] = with_stop_words({});
  m["default"].gopher_quality.min_stop_words = 0;
  m["en"] = Profile{};  // Gopher's own English stop words
  m["de"] = with_stop_words({"der", "die", "und", "das", "ist", "mit", "den", "von", "zu", "nicht"});
  m["fr"] = with_stop_words({"le", "la", "les", "et", "est", "des", "que", "une", "dans", "pour"});
  m["es"] = with_stop_words({"el", "la", "los", "las", "que", "y", "en", "una", "por", "con"});
  m["zh"] = cjk({"的", "了", "是", "在", "和", "有", "我", "不", "这", "也", "他", "就", "人",
                 "都", "一个", "們", "这个", "這", "个", "個"});
  m["yue"] = cjk({"嘅", "咗", "喺", "係", "唔", "佢", "哋", "冇", "啲", "嗰", "呢", "咁", "噉",
                  "嘢", "乜", "畀", "俾", "我", "你", "就", "都", "好"});
  m["sw"] = with_stop_words({"na", "ya", "wa", "kwa", "ni", "za", "la", "katika", "kuwa", "cha", "hii", "vya"});
  m["jv"] = with_stop_words({"lan", "ing", "iku", "sing", "ora", "karo", "uga", "ana", "saka", "kanggo", "wis", "bisa"});
  for (const auto& row : calibrated()) m[row.lang] = from_row(row);
  // Amharic by hand: Debian holds about 23 Amharic messages, too few to measure. Ge'ez script
  // writes a syllable per code point, so words are short (2-4 code points); the default marks
  // already include ። and ፧; no stop-word rule without a measured list.
  m["am"] = script_profile(Profile{});
  m["am"].gopher_quality.min_avg_word_length = 1.5;
  m["am"].fineweb.short_line_length = 15;
  // Documents with no language profile take their script's: the calibrated values of the
  // script's best-measured language, without its stop words. Lao shares Thai's values; Ethiopic
  // takes am's; other spaced scripts take "default".
  m[script_profile_name("Hani")] = script_profile(m["zh"]);
  m[script_profile_name("Jpan")] = script_profile(m["ja"]);
  m[script_profile_name("Hang")] = script_profile(m["ko"]);
  m[script_profile_name("Thai")] = script_profile(m["th"]);
  m[script_profile_name("Laoo")] = script_profile(m["th"]);
  m[script_profile_name("Khmr")] = script_profile(m["km"]);
  m[script_profile_name("Mymr")] = script_profile(m["my"]);
  m[script_profile_name("Tibt")] = script_profile(m["dz"]);
  m[script_profile_name("Ethi")] = m["am"];
  return m;
}

}  // namespace nlm::curate
