// Text normalisation for near-duplicate detection: dedup compares texts after NFKC case folding
// and whitespace collapsing. (Its words are text::WordSegmenter's, AsciiWordRule::AlnumRuns.)
#pragma once
#include <string>
#include <string_view>

namespace nlm::text {

// NFKC_Casefold (ASCII: lowercase), whitespace runs collapsed to one space, ends trimmed.
// Invalid UTF-8 must already be repaired (the readers do). Replaces the contents of `out`.
void dedup_normalize(std::string_view in, std::string& out);

}  // namespace nlm::text
