// The built-in profiles. CJK values: ICU dictionary segmentation gives Chinese words of ~1.5
// characters, so the mean-word-length window is 1..4; a Chinese line carries about as much as an
// English line three times longer, so "short" is 10 characters; stop words are the commonest
// function words (Mandarin) and sentence particles (Cantonese); full-width punctuation ends lines.
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
}  // namespace

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
  return m;
}

}  // namespace nlm::curate
