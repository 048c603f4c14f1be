// Script lookup through ICU, with an ASCII fast path (letters are Latin, the rest Common).
#include "text/script.h"

#include <unicode/uscript.h>

#include <iterator>

#include <algorithm>

#include "text/utf8.h"

namespace nlm::text {

int script_of(uint32_t cp) {
  if (cp < 0x80) {
    bool letter = (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    return letter ? USCRIPT_LATIN : USCRIPT_COMMON;
  }
  UErrorCode status = U_ZERO_ERROR;
  UScriptCode code = uscript_getScript(static_cast<UChar32>(cp), &status);
  return U_SUCCESS(status) ? static_cast<int>(code) : USCRIPT_UNKNOWN;
}

std::string script_name(int code) {
  const char* name = uscript_getName(static_cast<UScriptCode>(code));
  return name ? name : "Unknown";
}

std::string main_script_code(std::string_view s, size_t max_code_points) {
  // Small fixed table: the scripts seen in one document are few.
  std::pair<int, uint32_t> seen[16];
  size_t kinds = 0;
  uint32_t kana = 0, letters = 0;
  size_t i = 0;
  for (size_t n = 0; i < s.size() && n < max_code_points; ++n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int code;
    if (c < 0x80) {
      ++i;
      if ((c | 0x20) < 'a' || (c | 0x20) > 'z') continue;
      code = USCRIPT_LATIN;
    } else {
      code = script_of(utf8_next(s, i));
      if (code <= USCRIPT_INHERITED || code == USCRIPT_UNKNOWN) continue;
    }
    ++letters;
    if (code == USCRIPT_HIRAGANA || code == USCRIPT_KATAKANA) ++kana;
    size_t k = 0;
    while (k < kinds && seen[k].first != code) ++k;
    if (k == kinds) {
      if (kinds == std::size(seen)) continue;
      seen[kinds++] = {code, 0};
    }
    ++seen[k].second;
  }
  if (letters == 0) return "";
  if (kana * 10 >= letters) return "Jpan";
  size_t best = 0;
  for (size_t k = 1; k < kinds; ++k)
    if (seen[k].second > seen[best].second) best = k;
  const char* name = uscript_getShortName(static_cast<UScriptCode>(seen[best].first));
  return name ? name : "";
}

void ScriptCounter::add(std::string_view s) {
  if (counts_.empty()) counts_.assign(USCRIPT_CODE_LIMIT + 1, 0);
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      bool letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
      ++counts_[letter ? USCRIPT_LATIN : USCRIPT_COMMON];
      ++i;
      continue;
    }
    int code = script_of(utf8_next(s, i));
    if (code < 0 || code >= static_cast<int>(counts_.size())) code = USCRIPT_UNKNOWN;
    ++counts_[code];
  }
}

void ScriptCounter::merge(const ScriptCounter& o) {
  if (o.counts_.empty()) return;
  if (counts_.empty()) counts_.assign(o.counts_.size(), 0);
  for (size_t i = 0; i < o.counts_.size(); ++i) counts_[i] += o.counts_[i];
}

uint64_t ScriptCounter::count(int code) const {
  return code >= 0 && code < static_cast<int>(counts_.size()) ? counts_[code] : 0;
}

std::vector<std::pair<std::string, uint64_t>> ScriptCounter::sorted() const {
  std::vector<std::pair<std::string, uint64_t>> v;
  for (size_t i = 0; i < counts_.size(); ++i)
    if (counts_[i]) v.emplace_back(script_name(static_cast<int>(i)), counts_[i]);
  std::stable_sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second > b.second; });
  return v;
}

}  // namespace nlm::text
