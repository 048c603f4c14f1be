// Language ID with CLD2: languages and scores on real prose, the language-list filter (a code
// also keeps its variants) and the min-score filter.
#include <gtest/gtest.h>

#include "core/error.h"

#include "curate/chain.h"
#include "curate/lid.h"
#include "fixtures.h"

namespace {
using namespace nlm::curate;

TEST(CurateLid, Cld2DetectsLanguages) {
  LanguageDetector d(LidOptions{});
  EXPECT_EQ(d.detect(nlm::testing::kEnglish).lang, "en");
  EXPECT_EQ(d.detect(nlm::testing::kGerman).lang, "de");
  EXPECT_EQ(d.detect(nlm::testing::kFrench).lang, "fr");
  auto zh = d.detect(nlm::testing::kChinese);
  EXPECT_EQ(zh.lang, "zh");
  EXPECT_GT(zh.score, 0.8);
  EXPECT_EQ(d.detect("").lang, "un");
}

TEST(CurateLid, FiltersByLanguageAndScore) {
  ChainConfig c;
  c.steps = {"lid"};
  c.lid.languages = {"en", "zh"};
  Chain chain(c);
  nlm::corpus::Document doc;
  doc.text = nlm::testing::kGerman;
  auto r = chain.run(doc);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "lid.language");
  EXPECT_EQ(doc.string_field("lang"), "de");
  doc.clear();
  doc.text = nlm::testing::kEnglish;
  EXPECT_EQ(chain.run(doc), std::nullopt);
  EXPECT_EQ(doc.string_field("lang"), "en");
  EXPECT_GT(*doc.number_field("lang_score"), 0.9);

  c.lid.languages = {};
  c.lid.min_score = 0.9;
  Chain strict(c);
  doc.clear();
  doc.text = "ok";
  r = strict.run(doc);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "lid.min_score");
}

TEST(CurateLid, BadBackendIsAUsageError) {
  LidOptions o;
  o.backend = "magic";
  EXPECT_THROW(LanguageDetector{o}, nlm::Error);
  o.backend = "fasttext";
  EXPECT_THROW(LanguageDetector{o}, nlm::Error);
  o.model = "/nonexistent/model.bin";
  EXPECT_THROW(LanguageDetector{o}, nlm::Error);
}

}  // namespace
