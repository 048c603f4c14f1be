// Line and paragraph dedup: boilerplate recurring in more than K documents is removed from all
// but the first, short lines are left alone, emptied documents are dropped, threads and spills
// do not change the output.
#include <gtest/gtest.h>

#include <map>

#include "core/runtime.h"
#include "corpus/reader.h"
#include "curate/dedup/segments.h"
#include "test_util.h"

namespace nlm::dedup {
namespace {

std::map<std::string, std::string> texts(const std::string& dir) {
  std::map<std::string, std::string> out;
  corpus::DocumentReader r(dir + "/part-00000.jsonl", {});
  corpus::Document d;
  while (r.next(d)) out[d.id] = d.text;
  return out;
}

TEST(Segments, SplitLinesAndParagraphs) {
  using V = std::vector<std::pair<size_t, size_t>>;
  EXPECT_EQ(split_segments("a\nbb\n", SegmentUnit::Line), (V{{0, 1}, {2, 4}}));
  EXPECT_EQ(split_segments("a\nb\n\n  \nc", SegmentUnit::Paragraph), (V{{0, 3}, {8, 9}}));
  EXPECT_TRUE(split_segments("", SegmentUnit::Paragraph).empty());
}

TEST(Segments, RemovesBoilerplateLinesBeyondK) {
  nlm::testing::TempDir dir;
  std::string s;
  for (int i = 0; i < 6; ++i)
    s += "{\"id\":\"d" + std::to_string(i) + "\",\"text\":\"Unique story number " + std::to_string(i) +
         " about rivers\\nSubscribe to our newsletter today!\\nok\\n" + (i == 5 ? "" : "Copyright 2024 Example Media") + "\"}\n";
  s += "{\"id\":\"only\",\"text\":\"Subscribe to our newsletter today!\"}\nbroken\n";
  nlm::testing::write_text(dir.file("in.jsonl"), s);
  SegmentDedupOptions o;
  o.shards.dir = dir.file("k1");
  o.shards.extension = ".jsonl";
  auto r = run_segment_dedup({dir.file("in.jsonl")}, o);
  auto t = texts(dir.file("k1"));
  EXPECT_EQ(t["d0"], "Unique story number 0 about rivers\nSubscribe to our newsletter today!\nok\nCopyright 2024 Example Media");
  EXPECT_EQ(t["d3"], "Unique story number 3 about rivers\nok");  // "ok" is below min_segment_bytes
  EXPECT_EQ(t["d5"], "Unique story number 5 about rivers\nok");
  EXPECT_FALSE(t.count("only"));  // nothing left
  EXPECT_EQ(r.docs_dropped, 1u);
  EXPECT_EQ(r.segments_removed, 6u + 4u);
  EXPECT_EQ(r.frequent_segments, 2u);
  EXPECT_EQ(r.read.skipped(), 1u);
  ASSERT_FALSE(r.examples.empty());
  EXPECT_EQ(r.examples[0].docs, 7u);

  // K = 5: the copyright line (5 documents) stays, the newsletter line (7) goes; same with a
  // tiny sort budget and one thread.
  o.shards.dir = dir.file("k5");
  o.max_docs = 5;
  o.memory = 1;
  set_runtime_options({1, true});
  run_segment_dedup({dir.file("in.jsonl")}, o);
  set_runtime_options({});
  t = texts(dir.file("k5"));
  EXPECT_EQ(t["d3"], "Unique story number 3 about rivers\nok\nCopyright 2024 Example Media");
  EXPECT_TRUE(run_segment_dedup({dir.file("in.jsonl")}, o).up_to_date);
}

TEST(Segments, ParagraphsAndCli) {
  nlm::testing::TempDir dir;
  std::string para = "This paragraph is shared boilerplate text.\\nIt spans two lines.";
  nlm::testing::write_text(dir.file("in.jsonl"),
                           "{\"id\":\"a\",\"text\":\"Intro A.\\n\\n" + para + "\"}\n{\"id\":\"b\",\"text\":\"" + para +
                               "\\n\\nBody of document B here.\"}\n");
  auto r = nlm::testing::run_nativelm("-q dedup-lines " + dir.file("in.jsonl") + " --unit paragraph --extension .jsonl -o " +
                                          dir.file("out"), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t = texts(dir.file("out"));
  EXPECT_EQ(t["a"], "Intro A.\n\nThis paragraph is shared boilerplate text.\nIt spans two lines.");
  EXPECT_EQ(t["b"], "Body of document B here.");
  r = nlm::testing::run_nativelm("dedup-lines " + dir.file("in.jsonl") + " --unit sentence -o " + dir.file("x"), dir.path());
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace nlm::dedup
