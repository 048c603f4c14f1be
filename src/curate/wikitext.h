// Wikitext → plain text for MediaWiki dumps: templates ({{…}}), tables ({|…|}), <ref>s,
// comments, files/images and categories are removed; internal links keep their label
// ([[Paris|the capital]] → "the capital"), external links their text; headings become lines of
// their own; bold/italic quotes and list markers go. Nested constructs are matched by depth, so
// unbalanced markup in a broken page cannot swallow more than the rest of that page.
#pragma once
#include <string>
#include <string_view>

namespace nlm::curate {

std::string strip_wikitext(std::string_view wikitext);

}  // namespace nlm::curate
