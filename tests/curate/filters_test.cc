// Gopher quality/repetition, FineWeb and C4 on real prose (kept) and planted junk (removed with
// the expected rule), including the CJK profile.
#include <gtest/gtest.h>

#include "curate/chain.h"
#include "fixtures.h"

namespace {
using namespace nlm::curate;
using nlm::corpus::Document;

std::optional<Rejection> run(const std::vector<std::string>& steps, const std::string& text,
                             const std::string& lang = "", ChainConfig config = {}) {
  config.steps = steps;
  Chain chain(config);
  Document doc;
  doc.text = text;
  if (!lang.empty()) doc.set_string_field("lang", lang);
  return chain.run(doc);
}

const std::vector<std::string> kFilters = {"gopher_quality", "gopher_repetition", "fineweb"};

TEST(CurateFilters, RealProseIsKept) {
  using namespace nlm::testing;
  EXPECT_EQ(run(kFilters, kEnglish, "en"), std::nullopt);
  EXPECT_EQ(run({"gopher_repetition", "fineweb"}, kGerman, "de"), std::nullopt);
  EXPECT_EQ(run({"gopher_repetition", "fineweb"}, kFrench, "fr"), std::nullopt);
  EXPECT_EQ(run(kFilters, kChinese, "zh"), std::nullopt);
}

TEST(CurateFilters, GopherQualityRules) {
  auto r = run({"gopher_quality"}, "Too short to be a document.");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "gopher_quality.min_words");
  EXPECT_EQ(r->value, 6);

  std::string numbers;
  for (int i = 0; i < 80; ++i) numbers += std::to_string(1000 + i * 7) + " the ";
  r = run({"gopher_quality"}, numbers);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "gopher_quality.min_alpha_words_ratio");

  std::string hashtags = nlm::testing::kEnglish;
  for (int i = 0; i < 20; ++i) hashtags += " #tag" + std::to_string(i);
  r = run({"gopher_quality"}, hashtags);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "gopher_quality.max_symbol_word_ratio");

  std::string no_stop;
  for (int i = 0; i < 60; ++i) no_stop += "Lovely cheap watches available now. ";
  r = run({"gopher_quality"}, no_stop, "en");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "gopher_quality.min_stop_words");
  // The generic profile has no stop-word list, so the rule does not apply.
  EXPECT_EQ(run({"gopher_quality"}, no_stop), std::nullopt);

  // The Chinese text fails the English word-length window but passes with its own profile, and
  // with no language at all through its script's (und-Hani).
  r = run({"gopher_quality"}, nlm::testing::kChinese, "en");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "gopher_quality.min_avg_word_length");
  EXPECT_EQ(run({"gopher_quality"}, nlm::testing::kChinese, "zh-Hant"), std::nullopt);
  EXPECT_EQ(run({"gopher_quality"}, nlm::testing::kChinese, ""), std::nullopt);
}

TEST(CurateFilters, GopherRepetitionRules) {
  std::string lines;
  for (int i = 0; i < 10; ++i) lines += "Subscribe to our newsletter for the best deals.\n";
  auto r = run({"gopher_repetition"}, nlm::testing::kEnglish + "\n" + lines);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "gopher_repetition.max_dup_line_frac");

  // Repeated 5..10-grams inside one long line: no duplicate lines, but the n-gram rules fire.
  std::string grams = nlm::testing::kEnglish;
  for (int i = 0; i < 6; ++i) grams += " and the river flows quietly past the old mill every evening";
  r = run({"gopher_repetition"}, grams);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason.rfind("gopher_repetition.max_", 0), 0u) << r->reason;
  EXPECT_NE(r->reason.find("gram_char_frac"), std::string::npos) << r->reason;
}

TEST(CurateFilters, FineWebRules) {
  std::string menu;
  for (int i = 0; i < 30; ++i) menu += "Item " + std::to_string(i) + " of the menu\n";
  auto r = run({"fineweb"}, menu);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "fineweb.min_line_punct_ratio");

  std::string short_lines;
  for (int i = 0; i < 30; ++i) short_lines += "Line " + std::to_string(i) + ".\n";
  r = run({"fineweb"}, short_lines);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "fineweb.max_short_line_ratio");

  std::string dup = nlm::testing::kEnglish + "\nThe village library opened its doors in the spring of that year, after the old school building had been repaired by volunteers from the valley.";
  r = run({"fineweb"}, dup);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "fineweb.max_char_dup_ratio");
}

TEST(CurateFilters, C4EditsAndRejects) {
  ChainConfig c;
  c.steps = {"c4"};
  Chain chain(c);
  Document doc;
  doc.text = "Home | About | Contact\n" + nlm::testing::kEnglish +
             "\nThis site uses cookies to improve your experience.\nPlease enable JavaScript to view "
             "the comments.\nThe library was founded in 1921.[1]";
  ASSERT_EQ(chain.run(doc), std::nullopt);
  EXPECT_EQ(doc.text.find("Home |"), std::string::npos);
  EXPECT_EQ(doc.text.find("cookies"), std::string::npos);
  EXPECT_EQ(doc.text.find("JavaScript"), std::string::npos);
  EXPECT_NE(doc.text.find("The library was founded in 1921."), std::string::npos);
  EXPECT_EQ(doc.text.find("[1]"), std::string::npos);

  auto r = run({"c4"}, nlm::testing::kEnglish + "\nLorem ipsum dolor sit amet, consectetur.");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "c4.lorem_ipsum");
  r = run({"c4"}, nlm::testing::kEnglish + "\nIn C we write int f() { return 1; } to define a function.");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "c4.curly_bracket");
  r = run({"c4"}, "One sentence only here.\nAnd a second one here.");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "c4.min_sentences");
  EXPECT_EQ(r->value, 2);
}

TEST(CurateFilters, EmptyAndHugeInputsDoNotCrash) {
  for (const auto& s : std::vector<std::string>{"", "\n\n\n", std::string(100000, 'x'),
                                                std::string(5000, '\n'), "\xE4\xB8\xAD"}) {
    auto r = run({"c4", "gopher_quality", "gopher_repetition", "fineweb"}, s);
    EXPECT_TRUE(r) << s.size();
  }
}

}  // namespace

namespace {
TEST(CurateFilters, NemoRules) {
  using nlm::testing::kEnglish;
  EXPECT_EQ(run({"nemo"}, kEnglish), std::nullopt);
  EXPECT_EQ(run({"nemo"}, nlm::testing::kChinese), std::nullopt);
  auto reason = [](const std::string& text) {
    auto r = run({"nemo"}, text);
    return r ? r->reason : std::string("kept");
  };
  EXPECT_EQ(reason(kEnglish + " ##### ----- ***** ===== !!!!! ///// ||||| ~~~~~ ^^^^^ %%%%% &&&&& $$$$$ @@@@@ "
                              "+++++ ----- ##### ***** ===== !!!!! ///// ||||| ~~~~~ ^^^^^ %%%%% &&&&& $$$$$"
                              " ##### ----- ***** ===== !!!!! ///// ||||| ~~~~~ ^^^^^ %%%%% &&&&& $$$$$ @@@@@"
                              " ##### ----- ***** ===== !!!!! ///// ||||| ~~~~~ ^^^^^ %%%%% &&&&& $$$$$ @@@@@"),
            "nemo.max_non_alnum_ratio");
  std::string nums = "Prices:";
  for (int i = 0; i < 40; ++i) nums += " " + std::to_string(100000 + i * 37);
  EXPECT_EQ(reason(nums), "nemo.max_number_ratio");
  std::string urls = "Links here:";
  for (int i = 0; i < 10; ++i) urls += " https://example.com/page/" + std::to_string(i) + "/index.html";
  EXPECT_EQ(reason(urls), "nemo.max_url_ratio");
  EXPECT_EQ(reason("Words   with    far     too      much       space        between         them."),
            "nemo.max_whitespace_ratio");
  EXPECT_EQ(reason("The values (a) and (b) are in the table (see [1]) and (c)."), "nemo.max_parentheses_ratio");
  EXPECT_EQ(reason("We use cookies to improve your experience.\n\nShort body text here.\n\nPrivacy policy and terms of use."),
            "nemo.max_boilerplate_ratio");
  EXPECT_EQ(reason("Word " + std::string(1200, 'a') + " end."), "nemo.max_word_length");
}
}  // namespace
