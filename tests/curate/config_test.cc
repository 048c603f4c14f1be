// The YAML config: steps with options, filter values applied to every profile, per-language
// profiles with a base, html and the plain options, and user errors (unknown keys, wrong types,
// out-of-range values, unknown steps) that name the key and its line.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/options.h"
#include "curate/config.h"

namespace {
using namespace nlm::curate;

// Applies `yaml` as a config file named `file` to `o` through its schema, and resolves.
void apply(const std::string& yaml, CurateOptions& o, const std::string& file = "test.yaml") {
  nlm::opt::Schema schema("curate");
  declare(schema, o);
  apply_config_text(schema, o, yaml, {file, ""});
  schema.resolve();
}

TEST(CurateConfig, StepsOptionsAndProfiles) {
  CurateOptions o;
  ChainConfig& c = o.chain;
  apply(R"(
steps:
  - normalize: {unicode_form: NFKC, opencc: s2hk}
  - lid: {languages: [zh, yue], min_score: 0.5}
  - gopher_quality: {min_words: 20}
  - fineweb
  - pii: {types: [EMAIL], custom: ["ID=X\\d+"]}
profiles:
  yue: {base: zh, gopher_quality: {min_stop_words: 3}}
  xx: {fineweb: {short_line_length: 5}}
html: {length_low: 50, max_link_density: 0.5}
extension: .jsonl.gz
level: 9
max_doc_bytes: 64K
)",
        o);
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
  EXPECT_EQ(c.html.length_low, 50);
  EXPECT_DOUBLE_EQ(c.html.max_link_density, 0.5);
  EXPECT_EQ(o.extension, ".jsonl.gz");
  EXPECT_EQ(o.level, 9);
  EXPECT_EQ(o.max_doc_bytes, 64u << 10);
  // The JSON form changes with the options (reruns depend on it), and holds each step's options.
  ChainConfig d;
  d.steps = c.steps;
  EXPECT_NE(c.to_json(), d.to_json());
  std::string j = c.to_json();
  EXPECT_NE(j.find("\"lid\":{\"backend\":\"cld2\",\"model\":\"\",\"languages\":[\"zh\",\"yue\"],\"min_score\":0.5"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find("\"html\":{\"length_low\":50,"), std::string::npos) << j;
  EXPECT_EQ(j.find("\"c4\""), std::string::npos) << j;  // only the steps in the chain
}

TEST(CurateConfig, FlagsShortcutsSetTheChain) {
  CurateOptions o;
  nlm::opt::Schema schema("curate");
  declare(schema, o);
  schema.find("steps")->assign("normalize,lid,pii");
  schema.find("lang")->assign("ga,eu");
  schema.find("lid_model")->assign("lid.bin");
  schema.find("opencc")->assign("s2hk");
  schema.resolve();
  EXPECT_EQ(o.chain.steps, (std::vector<std::string>{"normalize", "lid", "pii"}));
  EXPECT_EQ(o.chain.lid.languages, (std::vector<std::string>{"ga", "eu"}));
  EXPECT_EQ(o.chain.lid.backend, "fasttext");
  EXPECT_EQ(o.chain.lid.model, "lid.bin");
  EXPECT_EQ(o.chain.normalize.opencc, "s2hk");
  schema.find("steps")->assign("normalize,nope");
  try {
    schema.resolve();
    ADD_FAILURE() << "accepted an unknown step";
  } catch (const nlm::opt::OptionError& e) {
    EXPECT_EQ(e.key(), "steps");
    EXPECT_NE(e.problem().find("unknown curate step 'nope'"), std::string::npos) << e.what();
  }
}

TEST(CurateConfig, UserErrors) {
  auto bad = [](const std::string& yaml) {
    CurateOptions o;
    try {
      apply(yaml, o, "bad.yaml");
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
  // Errors name the key as the file spells it, and its line.
  EXPECT_NE(bad("steps:\n  - normalize\n  - lid: {min_score: 2}")
                .find("steps.lid.min_score must be between 0 and 1, got 2 (bad.yaml:3)"),
            std::string::npos);
  EXPECT_NE(bad("steps:\n  - normalize: {unicode_form: NFD}").find("steps.normalize.unicode_form must be one of "
                                                                     "NFC|NFKC|none, got 'NFD' (bad.yaml:2)"),
            std::string::npos);
  EXPECT_NE(bad("steps: [lid]\n\n\nprofiles:\n  yue:\n    gopher_quality: {min_wordz: 3}")
                .find("unknown key 'profiles.yue.gopher_quality.min_wordz' (bad.yaml:6)"),
            std::string::npos);
  EXPECT_NE(bad("html:\n  length_low: -1").find("html.length_low must be at least 0, got -1 (bad.yaml:2)"),
            std::string::npos);
  EXPECT_NE(bad("steps:\n  - lid: {backend: fasttext}").find("steps.lid.model is required with backend fasttext"),
            std::string::npos);
  EXPECT_NE(bad("steps:\n  - pii: {types: [EMAIL, SSN]}").find("steps.pii.types has unknown type 'SSN'"),
            std::string::npos);
  EXPECT_NE(bad("steps:\n  - normalize\n  - bogus").find("unknown curate step 'bogus' in steps (bad.yaml:3)"),
            std::string::npos);
  EXPECT_NE(bad("max_doc_bytes: lots").find("max_doc_bytes must be a size, got 'lots' (bad.yaml:1)"),
            std::string::npos);
  EXPECT_NE(bad("level: 99").find("level must be between -1 and 22, got 99"), std::string::npos);
  // `rejects` and `output` are folders: command-line flags, not config keys.
  EXPECT_NE(bad("rejects: r").find("unknown key 'rejects'"), std::string::npos);
  EXPECT_NE(bad("html: 3").find("'html' must be a mapping"), std::string::npos);
  EXPECT_NE(bad("steps: {lid: {}}").find("steps must be a list"), std::string::npos);
}

}  // namespace
