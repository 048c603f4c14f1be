// MediaWiki dumps: markup stripped to the expected text (templates, tables, refs, files,
// categories gone; links kept as labels; headings as text), redirects and other namespaces
// skipped and counted, .bz2 read, and a truncated .bz2 counted rather than fatal.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "core/compressed_stream.h"
#include "corpus/mediawiki_reader.h"
#include "corpus/reader.h"
#include "curate/curate.h"
#include "curate/source.h"
#include "curate/wikitext.h"
#include "test_util.h"
#include "text/utf8.h"

namespace {
using namespace nlm;
using nlm::testing::TempDir;
namespace fs = std::filesystem;

const char* kMarkup =
    "{{Infobox settlement\n| name = Lindholm\n| population = {{formatnum:1234}}\n}}\n"
    "'''Lindholm''' is a [[village]] in [[Denmark|southern Denmark]]<ref name=\"a\">{{cite web|url=x}}</ref>, "
    "founded in the [[12th century]].<ref>Source.</ref>\n\n"
    "== History ==\n"
    "[[File:Lindholm church.jpg|thumb|The [[church]] in 1900]]\n"
    "The church was built in 1150.<!-- check date --> It is ''famous'' for its "
    "[https://example.org/tower tower] &amp; its bells.\n"
    "{| class=\"wikitable\"\n|-\n| Year || People\n|-\n| 1900 || 300\n|}\n"
    "* Fishing\n* Farming\n\n"
    "=== See also ===\n[[Category:Villages]] [[de:Lindholm]] __NOTOC__";

TEST(CurateWiki, StripsMarkup) {
  EXPECT_EQ(curate::strip_wikitext(kMarkup),
            "Lindholm is a village in southern Denmark, founded in the 12th century.\n\n"
            "History\n"
            "The church was built in 1150. It is famous for its tower & its bells.\n"
            "Fishing\nFarming\n\n"
            "See also");
  // Unbalanced markup ends the page, it does not crash or loop.
  EXPECT_EQ(curate::strip_wikitext("Text before. {{open template [[link"), "Text before.");
  // An unclosed link keeps its whole text; the last two bytes (here half of an "é") were cut as
  // if they were "]]" (fuzz/findings/fuzz_mediawiki/wikitext_unclosed_link).
  EXPECT_EQ(curate::strip_wikitext("See [[Caf\xc3\xa9"), "See Caf\xc3\xa9");
}

std::string page(const std::string& title, int ns, const std::string& text, bool redirect = false) {
  static int id = 1;
  std::string t = text;
  std::string esc;
  for (char c : t) {
    if (c == '<') esc += "&lt;";
    else if (c == '>') esc += "&gt;";
    else if (c == '&') esc += "&amp;";
    else if (c == '"') esc += "&quot;";
    else esc += c;
  }
  return "  <page>\n    <title>" + title + "</title>\n    <ns>" + std::to_string(ns) + "</ns>\n    <id>" +
         std::to_string(id++) + "</id>\n" + (redirect ? "    <redirect title=\"X\" />\n" : "") +
         "    <revision>\n      <id>99</id>\n      <text bytes=\"1\" xml:space=\"preserve\">" + esc +
         "</text>\n    </revision>\n  </page>\n";
}

TEST(CurateWiki, DumpThroughCurate) {
  TempDir dir;
  std::string xml = "<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.10/\">\n  <siteinfo><sitename>T</sitename></siteinfo>\n";
  xml += page("Lindholm", 0, kMarkup);
  xml += page("Old name", 0, "#REDIRECT [[Lindholm]]", true);
  xml += page("Talk:Lindholm", 1, "Is the date right?");
  xml += page("Template:Infobox", 10, "{{{name}}}");
  xml += page("Fishing", 0, "'''Fishing''' is the activity of catching [[fish]].");
  xml += "</mediawiki>\n";
  std::string path = dir.file("in/xxwiki-latest-pages-articles.xml.bz2");
  fs::create_directories(dir.file("in"));
  {
    auto out = OutputStream::create(path);
    out->write(xml);
    out->commit();
  }
  curate::CurateOptions o;
  o.output_dir = dir.file("out");
  o.chain.steps = {"normalize"};
  auto r = curate::run_curate({path}, o);
  EXPECT_EQ(r.stats.docs_out, 2u);
  EXPECT_EQ(r.stats.counters["wiki"]["redirects"], 1u);
  EXPECT_EQ(r.stats.counters["wiki"]["other_namespace"], 2u);
  corpus::DocumentReader reader(dir.file("out/part-00000.jsonl.zst"), corpus::ReadOptions{});
  corpus::Document d;
  ASSERT_TRUE(reader.next(d));
  EXPECT_EQ(d.string_field("title"), "Lindholm");
  EXPECT_EQ(d.text.rfind("Lindholm is a village in southern Denmark,", 0), 0u) << d.text;
  ASSERT_TRUE(reader.next(d));
  EXPECT_EQ(d.text, "Fishing is the activity of catching fish.");

  // Truncated .bz2: counted, the pages before the damage kept.
  std::string big;
  for (int i = 0; i < 300; ++i) big += page("P" + std::to_string(i), 0, "Page number " + std::to_string(i) + " text with words.");
  std::string cut = dir.file("cut-pages-articles.xml.bz2");
  {
    auto out = OutputStream::create(cut);
    out->write("<mediawiki>\n" + big + "</mediawiki>\n");
    out->commit();
  }
  fs::resize_file(cut, fs::file_size(cut) / 2);
  corpus::MediaWikiReader wr(cut);
  corpus::WikiPage p;
  size_t n = 0;
  while (wr.next(p)) ++n;
  EXPECT_EQ(wr.stats().truncated_files, 1u);
  EXPECT_LT(n, 300u);
}

// A damaged dump with invalid UTF-8 in a title and in the text gives valid UTF-8 documents (the
// bytes become U+FFFD); the title was passed through unrepaired (found with the document check
// of fuzz/fuzz_mediawiki).
TEST(CurateWiki, InvalidUtf8IsRepairedAndCounted) {
  TempDir dir;
  nlm::testing::write_text(dir.file("bad-pages-articles.xml"),
                           "<mediawiki><page><title>T\xff</title><ns>0</ns><id>1</id><revision>"
                           "<text>Some '''bold''' text \xc3 here.</text></revision></page></mediawiki>\n");
  corpus::Diagnostics diag;
  auto source = curate::open_source(dir.file("bad-pages-articles.xml"), corpus::ReadOptions{},
                                    curate::HtmlOptions{}, &diag);
  corpus::Document d;
  ASSERT_TRUE(source->next(d));
  EXPECT_EQ(d.text, "Some bold text \xef\xbf\xbd here.");
  EXPECT_EQ(d.string_field("title"), "T\xef\xbf\xbd");
}

}  // namespace

namespace {
std::string repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

// Hostile nesting (issue 11): links in link labels 100,000 deep recursed once per level and
// rescanned the rest of the page at each (a stack overflow, and quadratic time); '<' without '>'
// was scanned to the end of the page once per '<'. Now labels past kWikitextMaxNesting are kept
// as text and each page takes time linear in its size.
TEST(CurateWiki, HostileNestingIsBoundedAndLinear) {
  const size_t k = 100000;
  auto start = std::chrono::steady_clock::now();
  std::string links = "[[x|" + repeat("[[", k) + "deep" + repeat("]]", k) + "]] after";
  std::string out = curate::strip_wikitext(links);
  // The first kWikitextMaxNesting levels are stripped, the rest kept as markup.
  EXPECT_EQ(out.rfind(repeat("[[", k - curate::kWikitextMaxNesting) + "deep", 0), 0u) << out.substr(0, 80);
  EXPECT_NE(out.find("deep"), std::string::npos);
  EXPECT_NE(out.find("after"), std::string::npos);
  EXPECT_EQ(curate::strip_wikitext("[[x|[[[[[[deep]]]]]]]] after", 2), "[[deep]] after");
  EXPECT_EQ(curate::strip_wikitext("[[x|[[[[[[deep]]]]]]]] after"), "deep after");

  std::string external = repeat("[http://e.org/ ", k) + "end";
  out = curate::strip_wikitext(external);
  EXPECT_NE(out.find("end"), std::string::npos);
  EXPECT_LT(out.size(), external.size());

  std::string templates = "kept " + repeat("{{a|", k) + repeat("}}", k) + " text";
  EXPECT_EQ(curate::strip_wikitext(templates), "kept  text");
  std::string tables = repeat("{|\n", k) + repeat("|}\n", k) + "text";
  EXPECT_EQ(curate::strip_wikitext(tables), "text");

  std::string open_tags = repeat("<a", 500000) + " text";
  out = curate::strip_wikitext(open_tags);
  EXPECT_NE(out.find("text"), std::string::npos);
  // Each of these took minutes or crashed before; all together take well under a second idle.
  EXPECT_LT(seconds_since(start), 30.0);
}
