// WARC/WET input: records in several charsets (declared by HTTP, by <meta>, or not at all) come
// out as correct UTF-8 main text with URL/date/charset metadata; boilerplate is dropped; non-HTML,
// non-2xx, broken records, an HTML bomb and a truncated multi-member gzip are counted, not fatal.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/compressed_stream.h"
#include "corpus/reader.h"
#include "corpus/warc_reader.h"
#include "curate/charset.h"
#include "curate/curate.h"
#include "curate/html_extract.h"
#include "curate/source.h"
#include "fixtures.h"
#include "test_util.h"
#include "text/utf8.h"
#include "warc_fixtures.h"

namespace {
using namespace nlm;
using namespace nlm::curate;
using nlm::testing::TempDir;
namespace fs = std::filesystem;

using nlm::testing::encode;
using nlm::testing::http;
using nlm::testing::record;

std::string page(const std::string& lang, const std::string& meta, const std::vector<std::string>& paras) {
  std::string h = "<!DOCTYPE html><html lang=\"" + lang + "\"><head>" + meta +
                  "<title>Test page</title><script>var x = 1;</script><style>p{}</style></head><body>"
                  "<nav><a href=/>Home</a> | <a href=/news>News</a> | <a href=/shop>Shop</a></nav>"
                  "<div class=menu><ul><li><a href=/a>Products</a></li><li><a href=/b>Contact us</a></li></ul></div>"
                  "<article><h1>Local news</h1>";
  for (const auto& p : paras) h += "<p>" + p + "</p>\n";
  return h + "</article><footer>\xC2\xA9 2024 Example Media. All rights reserved.</footer></body></html>";
}

std::vector<std::string> paragraphs(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find("\n\n", pos);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + 2;
  }
  return out;
}

const std::string kWin1252 =
    "Le caf\xE9 \x93" "Chez Ren\xE9\x94 est ouvert depuis 1950 et il a \xE9t\xE9 r\xE9nov\xE9 plusieurs "
    "fois par la famille qui le tient depuis trois g\xE9n\xE9rations. Les habitants du quartier y "
    "viennent chaque matin pour lire le journal et discuter de la vie du village avec le patron.";

std::string build_warc() {
  using namespace nlm::testing;
  std::string w;
  w += record("warcinfo", "info", "software: test\r\n");
  w += record("response", "http://en.example/a", http("text/html; charset=utf-8", page("en", "", paragraphs(kEnglish))));
  w += record("response", "http://zh.example/gbk",
              http("text/html; charset=GBK", encode(page("zh", "", {kChinese}), "gb18030")));
  w += record("response", "http://tw.example/big5",
              http("text/html", encode(page("zh-TW", "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\">",
                                            {"這個小鎮位於兩條河流交匯的地方，歷史上一直是附近村莊的貿易中心。每到秋天，農民們會把收穫的糧食和水果運到鎮上的市場，和來自遠方的商人進行交換。鎮上的老圖書館是在一百多年前建成的，裡面保存著許多珍貴的地方志和家譜。現在，學生們放學以後常常來這裡讀書，老人們也喜歡在院子裡聊天、下棋。"}),
                                       "big5")));
  w += record("response", "http://fr.example/1252",
              http("text/html", "<html><body><p>" + kWin1252 + "</p><p>" + kWin1252 + " Encore.</p></body></html>"));
  w += record("response", "http://x.example/404", http("text/html", page("en", "", {kEnglish}), "404 Not Found"));
  w += record("response", "http://x.example/img.png", http("image/png", "\x89PNG\r\n\x1a\nxxxx"));
  std::string bomb = "<html><body>";
  for (int i = 0; i < 100000; ++i) bomb += "<div>";
  bomb += "deep</body></html>";
  w += record("response", "http://x.example/bomb", http("text/html", bomb));
  w += "WARC/1.0\r\nthis line is not a header\r\nContent-Length: 5\r\n\r\nhello\r\n\r\n";  // broken
  w += record("request", "http://x.example/req", "GET / HTTP/1.1\r\n\r\n");
  w += record("conversion", "http://de.example/wet", kGerman, "Content-Type: text/plain\r\n");
  return w;
}

// One gzip member per record, as Common Crawl writes them.
void write_multimember(const std::string& path, const std::string& warc) {
  std::string all;
  size_t pos = 0;
  while (pos < warc.size()) {
    size_t next = warc.find("WARC/1.0\r\n", pos + 1);
    if (next == std::string::npos) next = warc.size();
    std::string member_path = path + ".member";
    auto out = OutputStream::create(member_path, Compression::Gzip);
    out->write(std::string_view(warc).substr(pos, next - pos));
    out->commit();
    all += nlm::testing::read_text(member_path);
    fs::remove(member_path);
    pos = next;
  }
  nlm::testing::write_text(path, all);
}

TEST(CurateCharset, DecodesDeclaredMetaAndDetected) {
  std::string zh = "汉语的繁体字和简体字";
  auto d = decode_to_utf8(encode(zh, "gb18030"), "text/html; charset=gb2312", true);
  EXPECT_EQ(d.text, zh);
  EXPECT_EQ(d.charset, "gb18030");
  EXPECT_EQ(d.source, "http");
  std::string big5 = "<meta charset=\"big5\">" + encode("漢語的繁體字", "big5");
  d = decode_to_utf8(big5, "", true);
  EXPECT_EQ(d.source, "meta");
  EXPECT_NE(d.text.find("漢語的繁體字"), std::string::npos);
  d = decode_to_utf8(kWin1252, "", true);
  EXPECT_EQ(d.source, "detected");
  EXPECT_NE(d.text.find("Le café “Chez René” est ouvert"), std::string::npos) << d.charset;
  d = decode_to_utf8("plain \xE9\xE9" " bytes", "text/html; charset=utf-8", true);  // lying label
  EXPECT_TRUE(nlm::text::utf8_valid(d.text));
}

TEST(CurateHtml, KeepsMainTextDropsBoilerplate) {
  HtmlText t = extract_html_text(page("en", "", paragraphs(nlm::testing::kEnglish)));
  EXPECT_EQ(t.title, "Test page");
  EXPECT_EQ(t.lang, "en");
  EXPECT_NE(t.text.find("The village library opened its doors"), std::string::npos) << t.text;
  EXPECT_NE(t.text.find("students prepared for their examinations."), std::string::npos) << t.text;
  for (const char* junk : {"Home", "Products", "var x", "All rights reserved"})
    EXPECT_EQ(t.text.find(junk), std::string::npos) << junk << "\n" << t.text;
  std::string bomb;
  for (int i = 0; i < 50000; ++i) bomb += "<div><span>";
  EXPECT_EQ(extract_html_text(bomb).problem, "html_too_deep");
}

TEST(CurateWarc, ReaderCountsBrokenRecordsAndTruncation) {
  TempDir dir;
  std::string warc = build_warc();
  nlm::testing::write_text(dir.file("a.warc"), warc);
  corpus::WarcReader r(dir.file("a.warc"));
  corpus::WarcRecord rec;
  std::vector<std::string> types;
  while (r.next(rec)) types.emplace_back(rec.type());
  EXPECT_EQ(types.size(), 10u);
  EXPECT_EQ(r.stats().bad_records, 1u);
  EXPECT_EQ(types.back(), "conversion");

  write_multimember(dir.file("b.warc.gz"), warc);
  corpus::WarcReader gz(dir.file("b.warc.gz"));
  size_t n = 0;
  while (gz.next(rec)) ++n;
  EXPECT_EQ(n, 10u);
  fs::resize_file(dir.file("b.warc.gz"), fs::file_size(dir.file("b.warc.gz")) * 2 / 3);
  corpus::WarcReader cut(dir.file("b.warc.gz"));
  n = 0;
  while (cut.next(rec)) ++n;
  EXPECT_GT(n, 0u);
  EXPECT_LT(n, 10u);
  EXPECT_EQ(cut.stats().truncated_files, 1u);
}

// Declared lengths that lie (issue 11): a Content-Length far past the end of the file, or one
// that swallows the next record, is one counted bad record; the records after it are still read
// and the lie never sizes a buffer (the file is 1 KB; the claim is 60 MB).
TEST(CurateWarc, LyingContentLengthIsACountedSkip) {
  TempDir dir;
  auto record = [](const std::string& uri, const std::string& block, std::string length = "") {
    if (length.empty()) length = std::to_string(block.size());
    return "WARC/1.0\r\nWARC-Type: resource\r\nWARC-Target-URI: " + uri +
           "\r\nContent-Type: text/plain\r\nContent-Length: " + length + "\r\n\r\n" + block + "\r\n\r\n";
  };
  std::string warc = record("http://a/1", "first") + record("http://a/long", "claims 60 bytes", "60") +
                     record("http://a/2", "second") + record("http://a/lie", "claims 60 MB", "60000000") +
                     record("http://a/3", "third");
  nlm::testing::write_text(dir.file("lie.warc"), warc);
  corpus::WarcReader r(dir.file("lie.warc"));
  corpus::WarcRecord rec;
  std::vector<std::string> blocks;
  while (r.next(rec)) blocks.push_back(rec.block);
  EXPECT_EQ(blocks, (std::vector<std::string>{"first", "second", "third"}));
  EXPECT_EQ(r.stats().bad_records, 2u);
  EXPECT_EQ(r.stats().truncated_files, 0u);
  EXPECT_NE(r.last_problem().find("wrong Content-Length"), std::string::npos) << r.last_problem();

  // Past the 64 MB record cap the block is skipped unread, so a lie there cannot be recovered
  // from; it is still a counted bad record with a clear problem, never a wait or an allocation.
  std::string huge = record("http://a/1", "first") + record("http://a/huge", "claims 1 TB", "1000000000000") +
                     record("http://a/2", "lost");
  nlm::testing::write_text(dir.file("huge.warc"), huge);
  corpus::WarcReader h(dir.file("huge.warc"));
  blocks.clear();
  while (h.next(rec)) blocks.push_back(rec.block);
  EXPECT_EQ(blocks, (std::vector<std::string>{"first"}));
  EXPECT_EQ(h.stats().oversized_records, 1u);
  EXPECT_EQ(h.stats().bad_records, 1u);
  EXPECT_NE(h.last_problem().find("runs past the end of the file; the records after it are lost"), std::string::npos)
      << h.last_problem();
}

TEST(CurateWarc, CurateExtractsDocumentsWithMetadata) {
  TempDir dir;
  write_multimember(dir.file("in/crawl.warc.gz"), build_warc());
  CurateOptions o;
  o.output_dir = dir.file("out");
  o.chain.steps = {"normalize", "lid"};
  CurateReport r = run_curate({dir.file("in/crawl.warc.gz")}, o);
  std::map<std::string, corpus::Document> docs;
  corpus::DocumentReader reader(dir.file("out/part-00000.jsonl.zst"), corpus::ReadOptions{});
  corpus::Document d;
  while (reader.next(d)) {
    auto meta = nlohmann::json::parse(*d.field("meta"));
    docs[meta["url"].get<std::string>()] = d;
  }
  ASSERT_EQ(docs.size(), 5u) << r.to_table();
  auto meta = [&](const std::string& url) { return nlohmann::json::parse(*docs[url].field("meta")); };
  EXPECT_EQ(meta("http://en.example/a")["date"], "2024-05-01T12:00:00Z");
  EXPECT_EQ(meta("http://en.example/a")["charset"], "utf-8");
  EXPECT_EQ(meta("http://zh.example/gbk")["charset"], "gb18030");
  EXPECT_EQ(meta("http://zh.example/gbk")["charset_source"], "http");
  EXPECT_NE(docs["http://zh.example/gbk"].text.find("镇上的老图书馆是在一百多年前建成的"), std::string::npos);
  EXPECT_EQ(docs["http://zh.example/gbk"].string_field("lang"), "zh");
  EXPECT_EQ(meta("http://tw.example/big5")["charset_source"], "meta");
  EXPECT_NE(docs["http://tw.example/big5"].text.find("裡面保存著許多珍貴的地方志和家譜"), std::string::npos);
  EXPECT_NE(docs["http://fr.example/1252"].text.find("Le café “Chez René” est ouvert"), std::string::npos);
  EXPECT_EQ(docs["http://de.example/wet"].text, nlm::testing::kGerman);
  EXPECT_EQ(docs["http://en.example/a"].text.find("Home"), std::string::npos);
  auto& warc = r.stats.counters["warc"];
  EXPECT_EQ(warc["bad_records"], 1u);
  EXPECT_EQ(warc["http_not_2xx"], 1u);
  EXPECT_EQ(warc["not_text"], 1u);
  EXPECT_EQ(warc["html_too_deep"], 1u);
}

// Found by fuzz/fuzz_warc (fuzz/findings/fuzz_warc/warc_invalid_utf8_header): a WARC header with invalid
// UTF-8 reached nlohmann's dump() and escaped as its type_error; now the id and metadata are
// repaired to U+FFFD like document text.
TEST(CurateWarc, InvalidUtf8InHeadersIsRepaired) {
  TempDir dir;
  const std::string body = "Plain text of a page\nsecond line";
  const std::string record = "WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: http://example.org/\xff\r\n"
                             "WARC-Date: 2024-\xbb" "01-02\r\nWARC-Record-ID: <urn:\xc3>\r\nContent-Type: text/plain\r\n"
                             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body + "\r\n\r\n";
  nlm::testing::write_text(dir.file("x.warc"), record);
  corpus::Diagnostics diag;
  auto source = open_source(dir.file("x.warc"), corpus::ReadOptions{}, HtmlOptions{}, &diag);
  corpus::Document d;
  ASSERT_TRUE(source->next(d));
  EXPECT_TRUE(text::utf8_valid(d.id));
  auto meta = nlohmann::json::parse(*d.field("meta"));
  EXPECT_EQ(meta["url"], "http://example.org/\xef\xbf\xbd");
  EXPECT_EQ(meta["date"], "2024-\xef\xbf\xbd" "01-02");
  EXPECT_EQ(d.text, body);
}

}  // namespace
