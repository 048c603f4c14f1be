// "Continue this text" chats from documents (data/corpus_pairs.h): where a text is cut, which
// documents are used, how max_examples spreads the pairs, and the chat and preference records
// written.
#include "data/corpus_pairs.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"

using namespace nlm;
using nlm::testing::TempDir;

namespace {

TEST(CorpusPairs, SplitCutsAtTheWordBoundaryAndKeepsLineBreaks) {
  std::string p, c;
  ASSERT_TRUE(data::split_text("Wer anderen eine Grube gräbt, fällt selbst hinein.", 0.5, p, c));
  EXPECT_EQ(p, "Wer anderen eine Grube");  // 8 words: the first 4
  EXPECT_EQ(c, "gräbt, fällt selbst hinein.");
  ASSERT_TRUE(data::split_text("  Morgenstund hat\nGold im Munde.\n\t-- Sprichwort  ", 0.5, p, c));
  EXPECT_EQ(p, "Morgenstund hat\nGold im");  // 7 words: round(3.5) = 4 in the prompt
  EXPECT_EQ(c, "Munde.\n\t-- Sprichwort");
  ASSERT_TRUE(data::split_text("eins zwei", 0.99, p, c));  // each side keeps a word
  EXPECT_EQ(p, "eins");
  EXPECT_EQ(c, "zwei");
  ASSERT_TRUE(data::split_text("a b c d", 0.01, p, c));
  EXPECT_EQ(p, "a");
  EXPECT_EQ(c, "b c d");
  EXPECT_FALSE(data::split_text("allein", 0.5, p, c));
  EXPECT_FALSE(data::split_text(" \n ", 0.5, p, c));
}

std::vector<nlohmann::json> read_records(const std::string& path) {
  std::vector<nlohmann::json> v;
  std::istringstream in(nlm::testing::read_text(path));
  std::string line;
  while (std::getline(in, line)) v.push_back(nlohmann::json::parse(line));
  return v;
}

TEST(CorpusPairs, WritesChatsOfTheUsableDocuments) {
  TempDir dir;
  std::string docs;
  docs += nlohmann::json{{"text", "Zu kurz."}}.dump() + "\n";
  docs += nlohmann::json{{"text", "Ohne Fleiß kein Preis, sagt man."}}.dump() + "\n";
  docs += nlohmann::json{{"text", "Eins zwei drei vier fünf sechs sieben acht neun zehn elf"}}.dump() + "\n";
  docs += nlohmann::json{{"text", "Wer nicht wagt, der nicht gewinnt."}}.dump() + "\n";
  nlm::testing::write_text(dir.file("docs.jsonl"), docs);
  data::CorpusPairsOptions o;
  o.instruction = "Vervollständige das Sprichwort:";
  o.min_words = 3;
  o.max_words = 10;
  auto r = data::write_corpus_pairs({dir.file("docs.jsonl")}, corpus::ReadOptions{}, o, dir.file("pairs.jsonl"));
  EXPECT_EQ(r.documents, 4u);
  EXPECT_EQ(r.pairs, 2u);
  EXPECT_EQ(r.too_short, 1u);
  EXPECT_EQ(r.too_long, 1u);
  auto recs = read_records(dir.file("pairs.jsonl"));
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["messages"][0]["role"], "user");
  EXPECT_EQ(recs[0]["messages"][0]["content"], "Vervollständige das Sprichwort: Ohne Fleiß kein");
  EXPECT_EQ(recs[0]["messages"][1]["role"], "assistant");
  EXPECT_EQ(recs[0]["messages"][1]["content"], "Preis, sagt man.");
  EXPECT_EQ(recs[1]["messages"][0]["content"], "Vervollständige das Sprichwort: Wer nicht wagt,");
  EXPECT_EQ(recs[1]["messages"][1]["content"], "der nicht gewinnt.");

  // No instruction: the user turn is the first part alone.
  o.instruction = "";
  data::write_corpus_pairs({dir.file("docs.jsonl")}, corpus::ReadOptions{}, o, dir.file("plain.jsonl"));
  EXPECT_EQ(read_records(dir.file("plain.jsonl"))[1]["messages"][0]["content"], "Wer nicht wagt,");
}

TEST(CorpusPairs, MaxExamplesSpreadsThePairsEvenly) {
  TempDir dir;
  std::string docs;
  for (int i = 0; i < 10; ++i)
    docs += nlohmann::json{{"text", "Satz nummer " + std::to_string(i) + " hier"}}.dump() + "\n";
  nlm::testing::write_text(dir.file("docs.jsonl"), docs);
  data::CorpusPairsOptions o;
  o.instruction = "";
  o.max_examples = 3;
  auto r = data::write_corpus_pairs({dir.file("docs.jsonl")}, corpus::ReadOptions{}, o, dir.file("pairs.jsonl"));
  EXPECT_EQ(r.pairs, 3u);
  auto recs = read_records(dir.file("pairs.jsonl"));
  ASSERT_EQ(recs.size(), 3u);
  // Documents 3, 6 and 9 (where floor((i+1)*3/10) steps up), not the first three.
  EXPECT_EQ(recs[0]["messages"][1]["content"], "3 hier");
  EXPECT_EQ(recs[1]["messages"][1]["content"], "6 hier");
  EXPECT_EQ(recs[2]["messages"][1]["content"], "9 hier");
  // More than there are: every usable document.
  o.max_examples = 50;
  EXPECT_EQ(data::write_corpus_pairs({dir.file("docs.jsonl")}, corpus::ReadOptions{}, o, dir.file("all.jsonl")).pairs,
            10u);
}

uint64_t preference_pairs(const std::string& docs, const data::CorpusPairsOptions& o, const std::string& out) {
  return data::write_corpus_preferences({docs}, corpus::ReadOptions{}, o, out).pairs;
}

TEST(CorpusPairs, PreferencesChooseOwnEndingsAndNeverRejectAChosenOne) {
  TempDir dir;
  std::string docs;
  for (const char* t : {"Ohne Fleiß kein Preis.", "Kurz", "Wer nicht wagt, gewinnt nicht.",
                        "Übung macht den Meister.", "Aller Anfang ist schwer.", "Lügen haben kurze Beine."})
    docs += nlohmann::json{{"text", t}}.dump() + "\n";
  nlm::testing::write_text(dir.file("docs.jsonl"), docs);
  data::CorpusPairsOptions o;
  o.instruction = "Ergänze:";
  o.min_words = 3;
  auto r = data::write_corpus_preferences({dir.file("docs.jsonl")}, corpus::ReadOptions{}, o, dir.file("p.jsonl"));
  EXPECT_EQ(r.documents, 6u);
  EXPECT_EQ(r.too_short, 1u);
  EXPECT_EQ(r.pairs, 2u);  // five usable documents: two pairs, the last one left over
  auto recs = read_records(dir.file("p.jsonl"));
  ASSERT_EQ(recs.size(), 2u);
  // Usable documents 0 and 1 make a pair, 2 and 3 the next: the first's ending is chosen, the
  // second's rejected, and no ending is both.
  EXPECT_EQ(recs[0]["prompt"], nlohmann::json::parse(R"([{"role": "user", "content": "Ergänze: Ohne Fleiß"}])"));
  EXPECT_EQ(recs[0]["chosen"], nlohmann::json::parse(R"([{"role": "assistant", "content": "kein Preis."}])"));
  EXPECT_EQ(recs[0]["rejected"], nlohmann::json::parse(R"([{"role": "assistant", "content": "gewinnt nicht."}])"));
  EXPECT_EQ(recs[1]["prompt"][0]["content"], "Ergänze: Übung macht");
  EXPECT_EQ(recs[1]["chosen"][0]["content"], "den Meister.");
  EXPECT_EQ(recs[1]["rejected"][0]["content"], "ist schwer.");
  // The records keep role before content, as people write them.
  EXPECT_NE(nlm::testing::read_text(dir.file("p.jsonl")).find(R"({"role":"user","content":"Ergänze: Ohne Fleiß"})"),
            std::string::npos);

  // max_examples counts pairs: one pair from two documents spread over the five.
  o.max_examples = 1;
  EXPECT_EQ(preference_pairs(dir.file("docs.jsonl"), o, dir.file("m.jsonl")), 1u);
  o.max_examples = 0;
  // Equal endings give no pair; one usable document gives none.
  nlm::testing::write_text(dir.file("same.jsonl"), nlohmann::json{{"text", "Eins zwei drei vier"}}.dump() + "\n" +
                                                      nlohmann::json{{"text", "Fünf sechs drei vier"}}.dump() + "\n");
  EXPECT_EQ(preference_pairs(dir.file("same.jsonl"), o, dir.file("q.jsonl")), 0u);
  nlm::testing::write_text(dir.file("one.jsonl"), nlohmann::json{{"text", "Eins zwei drei vier"}}.dump() + "\n");
  EXPECT_EQ(preference_pairs(dir.file("one.jsonl"), o, dir.file("q.jsonl")), 0u);
}

TEST(CorpusPairs, OptionsAreCheckedWhereTheyAreDeclared) {
  data::CorpusPairsOptions o;
  opt::Schema s("sft");
  data::declare(s, o);
  s.find("from_corpus.max_words")->assign("2");
  EXPECT_THROW(s.resolve(), opt::OptionError);  // below min_words (4)
  data::CorpusPairsOptions o2;
  opt::Schema s2("sft");
  data::declare(s2, o2);
  EXPECT_THROW(s2.find("from_corpus.prompt_fraction")->assign("1.5"), opt::OptionError);
}

}  // namespace
