// The Porter stemmer (Porter 1980) in NLTK's default mode (NLTK_EXTENSIONS), because that is
// what rouge-score's use_stemmer runs: NLTK's irregular-form pool ("dying" -> "die"), words of
// one or two letters left alone, "ies"/"ied" on four-letter words kept as "ie", 'y' -> 'i' only
// after a consonant that is not the first letter, "bli" -> "ble", "alli" handled first,
// "fulli" -> "ful" and "logi" -> "log". Rules are tried in NLTK's order; the first rule whose
// suffix matches decides, even when its condition fails. Input is one lowercase ASCII word.
#pragma once
#include <string>
#include <string_view>

namespace nlm::eval::metrics {

std::string porter_stem(std::string_view word);

}  // namespace nlm::eval::metrics
