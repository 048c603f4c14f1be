// The YAML config: steps with options, filter values applied to every profile, per-language
// profiles with a base, and user errors for unknown keys, wrong types and unknown steps.
#include <gtest/gtest.h>

#include "core/error.h"

#include "curate/config.h"

namespace {
using namespace nlm::curate;

TEST(CurateConfig, StepsOptionsAndProfiles) {
  ChainConfig c;
  apply_config_yaml(R"(
steps:
  - normalize: {unicode_form: NFKC, opencc: s2hk}
  - lid: {languages: [zh, yue], min_score: 0.5}
  - gopher_quality: {min_words: 20}
  - fineweb
  - pii: {types: [EMAIL], custom: ["ID=X\\d+"]}
profiles:
  yue: {base: zh, gopher_quality: {min_stop_words: 3}}
  xx: {fineweb: {short_line_length: 5}}
)",
                    c, "test.yaml");
  EXPECT_EQ(c.steps, (std::vector<std::string>{"normalize", "lid", "gopher_quality", "fineweb", "pii"}));
  EXPECT_EQ(c.normalize.unicode_form, "NFKC");
  EXPECT_EQ(c.normalize.opencc, "s2hk");
  EXPECT_EQ(c.lid.languages, (std::vector<std::string>{"zh", "yue"}));
  EXPECT_DOUBLE_EQ(c.lid.min_score, 0.5);
  EXPECT_EQ(c.pii.types, std::vector<std::string>{"EMAIL"});
  EXPECT_EQ(c.pii.custom, std::vector<std::string>{"ID=X\\d+"});
  EXPECT_EQ(c.profiles.at("default").gopher_quality.min_words, 20);
  EXPECT_EQ(c.profiles.at("zh").gopher_quality.min_words, 20);
  EXPECT_EQ(c.profiles.at("yue").gopher_quality.min_stop_words, 3);
  EXPECT_EQ(c.profiles.at("yue").gopher_quality.stop_words, c.profiles.at("zh").gopher_quality.stop_words);
  EXPECT_EQ(c.profiles.at("xx").fineweb.short_line_length, 5);
  EXPECT_EQ(c.profiles.at("xx").gopher_quality.min_words, 20);
  // The JSON form changes with the options (reruns depend on it).
  ChainConfig d;
  d.steps = c.steps;
  EXPECT_NE(c.to_json(), d.to_json());
}

TEST(CurateConfig, UserErrors) {
  auto bad = [](const std::string& yaml) {
    ChainConfig c;
    try {
      apply_config_yaml(yaml, c, "bad.yaml");
    } catch (const nlm::Error& e) {
      EXPECT_EQ(e.kind(), nlm::ErrorKind::Usage) << yaml;
      EXPECT_NE(std::string(e.what()).find("bad.yaml"), std::string::npos) << e.what();
      return std::string(e.what());
    }
    ADD_FAILURE() << "accepted: " << yaml;
    return std::string();
  };
  EXPECT_NE(bad("steps: [normalize, nope]").find("unknown curate step"), std::string::npos);
  EXPECT_NE(bad("steps: [lid, lid]").find("twice"), std::string::npos);
  EXPECT_NE(bad("steps:\n  - gopher_quality: {min_wordz: 3}").find("min_wordz"), std::string::npos);
  EXPECT_NE(bad("steps:\n  - gopher_quality: {min_words: many}").find("integer"), std::string::npos);
  EXPECT_NE(bad("stepz: []").find("stepz"), std::string::npos);
  EXPECT_NE(bad("profiles: {yue: {base: nope}}").find("nope"), std::string::npos);
  EXPECT_NE(bad("profiles: {yue: {pii: {}}}").find("not a filter step"), std::string::npos);
  EXPECT_NE(bad("steps: [a, {b").find("invalid"), std::string::npos);
}

}  // namespace
