// Language codes as users write them (ISO 639-1 `eu`, 639-3 `eus`, 639-2/B `baq`, legacy `iw`,
// BCP 47 `eu-ES`, `zh-Hant`, `zh-TW`, FLORES-style `eus_Latn`) mapped onto the labels a language
// identifier can emit (CLD2's codes, a fastText model's labels). Without it `--lang eus` matched
// nothing CLD2 says and kept no document, silently.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nlm::curate {

// A parsed code: `language` is the ISO 639-1 code where one exists, else the 639-3 code (both
// lower case); `script` is title case (Hant), `region` upper case (TW, 419). For Chinese a region
// implies its script (TW, HK, MO: Hant; CN, SG, MY: Hans) when none is written.
struct LangTag {
  std::string language;
  std::string script;
  std::string region;
  // The macrolanguage a LID may emit instead (nb → no, cmn → zh, arb → ar); empty when none.
  // Cantonese (yue) deliberately has none: a LID that says "zh" cannot tell it from Mandarin.
  std::string fallback;
  std::string str() const;  // BCP 47 spelling: eu, zh-Hant, pt-BR
};

// Parses a code, case-insensitively, with `-` or `_` between subtags. nullopt when the primary
// subtag is no ISO 639 code known here or a later subtag is neither a script nor a region.
std::optional<LangTag> parse_lang_code(std::string_view code);

// The BCP 47 spelling of a known code (eus → eu, iw → he, zh_tw → zh-TW); the code itself
// otherwise.
std::string canonical_lang_code(std::string_view code);

// The English name of a code's language ("Basque" for eu, eus, baq; "Chinese (Hant)" for
// zh-Hant); empty when unknown.
std::string language_name(std::string_view code);

// The code of a language named in English ("basque" → "eu"), for "did you mean" hints; empty
// when no name matches.
std::string code_for_language_name(std::string_view name);

// The labels among `labels` that `code` selects. A code keeps its variants (zh keeps zh and
// zh-Hant); a script or region picks the closest variant (zh-TW and zh-Hant keep zh-Hant, zh-Hans
// keeps zh); a region the labels do not carry falls back to the language (eu-ES keeps eu); a
// language the labels lack falls back to its macrolanguage (nb keeps no). Labels that are no
// known code match only when spelled the same (case and `-`/`_` aside). Empty when none matches.
std::vector<std::string> match_lang_labels(std::string_view code, const std::vector<std::string>& labels);

// match_lang_labels over every code, merged. Throws an nlm::opt::OptionError for `key` naming
// the first code that selects nothing, with the labels `lid_name` can emit listed compactly.
std::vector<std::string> resolve_lang_codes(const std::vector<std::string>& codes,
                                            const std::vector<std::string>& labels,
                                            const std::string& lid_name, const std::string& key);

}  // namespace nlm::curate
