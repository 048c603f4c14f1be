// The code table behind --lang and lid eval: ISO 639-1, 639-3, 639-2/B, legacy and BCP 47 codes
// mapped onto the labels CLD2 (or a model) emits, and the usage error for a code none can emit.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "core/options.h"
#include "curate/chain.h"
#include "curate/lang_codes.h"
#include "curate/lid.h"
#include "lid_samples.h"

namespace {
using namespace nlm::curate;
using Labels = std::vector<std::string>;

TEST(LangCodes, ParsesIsoAndBcp47Spellings) {
  for (const char* code : {"eu", "eus", "baq", "EU", "Eus", "eu-ES", "eu_es", "eus_Latn"})
    EXPECT_EQ(parse_lang_code(code)->language, "eu") << code;
  EXPECT_EQ(canonical_lang_code("eus"), "eu");
  EXPECT_EQ(canonical_lang_code("gle"), "ga");
  EXPECT_EQ(canonical_lang_code("cym"), "cy");
  EXPECT_EQ(canonical_lang_code("wel"), "cy");
  EXPECT_EQ(canonical_lang_code("jav"), "jv");
  EXPECT_EQ(canonical_lang_code("swa"), "sw");
  EXPECT_EQ(canonical_lang_code("isl"), "is");
  EXPECT_EQ(canonical_lang_code("ice"), "is");
  EXPECT_EQ(canonical_lang_code("zh_tw"), "zh-TW");
  EXPECT_EQ(canonical_lang_code("ZH-hant-hk"), "zh-Hant-HK");
  EXPECT_EQ(canonical_lang_code("es-419"), "es-419");
  EXPECT_EQ(canonical_lang_code("yue"), "yue");
  EXPECT_EQ(canonical_lang_code("YUE-Hant"), "yue-Hant");
  // Legacy 639-1 codes some tools (CLD2 among them) still write.
  EXPECT_EQ(canonical_lang_code("iw"), "he");
  EXPECT_EQ(canonical_lang_code("in"), "id");
  EXPECT_EQ(canonical_lang_code("ji"), "yi");
  EXPECT_EQ(canonical_lang_code("jw"), "jv");
  EXPECT_EQ(language_name("baq"), "Basque");
  EXPECT_EQ(language_name("yue-HK"), "Cantonese (HK)");
  EXPECT_EQ(language_name("zh_Hant_TW"), "Chinese (Hant-TW)");
  EXPECT_EQ(code_for_language_name("BASQUE"), "eu");
  for (const char* bad : {"basque", "", "e", "xx", "eu-", "eu-Latn-ES-x-private", "zh-toolongsubtag"})
    EXPECT_FALSE(parse_lang_code(bad)) << bad;
}

TEST(LangCodes, EveryIso6391CodeHasA6393Code) {
  // A sample across the table: each 639-1 code and its 639-3 code name the same language.
  for (auto [a1, a3] : std::vector<std::pair<const char*, const char*>>{
           {"af", "afr"}, {"bo", "bod"}, {"cs", "ces"}, {"de", "deu"}, {"el", "ell"}, {"fa", "fas"},
           {"hy", "hye"}, {"ka", "kat"}, {"mi", "mri"}, {"mk", "mkd"}, {"ms", "msa"}, {"my", "mya"},
           {"nl", "nld"}, {"ro", "ron"}, {"sk", "slk"}, {"sq", "sqi"}, {"zh", "zho"}, {"zu", "zul"},
           {"rw", "kin"}, {"kw", "cor"}, {"tw", "twi"}, {"he", "heb"}, {"yi", "yid"}})
    EXPECT_EQ(canonical_lang_code(a3), a1) << a3;
}

TEST(LangCodes, MatchesLabelsWithVariantsScriptsAndRegions) {
  const Labels cld2 = {"ca", "en", "es", "eu", "ga", "he", "jv", "no", "sr", "zh", "zh-Hant"};
  EXPECT_EQ(match_lang_labels("eus", cld2), Labels{"eu"});
  EXPECT_EQ(match_lang_labels("eu-ES", cld2), Labels{"eu"});
  EXPECT_EQ(match_lang_labels("gle", cld2), Labels{"ga"});
  EXPECT_EQ(match_lang_labels("iw", cld2), Labels{"he"});
  EXPECT_EQ(match_lang_labels("heb", cld2), Labels{"he"});
  EXPECT_EQ(match_lang_labels("jw", cld2), Labels{"jv"});
  EXPECT_EQ(match_lang_labels("zh", cld2), (Labels{"zh", "zh-Hant"}));
  EXPECT_EQ(match_lang_labels("zho", cld2), (Labels{"zh", "zh-Hant"}));
  EXPECT_EQ(match_lang_labels("zh-Hant", cld2), Labels{"zh-Hant"});
  EXPECT_EQ(match_lang_labels("zh-TW", cld2), Labels{"zh-Hant"});
  EXPECT_EQ(match_lang_labels("zh-HK", cld2), Labels{"zh-Hant"});
  EXPECT_EQ(match_lang_labels("zh-Hans", cld2), Labels{"zh"});
  EXPECT_EQ(match_lang_labels("zh-CN", cld2), Labels{"zh"});
  EXPECT_EQ(match_lang_labels("cmn", cld2), (Labels{"zh", "zh-Hant"}));  // Mandarin: macrolanguage zh
  EXPECT_EQ(match_lang_labels("nb", cld2), Labels{"no"});
  EXPECT_EQ(match_lang_labels("sr-Latn", cld2), Labels{"sr"});
  EXPECT_TRUE(match_lang_labels("yue", cld2).empty());  // Cantonese is not Mandarin
  EXPECT_TRUE(match_lang_labels("pt", cld2).empty());
  EXPECT_TRUE(match_lang_labels("basque", cld2).empty());

  // A fastText model's labels, whatever their spelling.
  const Labels model = {"eus", "spa", "yue", "zh_TW", "pt-BR", "pt-PT", "my-label"};
  EXPECT_EQ(match_lang_labels("eu", model), Labels{"eus"});
  EXPECT_EQ(match_lang_labels("yue", model), Labels{"yue"});
  EXPECT_EQ(match_lang_labels("zh-Hant", model), Labels{"zh_TW"});
  EXPECT_EQ(match_lang_labels("pt", model), (Labels{"pt-BR", "pt-PT"}));
  EXPECT_EQ(match_lang_labels("pt-BR", model), Labels{"pt-BR"});
  EXPECT_EQ(match_lang_labels("MY_LABEL", model), Labels{"my-label"});
}

TEST(LangCodes, Cld2LabelsAreReadFromItsTables) {
  const auto& labels = cld2_labels();
  ASSERT_GT(labels.size(), 60u);
  for (const char* code : {"eu", "ga", "cy", "es", "ca", "zh", "zh-Hant", "ja", "ru", "ar", "th", "el", "he", "jv",
                           "sw", "is"})
    EXPECT_NE(std::find(labels.begin(), labels.end(), code), labels.end()) << code;
  for (const char* code : {"iw", "jw", "un", "yue"})
    EXPECT_EQ(std::find(labels.begin(), labels.end(), code), labels.end()) << code;
  // Everything CLD2 says about the samples is a label it lists.
  LanguageDetector d(LidOptions{});
  for (const auto& s : nlm::testing::lid_samples()) {
    std::string lang = d.detect(std::string(s.sentences[0]) + " " + s.sentences[1]).lang;
    EXPECT_EQ(lang, s.lang);
    EXPECT_NE(std::find(labels.begin(), labels.end(), lang), labels.end()) << lang;
  }
}

TEST(LangCodes, LidStepKeepsDocumentsByAnyCodeOfTheirLanguage) {
  ChainConfig c;
  c.steps = {"lid"};
  c.lid.languages = {"eus", "gle"};
  Chain chain(c);
  for (const auto& s : nlm::testing::lid_samples()) {
    nlm::corpus::Document doc;
    doc.text = std::string(s.sentences[0]) + " " + s.sentences[2];
    bool kept = !chain.run(doc);
    EXPECT_EQ(kept, std::string(s.lang) == "eu" || std::string(s.lang) == "ga") << s.lang;
  }
}

TEST(LangCodes, ACodeNoLidCanEmitIsAUsageErrorListingWhatItCan) {
  ChainConfig c;
  c.steps = {"lid"};
  for (auto [code, wanted] : std::vector<std::pair<std::string, std::string>>{
           {"yue", "lang has 'yue' (Cantonese), which CLD2 cannot identify"},
           {"basque", "did you mean eu?"},
           {"xx-nope", "use an ISO 639-1, ISO 639-3 or BCP 47 code"}}) {
    c.lid.languages = {"eu", code};
    try {
      Chain chain(c);
      ADD_FAILURE() << code << " was accepted";
    } catch (const nlm::opt::OptionError& e) {
      EXPECT_EQ(e.kind(), nlm::ErrorKind::Usage);
      std::string what = e.what();
      EXPECT_NE(what.find(wanted), std::string::npos) << what;
      // The list starts with the first labels in order (CLD2 builds differ: Debian's libcld2
      // knows 96 codes, the full tables 163).
      auto labels = std::vector<std::string>(cld2_labels().begin(), cld2_labels().end());
      std::sort(labels.begin(), labels.end());
      ASSERT_GE(labels.size(), 3u);
      EXPECT_NE(what.find("it knows " + std::to_string(labels.size()) + " codes: " + labels[0] + " " + labels[1] + " " +
                          labels[2] + " "),
                std::string::npos)
          << what;
      EXPECT_NE(what.find(" more (nativelm lid labels)"), std::string::npos) << what;
      EXPECT_NE(what.find("nativelm lid train"), std::string::npos) << what;
      EXPECT_LE(what.size(), 280u) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

}  // namespace
