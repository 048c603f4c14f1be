// Unicode script of code points (ICU's Script property) and a counter over text, used by corpus
// stats, language-ID sanity checks and per-script filter profiles. Common and Inherited
// characters (digits, punctuation, combining marks) are counted separately from real scripts.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nlm::text {

// ICU UScriptCode of a code point (0 = Common, 1 = Inherited, 25 = Latin, 17 = Han, ...).
int script_of(uint32_t cp);
// Long ICU name of a script code, e.g. "Latin", "Han", "Cyrillic".
std::string script_name(int code);

// The ISO 15924 code of the script most letters of the text's first `max_code_points` code points
// are written in ("Latn", "Thai", "Hang"); "Jpan" when Hiragana and Katakana make up a tenth of
// them (Japanese mixes them with Han); "" when no letter has a script (digits, symbols, empty).
std::string main_script_code(std::string_view utf8, size_t max_code_points = 1000);

class ScriptCounter {
 public:
  // Counts code points of valid UTF-8 text by script.
  void add(std::string_view utf8);
  void merge(const ScriptCounter& other);
  // (name, count) sorted by count descending; Common/Inherited included.
  std::vector<std::pair<std::string, uint64_t>> sorted() const;
  uint64_t count(int code) const;

 private:
  std::vector<uint64_t> counts_;
};

}  // namespace nlm::text
