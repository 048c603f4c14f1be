// HTML → main-content text: gumbo parses the page (after charset decoding, see charset.h), block
// elements become paragraphs, and boilerplate is dropped jusText-style (Pomikálek 2011):
// each paragraph is classed by length, link density and stop-word density, then short and
// near-good paragraphs take the class of their good/bad neighbours. Stop-word lists exist for
// several languages (picked by <html lang> or CLD2) and can be supplied for others; without one,
// the language-independent mode judges by length and link density only. Scripts, styles,
// navigation, forms and the like never count. Headings are kept as text lines.
// jusText finds nothing on short pages (a news story of two 150-character paragraphs, a help
// page): no paragraph is good on its own. When it keeps less than fallback_below, the page's
// main block is found by structure, as trafilatura does: <article>, <main> or role=main, else the
// container of the heading that repeats the page's <title>, else the densest cluster of <p>;
// header, footer, aside and navigation inside it are dropped, and its paragraphs are kept.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/options.h"

namespace nlm::curate {

struct HtmlOptions {
  // jusText defaults: paragraphs shorter than length_low characters are "short"; good ones need
  // length_high characters and stop-word density >= stopwords_high; near-good ones
  // stopwords_low; more than max_link_density of the characters inside links is boilerplate.
  // Lengths count East Asian wide characters twice.
  int64_t length_low = 70;
  int64_t length_high = 200;
  double stopwords_low = 0.30;
  double stopwords_high = 0.32;
  double max_link_density = 0.2;
  // A short heading followed by good text within this many characters is kept.
  int64_t max_heading_distance = 200;
  // When the jusText pass keeps less text than this (wide characters twice), the main block found
  // by structure replaces it if the block holds more, and at least length_low. 0 turns the
  // structural fallback off. The default is length_high: a page with one good paragraph keeps
  // jusText's verdict; long boilerplate-heavy pages, which jusText handles well, are not touched.
  int64_t fallback_below = 200;
  // Stop-word lists beyond the built-in ones (en, de, fr, es, it, pt, nl): a file of words, one
  // per line, used for every page whatever its language; or a folder of <lang>.txt files (lang as
  // in <html lang> or from CLD2: eu.txt, zh.txt), each used for its language instead of any
  // built-in list. Empty: the built-in lists only.
  std::string stopwords;
  // Pages whose parsed tree nests deeper than this (an "HTML bomb") are skipped (counted as
  // html_too_deep); depth is gumbo's tree's (html = 1): <div/> opens a <div>, a stray </x>
  // closes nothing. gumbo's time grows with depth times tags, so a scan of the page
  // (html_bounds.h) refuses, unparsed, pages whose estimated tree is kHtmlScanGuard times deeper.
  int64_t max_depth = 1000;
  // Pages whose parsed tree holds more elements, text runs and comments than this are skipped
  // (counted as html_too_many_nodes); the same scan refuses pages estimated at kHtmlScanGuard times
  // more. gumbo needs about a hundred bytes per node, so this bounds the memory one page takes.
  // Large real pages have tens of thousands.
  int64_t max_nodes = 250000;
  // Pages larger than this are not parsed (counted as html_too_large).
  int64_t max_html_bytes = 8 << 20;
};

// How far past max_depth or max_nodes the pre-parse estimate may go before a page is refused
// without parsing it.
inline constexpr int64_t kHtmlScanGuard = 2;

// Its keys (config files, pipeline stages), defaults and bounds; docs/curate.md's table comes from it.
void declare(opt::Schema& schema, HtmlOptions& options);

struct HtmlText {
  std::string text;   // main content, paragraphs separated by blank lines
  std::string title;
  std::string lang;   // <html lang>, lower-case, "" if absent
  std::string problem;  // "" on success, else "html_too_deep", "html_too_many_nodes" or "html_too_large"
  // Why the page gives no text ("" when it gives some): the problem of a refused page, or
  // "html_no_text" (no text outside scripts, navigation, forms, header, footer and aside) or
  // "html_no_main_text" (text, but all of it boilerplate to jusText and no main block by structure).
  std::string dropped;
  // What `dropped` measured: the estimated or parsed depth or node count, the page's bytes, or
  // (no_main_text) the length of the text outside boilerplate elements.
  double dropped_value = 0;
  std::string method;   // how the text was found: "justext" or "structure" ("" when dropped)
  int64_t depth = 0;    // the parsed tree's depth and node count (0 when the page was not parsed)
  int64_t nodes = 0;
};

// Not thread-safe state-free function: safe to call from many threads.
HtmlText extract_html_text(std::string_view utf8_html, const HtmlOptions& options = {});

// Built-in stop words used for jusText's density, for a language code ("en", "de", ...); empty
// when none.
const std::vector<std::string>& justext_stopwords(const std::string& lang);

// Checks HtmlOptions::stopwords (exists, readable, not empty) and loads it; a usage error if not.
void check_stopwords_option(const std::string& path);

}  // namespace nlm::curate
