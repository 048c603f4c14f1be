// Curation across scripts: the default chain keeps about as much of a language's clean text as of
// the same text in English (parallel gettext catalogues, 8+ scripts); `curate calibrate` derives
// thresholds that reproduce the English defaults from English text and fit CJK and Thai; a
// document whose language has no profile takes its script's.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/runtime.h"
#include "curate/calibrate.h"
#include "curate/config.h"
#include "curate/curate.h"
#include "curate/doc_context.h"
#include "curate/profiles.h"
#include "fixtures.h"
#include "gettext_corpus.h"
#include "test_util.h"
#include "text/script.h"

namespace {

using namespace nlm;
using namespace nlm::curate;
using nlm::testing::TempDir;
using nlm::testing::write_text;

double keep_rate(const std::vector<std::string>& texts, const std::string& dir) {
  std::string jsonl;
  for (const auto& t : texts) jsonl += nlohmann::json{{"text", t}}.dump() + "\n";
  write_text(dir + "/in.jsonl", jsonl);
  CurateOptions o;
  o.output_dir = dir + "/out";
  o.extension = ".jsonl";
  CurateReport r = run_curate({dir + "/in.jsonl"}, o);
  return static_cast<double>(r.stats.docs_out) / static_cast<double>(r.stats.docs_in);
}

TEST(KeepRateParity, NoLanguageFallsFifteenPointsBelowEnglish) {
  RuntimeOptions rt;
  rt.quiet = true;
  set_runtime_options(rt);
  if (nlm::testing::gettext_documents("ja").empty())
    GTEST_SKIP() << "no gettext catalogues under /usr/share/locale (Debian ships them with coreutils, dpkg, glib)";
  TempDir dir;
  // One language per script where Debian has enough translated sentences; the test needs 8 scripts.
  const std::vector<std::pair<std::string, std::string>> langs = {
      {"de", "Latin"},   {"eu", "Latin"},     {"ga", "Latin"},   {"ru", "Cyrillic"}, {"el", "Greek"},
      {"ar", "Arabic"},  {"he", "Hebrew"},    {"hi", "Devanagari"}, {"bn", "Bengali"}, {"ta", "Tamil"},
      {"th", "Thai"},    {"zh_CN", "Han"},    {"ja", "Japanese"}, {"ko", "Hangul"},  {"ka", "Georgian"},
      {"hy", "Armenian"}};
  std::set<std::string> scripts;
  for (const auto& [locale, script] : langs) {
    auto docs = nlm::testing::gettext_documents(locale);
    if (docs.size() < 20) continue;  // too few translated sentences in this Debian
    std::vector<std::string> en, tr;
    for (const auto& [e, t] : docs) en.push_back(e), tr.push_back(t);
    double k_en = keep_rate(en, dir.file("en-" + locale));
    double k_tr = keep_rate(tr, dir.file(locale));
    std::printf("%-6s %-10s %4zu documents: kept %5.1f%%, English %5.1f%%\n", locale.c_str(), script.c_str(),
                docs.size(), 100 * k_tr, 100 * k_en);
    EXPECT_GE(k_tr, k_en - 0.15) << locale << " (" << script << ")";
    scripts.insert(script);
  }
  EXPECT_GE(scripts.size(), 8u);
}

// Documents of `per` sentences drawn round-robin from `sentences`, `n` of them.
std::string sample_jsonl(const std::vector<std::string>& sentences, int n, int per, const char* sep) {
  std::string out;
  size_t k = 0;
  for (int d = 0; d < n; ++d) {
    std::string t;
    for (int j = 0; j < per; ++j, ++k) t += (j ? sep : "") + sentences[(k * 7 + d) % sentences.size()];
    out += nlohmann::json{{"text", t}}.dump() + "\n";
  }
  return out;
}

std::vector<std::string> paragraphs_of(const std::string& text) {
  std::vector<std::string> out;
  size_t p = 0;
  while (p < text.size()) {
    size_t e = text.find('\n', p);
    if (e == std::string::npos) e = text.size();
    if (e > p) out.push_back(text.substr(p, e - p));
    p = e + 1;
  }
  return out;
}

TEST(Calibrate, EnglishGivesBackTheDefaultsAndChineseAndThaiTheirOwn) {
  TempDir dir;
  CalibrationFigures en;  // figures of Debian's English gettext text (scripts/derive-profiles.py)
  en.word_length_p2 = 4.41;
  en.word_length_p98 = 5.49;
  en.alpha_p2 = 0.957;
  en.line_punct_p50 = 0.75;
  en.chars_per_word = 6.22;
  en.stop_words = {{"the", 0.9}};
  Profile p = profile_from_figures(en);
  EXPECT_DOUBLE_EQ(p.gopher_quality.min_avg_word_length, 3.0);
  EXPECT_NEAR(p.gopher_quality.max_avg_word_length, 10, 0.2);
  EXPECT_EQ(p.fineweb.short_line_length, 30);
  EXPECT_DOUBLE_EQ(p.gopher_quality.min_alpha_words_ratio, 0.8);
  EXPECT_EQ(p.gopher_quality.min_stop_words, 2);
  EXPECT_GT(p.fineweb.min_line_punct_ratio, 0);

  // Chinese prose: short ICU words, short lines, stop words that are words of the text found in
  // every document.
  auto zh = paragraphs_of(nlm::testing::kChinese);
  write_text(dir.file("zh.jsonl"), sample_jsonl(zh, 40, 3, "\n"));
  CalibrateOptions o;
  o.lang = "zh";
  o.output = dir.file("zh.yaml");
  CalibrationResult r = calibrate_profile({dir.file("zh.jsonl")}, o);
  EXPECT_EQ(r.figures.docs, 40u);
  EXPECT_LT(r.profile.gopher_quality.min_avg_word_length, 2);
  EXPECT_LT(r.profile.gopher_quality.max_avg_word_length, 6);
  EXPECT_LT(r.profile.fineweb.short_line_length, 20);
  const auto& stops = r.profile.gopher_quality.stop_words;
  ASSERT_EQ(stops.size(), 12u);
  EXPECT_DOUBLE_EQ(r.figures.stop_words[0].second, 1.0);
  for (const auto& w : stops) EXPECT_NE(nlm::testing::kChinese.find(w), std::string::npos) << w;

  // The YAML it wrote is a curate config that gives the same profile.
  CurateOptions co;
  opt::Schema schema("curate");
  declare(schema, co);
  apply_config_text(schema, co, nlm::testing::read_text(o.output), opt::YamlSource{o.output, ""});
  const Profile& back = co.chain.profiles.at("zh");
  EXPECT_DOUBLE_EQ(back.gopher_quality.min_avg_word_length, r.profile.gopher_quality.min_avg_word_length);
  EXPECT_DOUBLE_EQ(back.gopher_quality.max_avg_word_length, r.profile.gopher_quality.max_avg_word_length);
  EXPECT_EQ(back.gopher_quality.stop_words, stops);
  EXPECT_EQ(back.fineweb.short_line_length, r.profile.fineweb.short_line_length);

  // Thai writes sentences without a closing mark: the punctuation rule goes.
  std::vector<std::string> th = {"ภาษาไทยเป็นภาษาราชการของประเทศไทย มีผู้พูดเป็นภาษาแม่หลายสิบล้านคน",
                                 "เด็กๆ ไปโรงเรียนทุกวันและเรียนหนังสือกับครูที่ใจดี",
                                 "ตลาดในเมืองเปิดตั้งแต่เช้าตรู่ มีผักผลไม้และอาหารหลายชนิด",
                                 "ห้องสมุดของหมู่บ้านมีหนังสือเก่าจำนวนมากที่ชาวบ้านบริจาคให้"};
  write_text(dir.file("th.jsonl"), sample_jsonl(th, 35, 4, "\n"));
  o.lang = "tha";  // ISO 639-3: the profile is keyed by the code the lid step writes
  o.output = dir.file("th.yaml");
  r = calibrate_profile({dir.file("th.jsonl")}, o);
  EXPECT_EQ(r.profile.fineweb.min_line_punct_ratio, 0);
  EXPECT_NE(r.yaml().find("\"th\":"), std::string::npos) << r.yaml();
  // A hand-written config keyed by an ISO 639-3 code reaches the same profile.
  std::string yaml = nlm::testing::read_text(o.output);
  yaml.replace(yaml.find("\"th\":"), 5, "tha:");
  CurateOptions tho;
  opt::Schema ths("curate");
  declare(ths, tho);
  apply_config_text(ths, tho, yaml, opt::YamlSource{"th.yaml", ""});
  EXPECT_EQ(tho.chain.profiles.at("th").fineweb.min_line_punct_ratio, 0);
  EXPECT_EQ(tho.chain.profiles.count("tha"), 0u);
}

TEST(Calibrate, TooSmallASampleIsAUsageError) {
  TempDir dir;
  write_text(dir.file("few.jsonl"), sample_jsonl(paragraphs_of(nlm::testing::kEnglish), 5, 2, " "));
  CalibrateOptions o;
  o.lang = "en";
  try {
    calibrate_profile({dir.file("few.jsonl")}, o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("at least 30 are needed"), std::string::npos) << e.what();
  }
  o.lang.clear();
  EXPECT_THROW(calibrate_profile({dir.file("few.jsonl")}, o), Error);
  // An empty file and invalid UTF-8 are documents too few, not a crash.
  write_text(dir.file("bad.jsonl"), "\n{\"text\": \"\xff\xfe caf\xc3\"}\n");
  o.lang = "eu";
  EXPECT_THROW(calibrate_profile({dir.file("bad.jsonl")}, o), Error);
}

TEST(LanguageProfiles, CoverTheSeedsAndSmallLanguagesAndScripts) {
  auto m = builtin_profiles();
  for (const char* lang : {"yue", "zh", "es", "ca", "eu", "gl", "ga", "cy", "jv", "sw", "is", "ja", "ko", "th", "ru",
                           "el", "ar", "he", "hi", "bn", "ta", "ka", "hy", "am"})
    EXPECT_TRUE(m.count(lang)) << lang;
  size_t languages = 0;
  for (const auto& [name, p] : m) languages += name != "default" && name.rfind("und-", 0) != 0;
  EXPECT_GE(languages, 40u);
  for (const char* script : {"und-Hani", "und-Jpan", "und-Hang", "und-Thai", "und-Laoo", "und-Khmr", "und-Mymr", "und-Tibt", "und-Ethi"})
    EXPECT_TRUE(m.count(script)) << script;
}

TEST(LanguageProfiles, ADocumentWithoutAProfileTakesItsScripts) {
  ProfileMap m = builtin_profiles();
  DocContext ctx(m);
  corpus::Document doc;
  auto profile_of = [&](const std::string& text, const std::string& lang) -> const Profile* {
    doc.clear();
    doc.text = text;
    ctx.reset(doc);
    if (!lang.empty()) ctx.set_lang(lang, 1);
    return &ctx.profile();
  };
  EXPECT_EQ(profile_of("今日は良い天気ですね。散歩に行きましょう。", ""), &m.at("und-Jpan"));
  EXPECT_EQ(profile_of("ພາສາລາວເປັນພາສາທາງການຂອງປະເທດລາວ", "lo"), &m.at("und-Laoo"));
  EXPECT_EQ(profile_of("한국어는 대한민국의 공용어이다.", "xx"), &m.at("und-Hang"));
  EXPECT_EQ(profile_of("Some English text here.", ""), &m.at("default"));
  EXPECT_EQ(profile_of("ትግርኛ በኤርትራና በኢትዮጵያ የሚነገር ቋንቋ ነው።", "ti"), &m.at("und-Ethi"));
  EXPECT_EQ(profile_of("Euskara Euskal Herriko hizkuntza da.", "eu"), &m.at("eu"));
  EXPECT_EQ(profile_of("12345 67890", ""), &m.at("default"));
  // Japanese by its kana, even when Han characters outnumber them.
  EXPECT_EQ(nlm::text::main_script_code("日本語の文章"), "Jpan");
  EXPECT_EQ(nlm::text::main_script_code("中文文章"), "Hani");
  EXPECT_EQ(nlm::text::main_script_code(""), "");
}

}  // namespace
