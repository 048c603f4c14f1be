// `corpus stats` through curate's sources: a WARC counts the pages curate extracts (not its header
// lines), a MediaWiki dump its articles, and --languages counts each language the identifier sees,
// whatever the thread count.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/runtime.h"
#include "curate/corpus_stats.h"
#include "test_util.h"
#include "warc_fixtures.h"

namespace {

using namespace nlm;
using nlm::testing::TempDir;
using nlm::testing::write_text;

const char* kBasque =
    "Euskara Euskal Herriko hizkuntza da, eta gaur egun milioi bat hiztun inguru ditu. Hizkuntza "
    "isolatua da: ez du ahaidetasunik ezagutzen Europako beste hizkuntzekin. Idazle askok euskaraz "
    "idatzi dute mendeetan zehar, eta gaur egun eskoletan irakasten da.";
const char* kEnglish =
    "The library opens at nine in the morning and closes at six in the evening. Members may borrow "
    "up to ten books at a time, and the reading room is open to everyone who wants a quiet place to "
    "work during the day.";
const char* kThai = "ภาษาไทยเป็นภาษาราชการของประเทศไทย มีผู้พูดเป็นภาษาแม่หลายสิบล้านคน และใช้อักษรไทยในการเขียน";
const char* kIrish =
    "Is teanga Cheilteach í an Ghaeilge agus í ar cheann de theangacha oifigiúla na hÉireann agus an "
    "Aontais Eorpaigh. Labhraítear í go laethúil sa Ghaeltacht.";

std::string page(const std::string& text) {
  return "<html><head><title>T</title></head><body><nav><a href=\"/\">Hasiera</a></nav><article><p>" + text +
         "</p></article></body></html>";
}

std::string warc() {
  using namespace nlm::testing;
  return record("warcinfo", "info", "software: test\r\n") +
         record("response", "http://eu.example/a", http("text/html; charset=utf-8", page(kBasque))) +
         record("response", "http://en.example/b", http("text/html; charset=utf-8", page(kEnglish))) +
         record("response", "http://eu.example/empty", http("text/html", "<html><body></body></html>")) +
         record("response", "http://eu.example/gone", http("text/html", "gone", "404 Not Found"));
}

TEST(CorpusStats, WarcCountsExtractedPagesAndTheirLanguages) {
  TempDir dir;
  write_text(dir.file("crawl.warc"), warc());
  curate::CorpusStatsOptions o;
  o.languages = true;
  auto st = curate::corpus_stats({dir.file("crawl.warc")}, o);
  EXPECT_EQ(st.docs, 2u);  // the two pages with text, not the WARC's lines
  EXPECT_EQ(st.lid, "CLD2");
  ASSERT_EQ(st.languages.size(), 2u) << st.to_json();
  EXPECT_EQ(st.languages["eu"].docs, 1u);
  EXPECT_EQ(st.languages["en"].docs, 1u);
  EXPECT_EQ(st.languages["eu"].bytes + st.languages["en"].bytes, st.bytes);
  EXPECT_EQ(st.source_counts["warc.records"], 5u);
  EXPECT_EQ(st.source_counts["warc.http_not_2xx"], 1u);
  EXPECT_EQ(st.source_counts["warc.html_no_text"], 1u);
  auto j = nlohmann::json::parse(st.to_json());
  EXPECT_EQ(j["languages"]["counts"]["eu"]["documents"], 1);
  EXPECT_EQ(j["input"]["sources"]["warc.records"], 5);
  std::string table = st.to_table();
  EXPECT_NE(table.find("languages (CLD2"), std::string::npos) << table;
  EXPECT_NE(table.find("warc.html_no_text"), std::string::npos) << table;
}

TEST(CorpusStats, WikiDumpCountsArticles) {
  TempDir dir;
  std::string xml = "<mediawiki>\n";
  auto pg = [](int id, const std::string& title, const std::string& text, bool redirect) {
    return "<page><title>" + title + "</title><ns>0</ns><id>" + std::to_string(id) + "</id>" +
           (redirect ? "<redirect title=\"X\" />" : "") + "<revision><id>9</id><text>" + text +
           "</text></revision></page>\n";
  };
  xml += pg(1, "Euskara", std::string("'''Euskara''' ") + kBasque, false);
  xml += pg(2, "Eusk", "#REDIRECT [[Euskara]]", true);
  xml += pg(3, "Gaeilge", kIrish, false);
  xml += "</mediawiki>\n";
  write_text(dir.file("euwiki-pages-articles.xml"), xml);
  curate::CorpusStatsOptions o;
  o.languages = true;
  auto st = curate::corpus_stats({dir.file("euwiki-pages-articles.xml")}, o);
  EXPECT_EQ(st.docs, 2u);
  EXPECT_EQ(st.source_counts["wiki.redirects"], 1u);
  EXPECT_EQ(st.languages["eu"].docs, 1u) << st.to_json();
  EXPECT_EQ(st.languages["ga"].docs, 1u) << st.to_json();
}

TEST(CorpusStats, LanguagesDoNotDependOnThreads) {
  TempDir dir;
  std::vector<std::string> files;
  for (int f = 0; f < 4; ++f) {
    std::string jsonl;
    for (int i = 0; i < 5; ++i)
      for (const char* t : {kThai, kIrish, kBasque})
        jsonl += nlohmann::json{{"text", std::string(t) + " " + std::to_string(i)}}.dump() + "\n";
    jsonl += "{\"text\": 3}\n";
    files.push_back(dir.file("p" + std::to_string(f) + ".jsonl"));
    write_text(files.back(), jsonl);
  }
  curate::CorpusStatsOptions o;
  o.languages = true;
  RuntimeOptions rt;
  rt.quiet = true;
  rt.threads = 1;
  set_runtime_options(rt);
  std::string one = curate::corpus_stats(files, o).to_json();
  rt.threads = 2;
  set_runtime_options(rt);
  auto st = curate::corpus_stats(files, o);
  set_runtime_options({});
  EXPECT_EQ(st.to_json(), one);
  EXPECT_EQ(st.docs, 60u);
  EXPECT_EQ(st.read.wrong_type, 4u);
  EXPECT_EQ(st.languages["th"].docs, 20u) << one;
  EXPECT_EQ(st.languages["ga"].docs, 20u) << one;
  EXPECT_EQ(st.languages["eu"].docs, 20u) << one;
  EXPECT_TRUE(st.source_counts.empty());
  // Without --languages there is no language section.
  EXPECT_EQ(nlohmann::json::parse(curate::corpus_stats(files, {}).to_json()).count("languages"), 0u);
}

TEST(CorpusStats, BadInputIsAClearErrorOrACountedSkip) {
  TempDir dir;
  write_text(dir.file("a.jsonl"), "{\"text\":\"ok\"}\n");
  curate::CorpusStatsOptions o;
  o.languages = true;
  o.lid_model = dir.file("missing.bin");
  EXPECT_THROW(curate::corpus_stats({dir.file("a.jsonl")}, o), nlm::Error);
  // A truncated WARC keeps the pages before the damage.
  std::string w = warc();
  write_text(dir.file("cut.warc"), w.substr(0, w.size() - 60));
  auto st = curate::corpus_stats({dir.file("cut.warc")}, {});
  EXPECT_EQ(st.docs, 2u);
  // An empty file is zero documents, not an error.
  write_text(dir.file("empty.warc"), "");
  EXPECT_EQ(curate::corpus_stats({dir.file("empty.warc")}, {}).docs, 0u);
}

}  // namespace
