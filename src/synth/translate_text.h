// What `synth translate` must carry through a translation unchanged, and how it checks that it
// did: fenced code blocks and inline code are replaced by numbered markers before the text is
// sent (the code itself never reaches the model) and put back after, and the placeholders and
// URLs left in the text ({name}, {{var}}, %s, %1$d, %(name)s, https://...) must come back as the
// same multiset.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nlm::synth {

struct MaskedText {
  std::string text;                // the text with each code span replaced by marker(k)
  std::vector<std::string> spans;  // span k's original bytes
  std::string stem = "CODE_";      // markers are "[[" + stem + k + "]]", a stem absent from the input
  std::string marker(size_t k) const { return "[[" + stem + std::to_string(k + 1) + "]]"; }
};

// Masks the fenced blocks (``` or ~~~ fences, up to three spaces of indent, closed by a fence of
// the same character at least as long, or by the end of the text) and inline code spans (a run of
// backticks closed by a run of the same length) of Markdown text.
MaskedText mask_code(std::string_view text);

// `translated` with every marker replaced by its span; nullopt when a marker is missing, repeated
// or altered (an unknown "[[STEMk]]" counts as altered).
std::optional<std::string> unmask(std::string_view translated, const MaskedText& m);

// `text` without the markers: what language ID and the length ratio look at.
std::string strip_markers(std::string_view text, const MaskedText& m);

// Whether the masked text holds anything to translate (a letter or digit outside the markers).
bool has_prose(const MaskedText& m);

// The placeholders and URLs in `text`, sorted: {{...}} and {name}/{0}/{}/{name:spec} format
// fields, printf conversions (%s, %d, %1$d, %-5.2f, %(name)s, %%; never "% " so "50% of" is
// prose, nor one running into a letter or digit, so Basque "%50eko" is prose) and http(s)/ftp
// URLs and www. addresses without trailing punctuation. printf conversions come back numbered
// by argument, "%1$s" for the first "%s", as gettext's format check compares them, so a
// translation may reorder "%s ... %s" as "%2$s ... %1$s".
std::vector<std::string> placeholders(std::string_view text);

}  // namespace nlm::synth
