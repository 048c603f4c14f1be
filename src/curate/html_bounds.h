// How big a tree an HTML page would make, measured before gumbo builds it. gumbo's memory and
// time grow with the tree (and its teardown recurses with depth), so a hostile page — 300 KB of
// <div/>, thousands of nested <div>, misnested <b> that the parser re-opens — has to be refused
// from a scan that costs no more than the page's size.
#pragma once
#include <cstdint>
#include <string_view>

namespace nlm::curate {

struct HtmlTreeBound {
  int64_t depth = 0;  // deepest stack of open elements (html and body included)
  int64_t nodes = 0;  // elements, text runs and comments the parser would create
  bool over = false;  // the scan stopped early because a limit was passed
};

// Replays the HTML tokenizer and, approximately, the tree builder's "in body" rules: void
// elements and stray end tags open nothing; a self-closing non-void element (<div/>) opens one;
// an end tag closes only an element that is open in its scope (so </x> or </div> inside a
// table cell closes nothing); p, li, dd, dt, headings, table parts and options close their
// predecessors the way the parser does; formatting elements closed early are counted again each
// time the parser reconstructs them; text in script, style, textarea and the like is not
// scanned for tags. Where the rules are simplified the estimate errs on the deep side. Stops as
// soon as depth passes max_depth or nodes pass max_nodes.
HtmlTreeBound estimate_html_tree(std::string_view html, int64_t max_depth, int64_t max_nodes);

}  // namespace nlm::curate
