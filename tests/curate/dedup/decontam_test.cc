// Decontamination: documents sharing a 13-gram with a benchmark item are cut (NeMo style),
// flagged or dropped; the report names the items that matched; bad benchmark lines are counted.
#include <gtest/gtest.h>

#include <map>

#include "corpus/reader.h"
#include "curate/dedup/decontam.h"
#include "test_util.h"

namespace nlm::dedup {
namespace {

std::map<std::string, corpus::Document> docs_of(const std::string& dir) {
  std::map<std::string, corpus::Document> out;
  corpus::DocumentReader r(dir + "/part-00000.jsonl", {});
  corpus::Document d;
  while (r.next(d)) out[d.id] = d;
  return out;
}

std::string filler(const std::string& tag, int words) {
  std::string s;
  for (int i = 0; i < words; ++i) s += (i ? " " : "") + tag + std::to_string(i);
  return s;
}

class Decontam : public ::testing::Test {
 protected:
  void SetUp() override {
    question = "What is the boiling point of water at sea level measured in degrees Celsius on a normal day";
    nlm::testing::write_text(dir.file("bench.jsonl"),
                             "{\"id\":\"q1\",\"question\":\"" + question + "\",\"answer\":\"100\"}\n"
                             "{\"id\":\"q2\",\"question\":\"Name the largest planet\",\"choices\":[\"Jupiter is the largest planet in our solar system\"]}\n"
                             "not json\n"
                             "{\"id\":\"q3\",\"question\":\"" + filler("never", 20) + "\"}\n");
    std::string pre = filler("pre", 80), post = filler("post", 80);
    // Case and punctuation differ from the item: still a match.
    std::string hit = "WHAT is the boiling point of water, at sea level, measured in degrees celsius on a normal day";
    nlm::testing::write_text(dir.file("train.jsonl"),
                             "{\"id\":\"cut\",\"text\":\"" + pre + " " + hit + " " + post + "\"}\n"
                             "{\"id\":\"clean\",\"text\":\"" + filler("clean", 50) + "\"}\n"
                             "{\"id\":\"short\",\"text\":\"As we know, Jupiter is the largest planet in our solar system.\"}\n"
                             "{\"id\":\"partial\",\"text\":\"the boiling point of water at sea level is well known\"}\n"
                             "{\"id\":\"bad\",\"text\":null}\n");
  }
  DecontamOptions options(const std::string& out) {
    DecontamOptions o;
    o.benchmarks = {dir.file("bench.jsonl")};
    o.shards.dir = dir.file(out);
    o.shards.extension = ".jsonl";
    o.remove_chars = 20;
    o.min_piece_chars = 100;
    return o;
  }
  nlm::testing::TempDir dir;
  std::string question;
};

TEST_F(Decontam, RemovesMatchedSpansAndReportsItems) {
  auto r = run_decontam({dir.file("train.jsonl")}, options("rm"));
  auto d = docs_of(dir.file("rm"));
  ASSERT_TRUE(d.count("cut"));
  EXPECT_EQ(d["cut"].text.find("boiling"), std::string::npos);
  EXPECT_EQ(d["cut"].text.rfind("pre0 pre1", 0), 0u);
  EXPECT_NE(d["cut"].text.find("\n\n"), std::string::npos);  // two pieces joined
  EXPECT_EQ(d["cut"].text.substr(d["cut"].text.size() - 6), "post79");
  // 20 characters around the match are cut too: "... pre79 WHAT" loses "pre78 pre79".
  EXPECT_EQ(d["cut"].text.find("pre79"), std::string::npos);
  EXPECT_TRUE(d.count("clean"));
  EXPECT_TRUE(d.count("partial"));  // shares only 8 words
  EXPECT_FALSE(d.count("short"));   // whole text matched a 9-word item (shorter than 13): nothing left
  EXPECT_EQ(r.items, 3u);
  EXPECT_EQ(r.bad_items, 1u);
  EXPECT_EQ(r.docs_matched, 2u);
  EXPECT_EQ(r.docs_cut, 1u);
  EXPECT_EQ(r.docs_dropped, 1u);
  EXPECT_EQ(r.read.skipped(), 1u);
  ASSERT_EQ(r.matched_items.size(), 2u);
  EXPECT_EQ(r.matched_items[0].first, "q1");
  EXPECT_EQ(r.matched_items[1].first, "q2");
  EXPECT_NE(nlm::testing::read_text(dir.file("rm/report.json")).find("\"q2\""), std::string::npos);
}

TEST_F(Decontam, FlagAndDropAndTooManySplits) {
  auto o = options("flag");
  o.action = DecontamAction::Flag;
  run_decontam({dir.file("train.jsonl")}, o);
  auto d = docs_of(dir.file("flag"));
  EXPECT_EQ(d.size(), 4u);
  ASSERT_NE(d["cut"].field("contaminated_by"), nullptr);
  EXPECT_EQ(*d["cut"].field("contaminated_by"), "[\"q1\"]");
  EXPECT_EQ(d["clean"].field("contaminated_by"), nullptr);

  o = options("drop");
  o.action = DecontamAction::Drop;
  EXPECT_EQ(run_decontam({dir.file("train.jsonl")}, o).docs_dropped, 2u);

  o = options("splits");
  o.max_splits = 1;  // "cut" would be two pieces
  auto r = run_decontam({dir.file("train.jsonl")}, o);
  EXPECT_FALSE(docs_of(dir.file("splits")).count("cut"));
  EXPECT_EQ(r.docs_dropped, 2u);
}

TEST_F(Decontam, Cli) {
  auto r = nlm::testing::run_nativelm("-q decontam " + dir.file("train.jsonl") + " -b " + dir.file("bench.jsonl") +
                                          " --action flag --fields question -o " + dir.file("out"), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 of 4 documents matched 1 of 3"), std::string::npos) << r.out;  // choices not checked
  r = nlm::testing::run_nativelm("decontam " + dir.file("train.jsonl") + " -b " + dir.file("bench.jsonl") +
                                     " --action burn -o " + dir.file("x"), dir.path());
  EXPECT_EQ(r.exit_code, 2);
  r = nlm::testing::run_nativelm("decontam " + dir.file("train.jsonl") + " -b " + dir.file("missing.jsonl") + " -o " +
                                     dir.file("y"), dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("benchmark file not found"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nlm::dedup
