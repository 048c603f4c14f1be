// Short pages (issue 16): jusText finds no paragraph good on its own on a news story of two short
// paragraphs or on a help page, so the structural fallback (article/main, the title's heading,
// the densest <p> cluster) must keep their text, in every charset, without nav, header, aside or
// footer; long boilerplate-heavy pages keep jusText's result; supplied stop-word lists are used;
// and pages dropped by extraction reach the rejects with their reason.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "corpus/reader.h"
#include "curate/curate.h"
#include "curate/html_extract.h"
#include "fixtures.h"
#include "test_util.h"
#include "text/utf8.h"
#include "warc_fixtures.h"

namespace {
using namespace nlm;
using namespace nlm::curate;
using nlm::testing::encode;
using nlm::testing::http;
using nlm::testing::record;
using nlm::testing::TempDir;

// A news page: nav menu, site header, a menu of links, a "most read" aside, then an <article>
// with a headline and the paragraphs, and a footer.
std::string news_page(const std::string& lang, const std::string& meta, const std::string& headline,
                      const std::vector<std::string>& paras) {
  std::string h = "<!DOCTYPE html><html lang=\"" + lang + "\"><head>" + meta + "<title>" + headline +
                  " | Daily Example</title><script>var x = 1;</script></head><body>"
                  "<nav><a href=/>Home</a> | <a href=/news>News</a> | <a href=/sport>Sport</a></nav>"
                  "<header><div class=logo>Daily Example Online Edition</div></header>"
                  "<div class=menu><ul><li><a href=/a>Products</a></li><li><a href=/b>Contact us</a></li></ul></div>"
                  "<aside><h3>Most read</h3><ul><li><a href=/x>A story everyone reads</a></li></ul></aside>"
                  "<article><h1>" + headline + "</h1>";
  for (const auto& p : paras) h += "<p>" + p + "</p>\n";
  return h + "</article><footer><p>About us - Advertise with us - Jobs at the paper</p>"
             "<p>\xC2\xA9 2024 Example Media. All rights reserved.</p></footer></body></html>";
}

const char* const kBoilerplate[] = {"Home", "Sport", "Daily Example Online", "Products", "Contact us",
                                    "Most read", "A story everyone reads", "About us", "All rights reserved",
                                    "var x"};

struct ShortPage {
  std::string url, lang, charset, declared;  // declared: "http" or "meta"
  std::string headline;
  std::vector<std::string> paras;
};

const std::vector<ShortPage>& short_pages() {
  static const std::vector<ShortPage> pages = {
      {"http://zh.example/gbk", "zh-CN", "GBK", "http", "新图书馆开馆",
       {"本市今天上午举行了新图书馆的开馆仪式，数百名市民冒雨前来参观。新馆共有五层，藏书超过三十万册，并设有儿童阅览区和自习室。",
        "图书馆负责人表示，开馆后的第一个月将延长开放时间，每天晚上九点闭馆。市民凭身份证即可免费办理借书证，每人最多可借十本书。"}},
      {"http://tw.example/big5", "zh-TW", "big5", "meta", "山區道路搶修",
       {"颱風過後，山區多條道路因土石崩落而暫時封閉，公路局已派出工程人員連夜搶修，預計明天中午以前可以恢復通行。",
        "氣象局提醒民眾，未來幾天山區仍可能出現午後雷陣雨，前往山區旅遊的遊客應隨時注意最新的天氣資訊，並避免靠近溪流。"}},
      {"http://jp.example/sjis", "ja", "Shift_JIS", "meta", "小学校で防災訓練",
       {"昨日の午後、市内の小学校で防災訓練が行われ、児童と教職員あわせて約六百人が参加しました。地震の発生を想定し、児童たちは机の下に身を隠した後、校庭へ避難しました。",
        "訓練の後には消防署の職員が講話を行い、家庭でも非常用の食料や水を準備しておくことの大切さを説明しました。"}},
      {"http://kr.example/euckr", "ko", "EUC-KR", "http", "전통 음식 축제",
       {"지난 주말 시내 중심가에서 열린 전통 음식 축제에는 가족 단위 관람객 수천 명이 찾아와 다양한 지역 음식을 맛보았다.",
        "축제 주최 측은 내년에는 행사 기간을 사흘로 늘리고, 외국인 관광객을 위한 안내 부스도 새로 마련할 계획이라고 밝혔다."}},
      {"http://fr.example/1252", "fr", "windows-1252", "meta", "Budget municipal",
       {"Le conseil municipal a vot\xC3\xA9 hier soir le budget de l\xE2\x80\x99" "ann\xC3\xA9" "e prochaine, qui pr\xC3\xA9voit "
        "la r\xC3\xA9novation compl\xC3\xA8te de l\xE2\x80\x99\xC3\xA9" "cole du quartier.",
        "Les travaux commenceront au printemps et devraient durer environ huit mois, pendant lesquels les "
        "\xC3\xA9l\xC3\xA8ves seront accueillis \xC3\xA0 la mairie."}},
      {"http://en.example/utf8", "en", "UTF-8", "meta", "Harbour reopens",
       {"The harbour reopened on Monday after a week of repairs to the main pier, which was damaged by the storm at "
        "the end of the month.",
        "Fishing boats returned to their usual berths by noon, and the ferry to the islands will run on its normal "
        "timetable from Wednesday."}},
  };
  return pages;
}

std::string short_page_record(const ShortPage& p) {
  std::string meta = p.declared == "meta" ? "<meta charset=\"" + p.charset + "\">" : "";
  std::string content_type = p.declared == "http" ? "text/html; charset=" + p.charset : "text/html";
  std::string body = news_page(p.lang, meta, p.headline, p.paras);
  if (p.charset != "UTF-8") body = encode(body, p.charset.c_str());
  return record("response", p.url, http(content_type, body));
}

std::map<std::string, corpus::Document> read_by_url(const std::string& path) {
  std::map<std::string, corpus::Document> docs;
  corpus::DocumentReader reader(path, corpus::ReadOptions{});
  corpus::Document d;
  while (reader.next(d)) docs[nlohmann::json::parse(*d.field("meta"))["url"].get<std::string>()] = d;
  return docs;
}

TEST(HtmlShort, ShortArticlesInEveryCharsetKeepTheirParagraphsOnly) {
  TempDir dir;
  std::string warc;
  for (const auto& p : short_pages()) warc += short_page_record(p);
  nlm::testing::write_text(dir.file("in/news.warc"), warc);
  CurateOptions o;
  o.output_dir = dir.file("out");
  o.rejects_dir = dir.file("rej");
  o.chain.steps = {};
  CurateReport r = run_curate({dir.file("in/news.warc")}, o);
  auto docs = read_by_url(dir.file("out/part-00000.jsonl.zst"));
  ASSERT_EQ(docs.size(), short_pages().size()) << r.to_table();
  for (const auto& p : short_pages()) {
    SCOPED_TRACE(p.url);
    const corpus::Document& d = docs[p.url];
    EXPECT_TRUE(text::utf8_valid(d.text));
    auto meta = nlohmann::json::parse(*d.field("meta"));
    EXPECT_EQ(meta["charset_source"], p.declared);
    for (const auto& para : p.paras) EXPECT_NE(d.text.find(para), std::string::npos) << d.text;
    EXPECT_NE(d.text.find(p.headline), std::string::npos) << d.text;
    for (const char* junk : kBoilerplate) EXPECT_EQ(d.text.find(junk), std::string::npos) << junk << "\n" << d.text;
  }
  EXPECT_EQ(r.stats.counters["warc"]["html_by_structure"], short_pages().size());
}

// Issue 16's measurement, as a unit: two 100-150-character paragraphs in an <article> gave no
// text at all, since jusText judges each one too short to be good on its own.
TEST(HtmlShort, TwoShortParagraphsInAnArticleAreKept) {
  const ShortPage& en = short_pages().back();
  HtmlText t = extract_html_text(news_page("en", "", en.headline, en.paras));
  EXPECT_EQ(t.problem, "");
  EXPECT_EQ(t.method, "structure");
  EXPECT_EQ(t.text, en.headline + "\n\n" + en.paras[0] + "\n\n" + en.paras[1]);
  HtmlOptions off;
  off.fallback_below = 0;  // jusText alone: nothing
  HtmlText j = extract_html_text(news_page("en", "", en.headline, en.paras), off);
  EXPECT_EQ(j.text, "");
  EXPECT_EQ(j.problem, "");
  EXPECT_EQ(j.dropped, "html_no_main_text");
}

// A long page full of boilerplate: jusText keeps the article (with the short caption between
// its good paragraphs) and drops the rest, and the fallback does not step in.
TEST(HtmlShort, LongBoilerplatePageKeepsJusTextResult) {
  std::vector<std::string> paras;
  for (size_t pos = 0; pos < nlm::testing::kEnglish.size();) {
    size_t end = nlm::testing::kEnglish.find("\n\n", pos);
    if (end == std::string::npos) end = nlm::testing::kEnglish.size();
    std::string p = nlm::testing::kEnglish.substr(pos, end - pos);
    for (auto& c : p)
      if (c == '\n') c = ' ';
    paras.push_back(p);
    pos = end + 2;
  }
  std::string page = "<html lang=en><head><title>The village library</title></head><body>"
                     "<div id=top><a href=/>Home</a> <a href=/login>Log in</a> <a href=/register>Register</a></div>";
  for (int i = 0; i < 20; ++i) page += "<div class=item><a href=/c" + std::to_string(i) + ">Category " + std::to_string(i) + "</a></div>";
  page += "<div class=main><h1>The village library</h1><p>" + paras[0] + "</p><p>Photo: the archive</p><p>" + paras[1] +
          "</p></div><div class=related><h3>Related</h3>";
  for (int i = 0; i < 10; ++i)
    page += "<p><a href=/r" + std::to_string(i) + ">Another story about the valley, number " + std::to_string(i) + "</a></p>";
  page += "</div><div class=newsletter><p>Sign up</p></div>"
          "<div class=footer>Copyright 2024 The Valley Gazette. Terms. Privacy. Cookies.</div></body></html>";
  HtmlText t = extract_html_text(page);
  EXPECT_EQ(t.method, "justext");
  EXPECT_EQ(t.text, "The village library\n\n" + paras[0] + "\n\nPhoto: the archive\n\n" + paras[1]);
}

// A LibreOffice help page in Basque (no jusText stop-word list): ~1,000 characters of prose in
// paragraphs of 100-160 characters, inside <div id=DisplayArea> between a header, two asides and
// a footer. jusText alone keeps nothing; the <p> cluster gives all of it.
const std::vector<std::string> kBasque = {
    "Elkarrizketa-koadro honetan dokumentuaren makroen segurtasun-maila ezar dezakezu, eta konfiantzazko iturrien zerrenda kudeatu.",
    "Segurtasun-maila altua hautatzen baduzu, konfiantzazko iturrietatik datozen makro sinatuak bakarrik exekutatuko dira, eta gainerakoak desgaitu egingo dira.",
    "Maila ertainean, programak galdetu egingo dizu makroak exekutatu nahi dituzun ala ez, dokumentua iturri ezezagun batetik badator.",
    "Konfiantzazko kokalekuen zerrendan dauden karpetetako dokumentuen makroak beti exekutatzen dira, segurtasun-maila edozein dela ere.",
    "Ziurtagiri digital baten bidez sinatutako makroek egilearen izena erakusten dute, eta ziurtagiri hori konfiantzazko zerrendara gehi dezakezu.",
    "Aukera hauek aldatu aurretik, kontuan hartu makro batek zure ordenagailuko fitxategiak irakurri, aldatu edo ezabatu ditzakeela.",
    "Zalantzarik baduzu, utzi segurtasun-maila altuan eta ireki soilik ezagutzen dituzun pertsonek bidalitako dokumentuak.",
    "Ezarpen hauek erabiltzaile bakoitzarentzat gordetzen dira, eta ordenagailu berean dauden beste erabiltzaileei ez die eragiten."};

std::string help_page(const std::string& html_lang, bool with_p) {
  std::string h = "<!DOCTYPE html><html" + html_lang + " dir=ltr><head><meta charset=utf-8>"
                  "<title>Makro-segurtasuna</title><script src=help.js></script></head><body>"
                  "<header id=TopLeftHeader><a class=logo href=new_help.html><p>LibreOffice 7.4 laguntza</p></a>"
                  "<div class=dropdowns><button>Modulua</button><nav id=modules-nav></nav></div></header>"
                  "<aside class=rightside><label>Edukiak</label><div id=Contents></div></aside>"
                  "<aside class=leftside><div id=Index><div class=index-label>Indizea</div>"
                  "<input type=search placeholder=Bilatu></div></aside>"
                  "<div id=DisplayArea itemprop=softwareHelp><h1 id=par1><a name=macrosecurity></a>Makro-segurtasuna</h1>";
  for (const auto& p : kBasque) h += with_p ? "<p class=paragraph>" + p + "</p>\n" : "<span>" + p + "</span><br>\n";
  return h + "<div class=relatedtopics><p class=related>Erlazionatutako gaiak</p>"
             "<div class=relatedbody><a href=x.html>Makroak grabatzea</a></div></div></div>"
             "<footer><h2 class=donation>Lagundu LibreOffice garatzen</h2>"
             "<p>Orri hau Mozilla Public License lizentziapean dago.</p></footer></body></html>";
}

TEST(HtmlShort, BasqueHelpPageYieldsItsProse) {
  for (const char* lang : {" lang=eu", ""}) {
    for (bool with_p : {true, false}) {  // without <p>: the heading that repeats the title anchors it
      SCOPED_TRACE(std::string(lang) + (with_p ? " <p>" : " <span><br>"));
      HtmlText t = extract_html_text(help_page(lang, with_p));
      EXPECT_EQ(t.problem, "");
      EXPECT_EQ(t.method, "structure");
      size_t prose = 0;
      for (const auto& p : kBasque) {
        EXPECT_NE(t.text.find(p), std::string::npos) << t.text;
        prose += text::utf8_length(p);
      }
      EXPECT_GT(prose, 950u);
      for (const char* junk : {"LibreOffice 7.4", "Modulua", "Edukiak", "Indizea", "Lagundu", "Mozilla", "Makroak grabatzea"})
        EXPECT_EQ(t.text.find(junk), std::string::npos) << junk << "\n" << t.text;
    }
  }
}

// Without a list for the page's language the stop-word criterion vetoes nothing (length and link
// density decide); a supplied list, one file for all pages or <lang>.txt in a folder, is used.
TEST(HtmlShort, SuppliedStopWordListsAreUsed) {
  TempDir dir;
  std::string prose =
      "Udalak atzo jakinarazi zuen liburutegi berria datorren hilean irekiko dela, eta bertan haurrentzako "
      "gela bat eta ikasteko toki lasai bat egongo direla. Herritarrek doan lortu ahal izango dute txartela, "
      "eta hamar liburu hartu ahal izango dituzte aldi berean.";
  std::string catalogue =
      "Mahai-lanpara LED zuria 12W - Bulegoko aulki ergonomikoa beltza - Liburu-apal modularra haritza 180cm - "
      "Idazmahai doigarria elektrikoa 140x70 - Armairu metalikoa giltzaduna grisa - Paper-ontzi birziklagarria "
      "urdina 30L - Arbel magnetikoa 90x60";
  std::string page = "<html lang=eu><body><div><p>" + prose + "</p><p>" + catalogue + "</p></div></body></html>";
  HtmlText none = extract_html_text(page);
  EXPECT_NE(none.text.find(prose), std::string::npos);
  EXPECT_NE(none.text.find(catalogue), std::string::npos);  // length alone: both are good

  // With the list the prose is good (15 of its 40 words are listed) and the catalogue, with
  // none, is bad; jusText keeps enough, so the structural fallback does not step in.
  const std::string basque_list = "eta\nda\nbat\nez\ndu\ndute\nizango\nahal\nbertan\ndela\ndira\nzuen\ndituzte\ndirela\n";
  nlm::testing::write_text(dir.file("lists/eu.txt"), "# Basque\n" + basque_list);
  HtmlOptions o;
  o.stopwords = dir.file("lists");
  HtmlText eu = extract_html_text(page, o);
  EXPECT_NE(eu.text.find(prose), std::string::npos) << eu.text;
  EXPECT_EQ(eu.text.find(catalogue), std::string::npos) << eu.text;
  // The folder's lists are per language: an English page still uses the built-in list.
  EXPECT_NE(extract_html_text("<html lang=en><body><p>" + nlm::testing::kEnglish + "</p></body></html>", o).text.find("library"),
            std::string::npos);

  nlm::testing::write_text(dir.file("all.txt"), basque_list);
  o.stopwords = dir.file("all.txt");
  EXPECT_EQ(extract_html_text(page, o).text.find(catalogue), std::string::npos);

  ChainConfig c;
  c.html.stopwords = dir.file("missing");
  EXPECT_THROW(c.validate(), Error);
}

// Pages dropped by extraction are documents removed by step "html" (or "warc" for a record
// whose HTTP head cannot be read, or a text body with nothing in it): in the rejects with their
// reason and the page as read, in removed_by_reason and in the funnel.
TEST(HtmlShort, ExtractionRejectsGoToTheRejectsWithReasons) {
  TempDir dir;
  const ShortPage& good = short_pages().back();
  std::string bomb = "<html><body>";
  for (int i = 0; i < 5000; ++i) bomb += "<div>";
  std::string w;
  w += short_page_record(good);
  w += record("response", "http://x.example/empty", http("text/html", ""));
  w += record("response", "http://x.example/nav",
              http("text/html", "<html><body><nav><a href=/>Home</a> <a href=/news>News</a></nav></body></html>"));
  w += record("response", "http://x.example/menu",
              http("text/html", "<html><body><div><ul><li><a href=/a>Products</a></li>"
                                "<li><a href=/b>Contact us</a></li></ul></div></body></html>"));
  w += record("response", "http://x.example/bomb", http("text/html", bomb + "deep</body></html>"));
  w += record("response", "http://x.example/nohttp", "this is not an HTTP response");
  w += record("response", "http://x.example/blank.txt", http("text/plain", "  \n \n"));
  // Invalid UTF-8 under a UTF-8 label: decoded some other way, and the article is still kept.
  w += record("response", "http://x.example/bytes",
              http("text/html; charset=utf-8", news_page("en", "", good.headline + " \xFF\xFE", good.paras)));
  nlm::testing::write_text(dir.file("in/mixed.warc"), w);
  CurateOptions o;
  o.output_dir = dir.file("out");
  o.rejects_dir = dir.file("rej");
  o.chain.steps = {"normalize"};
  CurateReport r = run_curate({dir.file("in/mixed.warc")}, o);

  auto kept = read_by_url(dir.file("out/part-00000.jsonl.zst"));
  auto rejected = read_by_url(dir.file("rej/part-00000.jsonl.zst"));
  EXPECT_EQ(kept.size(), 2u) << r.to_table();
  ASSERT_TRUE(kept.count(good.url));
  ASSERT_TRUE(kept.count("http://x.example/bytes"));
  EXPECT_TRUE(text::utf8_valid(kept["http://x.example/bytes"].text));
  EXPECT_NE(kept["http://x.example/bytes"].text.find(good.paras[1]), std::string::npos);

  std::map<std::string, std::string> want = {{"http://x.example/empty", "html.no_text"},
                                             {"http://x.example/nav", "html.no_text"},
                                             {"http://x.example/menu", "html.no_main_text"},
                                             {"http://x.example/bomb", "html.too_deep"},
                                             {"http://x.example/nohttp", "warc.bad_http"},
                                             {"http://x.example/blank.txt", "warc.no_text"}};
  ASSERT_EQ(rejected.size(), want.size()) << r.to_table();
  for (const auto& [url, reason] : want) {
    SCOPED_TRACE(url);
    ASSERT_TRUE(rejected.count(url));
    EXPECT_EQ(rejected[url].string_field("reject_reason"), reason);
    EXPECT_EQ(rejected[url].id, "<urn:uuid:" + url + ">");
  }
  EXPECT_NE(rejected["http://x.example/menu"].text.find("<li><a href=/a>Products</a>"), std::string::npos);
  EXPECT_GT(std::stod(*rejected["http://x.example/bomb"].field("reject_value")), 1000);
  EXPECT_EQ(std::stod(*rejected["http://x.example/menu"].field("reject_value")), 18);  // "Products", "Contact us"

  EXPECT_EQ(r.stats.docs_in, 8u);
  EXPECT_EQ(r.stats.docs_out, 2u);
  EXPECT_EQ(r.stats.removed_by_reason["html.no_text"], 2u);
  EXPECT_EQ(r.stats.removed_by_reason["html.no_main_text"], 1u);
  EXPECT_EQ(r.stats.removed_by_reason["html.too_deep"], 1u);
  EXPECT_EQ(r.stats.removed_by_reason["warc.bad_http"], 1u);
  EXPECT_EQ(r.stats.removed_by_reason["warc.no_text"], 1u);
  auto report = nlohmann::json::parse(r.to_json());
  EXPECT_EQ(report["funnel"][0]["step"], "warc");
  EXPECT_EQ(report["funnel"][0]["removed"], 2);
  EXPECT_EQ(report["funnel"][1]["step"], "html");
  EXPECT_EQ(report["funnel"][1]["removed"], 4);
  EXPECT_EQ(report["funnel"][1]["remaining"], 2);
  EXPECT_EQ(r.stats.counters["warc"]["html_too_deep"], 1u);  // the WARC counters stay
}

}  // namespace
