// Wikitext → plain text for MediaWiki dumps: templates ({{…}}), tables ({|…|}), <ref>s,
// comments, files/images and categories are removed; internal links keep their label
// ([[Paris|the capital]] → "the capital"), external links their text; headings become lines of
// their own; bold/italic quotes and list markers go. Nested constructs are matched by depth, so
// unbalanced markup in a broken page cannot swallow more than the rest of that page.
#pragma once
#include <string>
#include <string_view>

namespace nlm::curate {

// Links nest inside link labels ([[a|[[b|…]]]], [http://x [http://y …]]); labels nested deeper
// than this are kept as they are, markup and all, so stripping stays linear in the page size.
// Templates, tables, comments and tags are dropped whole at any depth. MediaWiki stops expanding
// templates at 40 levels ($wgMaxTemplateDepth); real pages nest links two or three deep.
inline constexpr int kWikitextMaxNesting = 40;

std::string strip_wikitext(std::string_view wikitext, int max_nesting = kWikitextMaxNesting);

}  // namespace nlm::curate
