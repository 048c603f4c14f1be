// Normalisers: mojibake repair (and leaving real Latin-1 text alone), control/zero-width and
// whitespace clean-up, NFC/NFKC, OpenCC.
#include <gtest/gtest.h>

#include "core/error.h"

#include "curate/chain.h"
#include "curate/normalize.h"

namespace {
using namespace nlm::curate;

std::string normalize(const std::string& text, NormalizeOptions o = {}) {
  ChainConfig c;
  c.steps = {"normalize"};
  c.normalize = o;
  Chain chain(c);
  nlm::corpus::Document doc;
  doc.text = text;
  EXPECT_EQ(chain.run(doc), std::nullopt);
  return doc.text;
}

TEST(CurateNormalize, RepairsMojibake) {
  std::string s = "cafÃ© donâ€™t naÃ¯ve â€œquotedâ€\u009d ZÃ¼rich";
  EXPECT_TRUE(fix_mojibake(s));
  EXPECT_EQ(s, "café don’t naïve “quoted” Zürich");
  // Double-encoded.
  std::string d = "cafÃƒÂ©";
  EXPECT_TRUE(fix_mojibake(d));
  EXPECT_EQ(d, "café");
}

TEST(CurateNormalize, LeavesRealTextAlone) {
  for (std::string s : {"Müller aß Käse für 5 €.", "naïve façade", "Ångström ©2024 ±3°",
                        "中文文本，没有问题。", "Привет, мир", "plain ascii"}) {
    std::string copy = s;
    EXPECT_FALSE(fix_mojibake(copy)) << s;
    EXPECT_EQ(copy, s);
  }
}

TEST(CurateNormalize, CleansCharactersAndWhitespace) {
  std::string s = "  Hello\u00a0\u00a0world\u200b!\r\nNext\x01 line   \n\n\n\nLast\u3000part\u2028end  ";
  EXPECT_TRUE(clean_characters(s, true, true, true));
  EXPECT_EQ(s, "Hello world!\nNext line\n\nLast part\nend");
  std::string zwj = "\u0645\u200c\u06cc 👩\u200d💻";  // ZWNJ and ZWJ are kept
  EXPECT_FALSE(clean_characters(zwj, true, true, true));
}

TEST(CurateNormalize, UnicodeForms) {
  std::string decomposed = "Cafe\u0301";
  EXPECT_EQ(normalize(decomposed), "Café");
  NormalizeOptions o;
  o.unicode_form = "NFKC";
  EXPECT_EQ(normalize("ＡＢＣ１２３ ﬁne", o), "ABC123 fine");
  EXPECT_EQ(normalize("ＡＢＣ"), "ＡＢＣ");  // NFC keeps full-width forms
  o.unicode_form = "NFX";
  EXPECT_THROW(Normalize{o}, nlm::Error);
}

TEST(CurateNormalize, OpenCC) {
  NormalizeOptions o;
  o.opencc = "t2s";
  EXPECT_EQ(normalize("漢語和繁體字", o), "汉语和繁体字");
  o.opencc = "s2hk";
  EXPECT_EQ(normalize("汉语", o), "漢語");
  o.opencc = "no-such-config";
  EXPECT_THROW(Normalize{o}, nlm::Error);
}

}  // namespace
