// NLTK-mode Porter stemmer (see porter.h). Measure m of a stem: the number of vowel-consonant
// pairs in its [C](VC)^m[V] form, where 'y' is a vowel exactly when it follows a consonant.
#include "eval/metrics/porter.h"

#include <functional>
#include <initializer_list>

namespace nlm::eval::metrics {

namespace {

using S = std::string;
using Cond = std::function<bool(const S&)>;

bool is_consonant(const S& w, size_t i) {
  const char c = w[i];
  if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u') return false;
  if (c == 'y') return i == 0 ? true : !is_consonant(w, i - 1);
  return true;
}

int measure(const S& w) {
  int m = 0;
  for (size_t i = 0; i + 1 < w.size(); ++i)
    if (!is_consonant(w, i) && is_consonant(w, i + 1)) ++m;
  return m;
}

bool positive_measure(const S& w) { return measure(w) > 0; }

bool contains_vowel(const S& w) {
  for (size_t i = 0; i < w.size(); ++i)
    if (!is_consonant(w, i)) return true;
  return false;
}

bool ends_double_consonant(const S& w) {
  return w.size() >= 2 && w.back() == w[w.size() - 2] && is_consonant(w, w.size() - 1);
}

// *o: consonant-vowel-consonant, the last not w, x or y; NLTK adds vowel-consonant words of two
// letters.
bool ends_cvc(const S& w) {
  const size_t n = w.size();
  if (n >= 3 && is_consonant(w, n - 3) && !is_consonant(w, n - 2) && is_consonant(w, n - 1) && w[n - 1] != 'w' &&
      w[n - 1] != 'x' && w[n - 1] != 'y')
    return true;
  return n == 2 && !is_consonant(w, 0) && is_consonant(w, 1);
}

bool ends_with(const S& w, std::string_view suffix) {
  return w.size() >= suffix.size() && w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0;
}

S cut(const S& w, std::string_view suffix) { return w.substr(0, w.size() - suffix.size()); }

struct Rule {
  std::string_view suffix;  // "*d": a double consonant ending
  std::string replacement;
  Cond condition;           // empty: always
};

// NLTK's _apply_rule_list: the first rule whose suffix matches decides.
S apply_rules(const S& w, std::initializer_list<Rule> rules) {
  for (const Rule& r : rules) {
    if (r.suffix == "*d") {
      if (!ends_double_consonant(w)) continue;
      S stem = w.substr(0, w.size() - 2);
      return !r.condition || r.condition(stem) ? stem + r.replacement : w;
    }
    if (ends_with(w, r.suffix)) {
      S stem = cut(w, r.suffix);
      return !r.condition || r.condition(stem) ? stem + r.replacement : w;
    }
  }
  return w;
}

S step1a(const S& w) {
  if (ends_with(w, "ies") && w.size() == 4) return cut(w, "ies") + "ie";
  return apply_rules(w, {{"sses", "ss", {}}, {"ies", "i", {}}, {"ss", "ss", {}}, {"s", "", {}}});
}

S step1b(const S& w) {
  if (ends_with(w, "ied")) return cut(w, "ied") + (w.size() == 4 ? "ie" : "i");
  if (ends_with(w, "eed")) {
    S stem = cut(w, "eed");
    return measure(stem) > 0 ? stem + "ee" : w;
  }
  S stem;
  bool found = false;
  for (std::string_view suffix : {"ed", "ing"})
    if (ends_with(w, suffix)) {
      stem = cut(w, suffix);
      if (contains_vowel(stem)) {
        found = true;
        break;
      }
    }
  if (!found) return w;
  const char last = stem.back();
  return apply_rules(stem, {{"at", "ate", {}},
                            {"bl", "ble", {}},
                            {"iz", "ize", {}},
                            {"*d", S(1, last), [last](const S&) { return last != 'l' && last != 's' && last != 'z'; }},
                            {"", "e", [](const S& s) { return measure(s) == 1 && ends_cvc(s); }}});
}

S step1c(const S& w) {
  return apply_rules(w, {{"y", "i", [](const S& s) { return s.size() > 1 && is_consonant(s, s.size() - 1); }}});
}

S step2(const S& w) {
  if (ends_with(w, "alli") && positive_measure(cut(w, "alli"))) return step2(cut(w, "alli") + "al");
  const Cond pm = positive_measure;
  return apply_rules(w, {{"ational", "ate", pm}, {"tional", "tion", pm}, {"enci", "ence", pm},
                         {"anci", "ance", pm},   {"izer", "ize", pm},    {"bli", "ble", pm},
                         {"alli", "al", pm},     {"entli", "ent", pm},   {"eli", "e", pm},
                         {"ousli", "ous", pm},   {"ization", "ize", pm}, {"ation", "ate", pm},
                         {"ator", "ate", pm},    {"alism", "al", pm},    {"iveness", "ive", pm},
                         {"fulness", "ful", pm}, {"ousness", "ous", pm}, {"aliti", "al", pm},
                         {"iviti", "ive", pm},   {"biliti", "ble", pm},  {"fulli", "ful", pm},
                         // the 'l' stays with the stem for the measure: "geologi" -> "geolog"
                         {"logi", "log", [&w](const S&) { return positive_measure(w.substr(0, w.size() - 3)); }}});
}

S step3(const S& w) {
  const Cond pm = positive_measure;
  return apply_rules(w, {{"icate", "ic", pm}, {"ative", "", pm}, {"alize", "al", pm}, {"iciti", "ic", pm},
                         {"ical", "ic", pm},  {"ful", "", pm},   {"ness", "", pm}});
}

S step4(const S& w) {
  const Cond gt1 = [](const S& s) { return measure(s) > 1; };
  return apply_rules(w, {{"al", "", gt1},   {"ance", "", gt1}, {"ence", "", gt1}, {"er", "", gt1},
                         {"ic", "", gt1},   {"able", "", gt1}, {"ible", "", gt1}, {"ant", "", gt1},
                         {"ement", "", gt1}, {"ment", "", gt1}, {"ent", "", gt1},
                         {"ion", "", [](const S& s) { return measure(s) > 1 && (s.back() == 's' || s.back() == 't'); }},
                         {"ou", "", gt1},   {"ism", "", gt1},  {"ate", "", gt1},  {"iti", "", gt1},
                         {"ous", "", gt1},  {"ive", "", gt1},  {"ize", "", gt1}});
}

S step5a(const S& w) {
  if (ends_with(w, "e")) {
    S stem = cut(w, "e");
    const int m = measure(stem);
    if (m > 1 || (m == 1 && !ends_cvc(stem))) return stem;
  }
  return w;
}

S step5b(const S& w) {
  return apply_rules(w, {{"ll", "l", [&w](const S&) { return measure(w.substr(0, w.size() - 1)) > 1; }}});
}

}  // namespace

std::string porter_stem(std::string_view word) {
  S w(word);
  // NLTK's pool of irregular forms.
  static const std::pair<std::string_view, std::string_view> kPool[] = {
      {"sky", "sky"},         {"skies", "sky"},       {"dying", "die"},     {"lying", "lie"},
      {"tying", "tie"},       {"news", "news"},       {"innings", "inning"}, {"inning", "inning"},
      {"outings", "outing"},  {"outing", "outing"},   {"cannings", "canning"}, {"canning", "canning"},
      {"howe", "howe"},       {"proceed", "proceed"}, {"exceed", "exceed"}, {"succeed", "succeed"}};
  for (const auto& [form, stem] : kPool)
    if (w == form) return S(stem);
  if (w.size() <= 2) return w;
  w = step1a(w);
  w = step1b(w);
  w = step1c(w);
  w = step2(w);
  w = step3(w);
  w = step4(w);
  w = step5a(w);
  w = step5b(w);
  return w;
}

}  // namespace nlm::eval::metrics
