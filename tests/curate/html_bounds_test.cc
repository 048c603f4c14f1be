// Hostile HTML (issue 11): pages built to blow up gumbo's tree — 300 KB of <div/>, deep <div>
// nesting, </x> spam between opens, closes that a table cell ignores, formatting elements the
// parser keeps reopening — are refused before parsing and counted, while real page shapes
// (long unclosed lists, tables, paragraphs, inline SVG icons, markup in scripts) still parse.
// The scan's depth and node count are checked against the tree gumbo really builds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/compressed_stream.h"
#include "curate/curate.h"
#include "curate/gumbo_tree.h"
#include "curate/html_bounds.h"
#include "curate/html_extract.h"
#include "fixtures.h"
#include "test_util.h"

namespace {
using namespace nlm;
using namespace nlm::curate;

std::string repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// Depth (html = 1) and node count (elements, text, comments) of the tree gumbo builds.
GumboTreeSize gumbo_size(const std::string& html) { return GumboTree(html).size(); }

TEST(HtmlBounds, SelfClosingDivsAreRefusedAsTooDeep) {
  std::string page = "<html><body>" + repeat("<div/>", 50000) + "text</body></html>";  // 300 KB
  ASSERT_GT(page.size(), 300000u);
  HtmlTreeBound b = estimate_html_tree(page, 1000, 250000);
  EXPECT_TRUE(b.over);
  EXPECT_GT(b.depth, 1000);
  EXPECT_LE(b.depth, 1002);  // the scan stopped as soon as the limit was passed
  EXPECT_EQ(extract_html_text(page).problem, "html_too_deep");
}

TEST(HtmlBounds, DeepNestingAndStrayClosesAreRefused) {
  EXPECT_EQ(extract_html_text(repeat("<div>", 5000)).problem, "html_too_deep");
  // Stray end tags close nothing in the parser, so they must not cancel the opens.
  EXPECT_EQ(extract_html_text(repeat("<div></x>", 5000)).problem, "html_too_deep");
  EXPECT_EQ(extract_html_text(repeat("<div></span></b></p>", 5000)).problem, "html_too_deep");
  // </div> inside a table cell is ignored by the parser (the cell bounds its scope).
  EXPECT_EQ(extract_html_text(repeat("<div><table><tr><td></div>", 1000)).problem, "html_too_deep");
  // <div> inside <svg><foreignObject> is HTML again and nests.
  EXPECT_EQ(extract_html_text(repeat("<svg><foreignObject><div>", 1000)).problem, "html_too_deep");
  // Tags hidden in an SVG <style> are elements, not style text.
  EXPECT_EQ(extract_html_text("<svg><style>" + repeat("<g>", 5000)).problem, "html_too_deep");
  // Limits are options.
  HtmlOptions o;
  o.max_depth = 10;
  EXPECT_EQ(extract_html_text(repeat("<div>", 20) + "x", o).problem, "html_too_deep");
  EXPECT_EQ(extract_html_text(repeat("<div>", 5) + "x", o).problem, "");
}

TEST(HtmlBounds, ReopenedFormattingElementsCountTowardsNodes) {
  // 300 formatting elements closed by </p> but still active: the parser reopens all of them for
  // every later paragraph's text, 300 new elements per 10 bytes of input.
  std::string page = "<p>";
  for (int i = 0; i < 300; ++i) page += "<b id=" + std::to_string(i) + ">";
  page += "</p>" + repeat("<p>x</p>", 2000);
  HtmlTreeBound b = estimate_html_tree(page, 1000, 250000);
  EXPECT_TRUE(b.over);
  EXPECT_GT(b.nodes, 250000);
  EXPECT_EQ(extract_html_text(page).problem, "html_too_many_nodes");
  // Plain node count, with the limit lowered.
  HtmlOptions o;
  o.max_nodes = 1000;
  EXPECT_EQ(extract_html_text(repeat("<br>", 2000), o).problem, "html_too_many_nodes");
}

TEST(HtmlBounds, RealPageShapesStayShallow) {
  std::vector<std::string> pages = {
      "<ul>" + repeat("<li>item", 3000) + "</ul>",
      "<dl>" + repeat("<dt>term<dd>definition", 2000) + "</dl>",
      "<table>" + repeat("<tr><td>a<td>b", 2000) + "</table>",
      repeat("<p>paragraph", 3000),
      repeat("<h2>title<p>text", 2000),
      repeat("<select><option>a<option>b</select>", 1000),
      repeat("<svg viewBox='0 0 1 1'><path d='M0 0'/><circle r=1 /></svg>", 2000),
      "<script>" + repeat("document.write('<div>');", 3000) + "</script><p>text",
      "<textarea>" + repeat("<div>", 3000) + "</textarea>",
      "<!-- " + repeat("<div>", 3000) + " --><p>text",
      repeat("<p><b>bold</p>", 3000),
      repeat("<a href=x>one<a href=y>two", 2000),
      repeat("<div title='a > b'><span>x</span></div>", 3000),
  };
  for (const auto& page : pages) {
    HtmlTreeBound b = estimate_html_tree(page, 1000, 250000);
    EXPECT_FALSE(b.over) << page.substr(0, 60);
    EXPECT_LT(b.depth, 20) << page.substr(0, 60);
    EXPECT_EQ(extract_html_text(page).problem, "") << page.substr(0, 60);
  }
}

TEST(HtmlBounds, EstimateIsAtLeastTheParsersTree) {
  std::string formatting = "<p>";
  for (int i = 0; i < 20; ++i) formatting += "<i class=c" + std::to_string(i) + ">";
  formatting += "</p>" + repeat("<p>x</p>", 50);
  std::vector<std::string> pages = {
      repeat("<div/>", 300),
      repeat("<div></x>", 300),
      repeat("<div><span>", 300),
      repeat("<b><div>x</b>", 200),
      repeat("<a><div>x<a>y", 100),
      repeat("<div><table><tr><td></div>", 100),
      repeat("<svg><foreignObject><div>", 100),
      repeat("<svg><g/><path>", 100),
      repeat("<p>para", 300) + repeat("</p>", 50) + repeat("</br>", 50),
      "<ul>" + repeat("<li><span>item", 300),
      repeat("<table><td>x", 100),
      formatting,
      "<html><head><title>t</title></head><body><!-- c --><p>Some <b>bold <i>text</b> here</i>.</p>"
      "<ul><li>one<li>two</ul><table><tr><th>h<td>d</table></body></html>",
  };
  for (const auto& page : pages) {
    HtmlTreeBound b = estimate_html_tree(page, 1 << 30, int64_t{1} << 40);
    GumboTreeSize g = gumbo_size(page);
    EXPECT_GE(b.depth, g.depth) << page.substr(0, 60);
    EXPECT_GE(b.nodes, g.nodes) << page.substr(0, 60);
  }
}

// The limits are the parsed tree's: a page the scan overestimates (the parser ignores start tags
// inside <select>) is parsed and kept, and a page the scan lets through (under kHtmlScanGuard
// times the limit) is still refused when gumbo's tree is too deep or too big.
TEST(HtmlBounds, LimitsAreCheckedOnTheParsedTree) {
  std::string select = "<p>" + nlm::testing::kEnglish + "</p><select>" + repeat("<div>", 1500) + "</select>";
  ASSERT_GT(estimate_html_tree(select, 1 << 30, 1 << 30).depth, 1000);
  HtmlText kept = extract_html_text(select);
  EXPECT_EQ(kept.problem, "");
  EXPECT_EQ(kept.depth, gumbo_size(select).depth);
  EXPECT_LT(kept.depth, 10);
  EXPECT_NE(kept.text.find("the"), std::string::npos);

  std::string deep = repeat("<div>", 1500) + "x";
  ASSERT_LE(estimate_html_tree(deep, 1 << 30, 1 << 30).depth, 1000 * kHtmlScanGuard);
  HtmlText refused = extract_html_text(deep);
  EXPECT_EQ(refused.problem, "html_too_deep");
  EXPECT_EQ(refused.depth, gumbo_size(deep).depth);
  EXPECT_EQ(refused.depth, 1500 + 2);  // html, body, then the divs

  HtmlOptions o;
  o.max_nodes = 1000;
  std::string wide = repeat("<span>x</span>", 600);  // 1,200 nodes, and head and body
  HtmlText many = extract_html_text(wide, o);
  EXPECT_EQ(many.problem, "html_too_many_nodes");
  EXPECT_EQ(many.nodes, gumbo_size(wide).nodes);
  o.max_nodes = many.nodes;
  EXPECT_EQ(extract_html_text(wide, o).problem, "");
  // Far past the guard the page is refused unparsed.
  o.max_nodes = 100;
  HtmlText unparsed = extract_html_text(wide, o);
  EXPECT_EQ(unparsed.problem, "html_too_many_nodes");
  EXPECT_EQ(unparsed.nodes, 0);
}

// One hostile page in a crawl is skipped and counted; the rest of the run goes on.
TEST(HtmlBounds, CurateSkipsAndCountsHostilePages) {
  nlm::testing::TempDir dir;
  auto record = [](const std::string& uri, const std::string& html) {
    std::string block = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html;
    return "WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: " + uri +
           "\r\nWARC-Date: 2024-05-01T12:00:00Z\r\nWARC-Record-ID: <urn:uuid:" + uri +
           ">\r\nContent-Length: " + std::to_string(block.size()) + "\r\n\r\n" + block + "\r\n\r\n";
  };
  std::string good = "<html lang=en><body><p>" + nlm::testing::kEnglish + "</p></body></html>";
  std::string nodes_bomb = "<p>";
  for (int i = 0; i < 300; ++i) nodes_bomb += "<b id=" + std::to_string(i) + ">";
  nodes_bomb += "</p>" + repeat("<p>x</p>", 2000);
  std::string warc = record("http://a.example/1", good) +
                     record("http://bomb.example/divs", repeat("<div/>", 50000)) +
                     record("http://bomb.example/stray", repeat("<div></x>", 50000)) +
                     record("http://bomb.example/nodes", nodes_bomb) +
                     record("http://a.example/2", good);
  {
    auto out = OutputStream::create(dir.file("in/crawl.warc"));
    out->write(warc);
    out->commit();
  }
  CurateOptions o;
  o.output_dir = dir.file("out");
  o.chain.steps = {"normalize"};
  CurateReport r = run_curate({dir.file("in/crawl.warc")}, o);
  auto& warc_counts = r.stats.counters["warc"];
  EXPECT_EQ(warc_counts["html_too_deep"], 2u);
  EXPECT_EQ(warc_counts["html_too_many_nodes"], 1u);
  // The refused pages are removed by step html (and go to the rejects when asked).
  EXPECT_EQ(r.stats.docs_in, 5u) << r.to_table();
  EXPECT_EQ(r.stats.docs_out, 2u) << r.to_table();
  EXPECT_EQ(r.stats.removed_by_step["html"], 3u);
}

}  // namespace
