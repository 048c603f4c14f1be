// lid predict and lid eval over a small labelled multilingual corpus: labels written as 639-3 or
// BCP 47 codes score against CLD2's codes; unlabelled documents, labels CLD2 cannot emit, empty
// files and invalid UTF-8 are counted, not fatal.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "curate/chain.h"
#include "curate/lid.h"
#include "curate/lid_eval.h"
#include "curate/lid_train.h"
#include "lid_samples.h"
#include "test_util.h"

namespace {
using namespace nlm::curate;
using nlm::testing::TempDir;
using nlm::testing::write_text;

// The data's labels in other spellings of the same languages.
std::string relabel(const std::string& cld2) {
  static const std::map<std::string, std::string> other = {
      {"eu", "eus"}, {"ga", "gle"}, {"es", "es-ES"}, {"ca", "cat"}, {"zh", "zh-Hans"},
      {"ja", "jpn"}, {"ru", "ru"},  {"ar", "ara"},   {"th", "tha"}};
  return other.at(cld2);
}

std::string same_code(const std::string& code) { return code; }

TEST(LidEval, ScoresCld2AgainstLabelsInAnyCode) {
  TempDir dir;
  write_text(dir.file("l.jsonl"), nlm::testing::lid_samples_jsonl(relabel));
  LidEvalOptions o;
  o.json = dir.file("eval.json");
  auto r = lid_eval({dir.file("l.jsonl")}, o);
  EXPECT_EQ(r.lid, "CLD2");
  EXPECT_EQ(r.docs, 27u);
  EXPECT_EQ(r.scored, 27u);
  EXPECT_EQ(r.correct, 27u) << r.to_table();
  EXPECT_DOUBLE_EQ(r.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(r.macro_f1, 1.0);
  ASSERT_EQ(r.languages.size(), 9u);
  for (const auto& l : r.languages) {
    EXPECT_EQ(l.support, 3u) << l.lang;
    EXPECT_EQ(l.lang.size(), 2u) << l.lang;  // eus → eu, es-ES → es, zh-Hans → zh: CLD2's classes
  }
  auto table = r.to_table();
  EXPECT_NE(table.find("accuracy 1.0000 (27/27)"), std::string::npos) << table;
  EXPECT_NE(table.find("Basque"), std::string::npos) << table;
  auto j = nlohmann::json::parse(nlm::testing::read_text(o.json));
  EXPECT_EQ(j["languages"]["eu"]["support"], 3);
  EXPECT_EQ(j["languages"]["eu"]["f1"], 1.0);
  EXPECT_EQ(j["accuracy"], 1.0);
}

TEST(LidEval, ConfusionsUnsupportedAndUnlabelledAreCounted) {
  TempDir dir;
  const auto& s = nlm::testing::lid_samples();
  auto text = [&](size_t lang) { return std::string(s[lang].sentences[0]) + " " + s[lang].sentences[1]; };
  nlohmann::json docs[] = {
      {{"text", text(0)}, {"lang", "eu"}},
      {{"text", text(2)}, {"lang", "eu"}},  // Spanish labelled Basque: a confusion eu -> es
      {{"text", text(2)}, {"lang", "spa"}},
      {{"text", "佢哋話今日會落雨，所以我哋唔去行山喇。你食咗飯未呀？我哋一齊去飲茶啦。"}, {"lang", "yue"}},
      {{"text", text(1)}, {"lang", "klingonese"}},
      {{"text", text(1)}},  // no label
  };
  std::string jsonl;
  for (const auto& d : docs) jsonl += d.dump() + "\n";
  write_text(dir.file("l.jsonl"), jsonl);
  auto r = lid_eval({dir.file("l.jsonl")}, {});
  EXPECT_EQ(r.docs, 6u);
  EXPECT_EQ(r.unlabelled, 1u);
  EXPECT_EQ(r.scored, 3u);
  EXPECT_EQ(r.correct, 2u);
  ASSERT_EQ(r.confusions.size(), 1u);
  EXPECT_EQ(r.confusions[0].gold, "eu");
  EXPECT_EQ(r.confusions[0].predicted, "es");
  ASSERT_EQ(r.unsupported.count("yue"), 1u);
  EXPECT_EQ(r.unsupported.at("yue").begin()->first.substr(0, 2), "zh");  // CLD2 calls Cantonese Chinese
  EXPECT_EQ(r.unsupported.count("klingonese"), 1u);
  for (const auto& l : r.languages) {
    if (l.lang == "es") {
      EXPECT_EQ(l.support, 1u);
      EXPECT_EQ(l.predicted, 2u);
      EXPECT_DOUBLE_EQ(l.precision, 0.5);
      EXPECT_DOUBLE_EQ(l.recall, 1.0);
    }
    if (l.lang == "eu") {
      EXPECT_DOUBLE_EQ(l.recall, 0.5);
    }
  }
  auto table = r.to_table();
  EXPECT_NE(table.find("eu (Basque) -> es (Spanish): 1"), std::string::npos) << table;
  EXPECT_NE(table.find("yue (Cantonese):"), std::string::npos) << table;
}

TEST(LidEval, NoLabelledDocumentIsAUsageError) {
  TempDir dir;
  write_text(dir.file("empty.jsonl"), "");
  EXPECT_THROW(lid_eval({dir.file("empty.jsonl")}, {}), nlm::Error);
}

// A fastText model whose labels are 639-3 codes: --lang and eval data in 639-1 codes map onto
// them, and a code the model lacks is refused with the model's labels listed.
TEST(LidEval, MapsCodesOntoAFastTextModelsLabels) {
  TempDir dir;
  std::string train;
  for (int rep = 0; rep < 3; ++rep) train += nlm::testing::lid_samples_jsonl(relabel);
  write_text(dir.file("train.jsonl"), train);
  LidTrainOptions t;
  t.output = dir.file("m.bin");
  t.epoch = 100;  // the default 25 underfits this little data in long documents
  train_lid({dir.file("train.jsonl")}, t);

  LidLabelsOptions lo;
  lo.model = t.output;
  EXPECT_NE(lid_labels_text(lo).find("eus\tBasque\n"), std::string::npos) << lid_labels_text(lo);

  write_text(dir.file("gold.jsonl"), nlm::testing::lid_samples_jsonl(same_code));
  LidEvalOptions o;
  o.model = t.output;
  auto r = lid_eval({dir.file("gold.jsonl")}, o);
  EXPECT_EQ(r.scored, 27u);
  EXPECT_EQ(r.correct, 27u) << r.to_table();
  // Named as the model names them, in BCP 47 spelling: eus is reported as eu.
  std::set<std::string> classes;
  for (const auto& l : r.languages) classes.insert(l.lang);
  EXPECT_EQ(classes, (std::set<std::string>{"ar", "ca", "es-ES", "eu", "ga", "ja", "ru", "th", "zh-Hans"}));

  ChainConfig c;
  c.steps = {"lid"};
  c.lid.backend = "fasttext";
  c.lid.model = t.output;
  c.lid.languages = {"eu", "ga"};
  Chain chain(c);
  nlm::corpus::Document doc;
  doc.text = std::string(nlm::testing::lid_samples()[0].sentences[0]) + " " + nlm::testing::lid_samples()[0].sentences[1];
  EXPECT_FALSE(chain.run(doc));
  EXPECT_EQ(doc.string_field("lang"), "eus");
  c.lid.languages = {"cy"};
  try {
    Chain refused(c);
    ADD_FAILURE() << "cy was accepted";
  } catch (const nlm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("knows 9 codes: ara cat es-ES eus gle jpn ru tha zh-Hans;"), std::string::npos)
        << e.what();
  }
}

TEST(LidPredict, WritesEveryDocumentWithItsGuesses) {
  TempDir dir;
  std::string jsonl = nlm::testing::lid_samples_jsonl([](const std::string&) { return std::string(); });
  // One line with a byte that is not UTF-8: read (repaired) and counted.
  jsonl += "{\"text\":\"Kaixo mundua \xff eta agur\",\"meta\":{\"k\":1}}\n";
  write_text(dir.file("in.jsonl"), jsonl);
  LidPredictOptions o;
  o.output = dir.file("out.jsonl");
  o.top_k = 3;
  auto r = lid_predict({dir.file("in.jsonl")}, o);
  EXPECT_EQ(r.docs, 28u);
  EXPECT_EQ(r.read.invalid_utf8_docs + r.read.skipped(), 1u);
  EXPECT_GE(r.langs.at("eu"), 3u);
  EXPECT_NE(r.summary().find("labelled 28 documents"), std::string::npos) << r.summary();
  EXPECT_NE(r.summary().find("invalid UTF-8"), std::string::npos) << r.summary();
  std::istringstream out(nlm::testing::read_text(o.output));
  std::string line;
  size_t n = 0;
  while (std::getline(out, line)) {
    auto j = nlohmann::json::parse(line);
    ASSERT_TRUE(j.contains("lang") && j.contains("lang_score") && j.contains("lang_top")) << line;
    ASSERT_GE(j["lang_top"].size(), 1u);
    EXPECT_EQ(j["lang_top"][0]["lang"], j["lang"]);
    if (n < 27) {
      EXPECT_EQ(j["lang"], nlm::testing::lid_samples()[n / 3].lang) << line;
    } else {
      EXPECT_EQ(j["meta"]["k"], 1);  // other fields kept
    }
    ++n;
  }
  EXPECT_EQ(n, 28u);

  write_text(dir.file("empty.jsonl"), "");
  o.output = dir.file("empty-out.jsonl");
  r = lid_predict({dir.file("empty.jsonl")}, o);
  EXPECT_EQ(r.docs, 0u);
  EXPECT_EQ(nlm::testing::read_text(o.output), "");
}

}  // namespace
