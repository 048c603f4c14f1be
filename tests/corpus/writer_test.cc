// JSONL writing in every codec, sharded output with caps and manifest, input expansion, stats.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "core/manifest.h"
#include "corpus/inputs.h"
#include "corpus/reader.h"
#include "corpus/reshard.h"
#include "corpus/stats.h"
#include "curate/corpus_stats.h"
#include "corpus/writer.h"
#include "test_util.h"

using namespace nlm;
using namespace nlm::corpus;
using nlm::testing::TempDir;
using nlm::testing::write_text;
namespace fs = std::filesystem;

namespace {

std::vector<Document> read_all(const std::string& path) {
  DocumentReader r(path, {});
  std::vector<Document> docs;
  Document d;
  while (r.next(d)) docs.push_back(d);
  return docs;
}

Document make_doc(int i) {
  Document d;
  d.id = "doc-" + std::to_string(i);
  d.text = "Teacs " + std::to_string(i) + " — \"quoted\"\n\ttabbed 粵語 𠀋";
  d.set_string_field("lang", "ga");
  d.set_number_field("n", i);
  return d;
}

class WriterCodec : public ::testing::TestWithParam<std::string> {};

TEST_P(WriterCodec, RoundTrip) {
  TempDir dir;
  std::string path = dir.file("out" + GetParam());
  {
    JsonlWriter w(path);
    for (int i = 0; i < 500; ++i) w.write(make_doc(i));
    w.commit();
    EXPECT_EQ(w.docs(), 500u);
  }
  auto docs = read_all(path);
  ASSERT_EQ(docs.size(), 500u);
  for (int i = 0; i < 500; ++i) {
    Document e = make_doc(i);
    EXPECT_EQ(docs[i].id, e.id);
    EXPECT_EQ(docs[i].text, e.text);
    EXPECT_EQ(docs[i].fields, e.fields);
  }
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, WriterCodec,
                         ::testing::Values(".jsonl", ".jsonl.gz", ".jsonl.zst", ".jsonl.bz2"));

TEST(Document, FieldEditing) {
  Document d;
  d.set_string_field("lang", "de");
  d.set_string_field("lang", "ga");
  d.set_number_field("score", 0.25);
  EXPECT_EQ(d.fields.size(), 2u);
  EXPECT_EQ(d.string_field("lang").value(), "ga");
  EXPECT_FALSE(d.string_field("score").has_value());
  EXPECT_TRUE(d.erase_field("lang"));
  EXPECT_FALSE(d.erase_field("lang"));
}

TEST(ShardWriter, RollsOverAtCapsAndWritesManifest) {
  TempDir dir;
  ShardOptions opt;
  opt.dir = dir.file("shards");
  opt.max_docs = 100;
  {
    ShardWriter w(opt);
    for (int i = 0; i < 350; ++i) w.write(make_doc(i));
    Manifest m;
    m.stage = "test";
    Manifest out = w.finish(m);
    ASSERT_EQ(out.outputs.size(), 4u);
    EXPECT_EQ(out.outputs[3].records, 50u);
  }
  EXPECT_TRUE(fs::exists(dir.file("shards/part-00000.jsonl.zst")));
  EXPECT_TRUE(fs::exists(dir.file("shards/part-00003.jsonl.zst")));
  auto m = read_manifest(dir.file("shards"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->outputs.size(), 4u);
  EXPECT_EQ(m->outputs[0].path, "part-00000.jsonl.zst");

  // Reading the folder back gives every document in order (manifest.json is not an input).
  auto files = expand_inputs({dir.file("shards")});
  ASSERT_EQ(files.size(), 4u);
  int i = 0;
  for (auto& f : files)
    for (auto& d : read_all(f)) EXPECT_EQ(d.id, "doc-" + std::to_string(i++));
  EXPECT_EQ(i, 350);

  // A shorter rerun into the same folder removes the now-stale shards.
  opt.max_docs = 0;
  ShardWriter w2(opt);
  w2.write(make_doc(0));
  Manifest m2;
  m2.stage = "test";
  w2.finish(m2);
  EXPECT_FALSE(fs::exists(dir.file("shards/part-00001.jsonl.zst")));
  EXPECT_EQ(expand_inputs({dir.file("shards")}).size(), 1u);
}

TEST(ShardWriter, ByteCap) {
  TempDir dir;
  ShardOptions opt;
  opt.dir = dir.file("s");
  opt.extension = ".jsonl";
  opt.max_bytes = 1000;
  ShardWriter w(opt);
  for (int i = 0; i < 100; ++i) w.write(make_doc(i));
  Manifest m;
  m.stage = "t";
  auto out = w.finish(m);
  EXPECT_GT(out.outputs.size(), 5u);
  for (auto& e : out.outputs) EXPECT_LT(e.bytes, 1200u);
}

TEST(Inputs, FilesDirectoriesAndGlobs) {
  TempDir dir;
  write_text(dir.file("a/1.jsonl"), "");
  write_text(dir.file("a/sub/2.txt"), "");
  write_text(dir.file("a/.hidden"), "");
  write_text(dir.file("a/manifest.json"), "{}");
  write_text(dir.file("b.txt"), "");
  auto files = expand_inputs({dir.file("a"), dir.file("*.txt"), dir.file("b.txt")});
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0], dir.file("a/1.jsonl"));
  EXPECT_EQ(files[1], dir.file("a/sub/2.txt"));
  EXPECT_EQ(files[2], dir.file("b.txt"));
  try {
    expand_inputs({dir.file("nope.jsonl")});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
  }
  EXPECT_THROW(expand_inputs({dir.file("*.parquet")}), Error);
}

TEST(CorpusStats, CountsAndHistogram) {
  TempDir dir;
  write_text(dir.file("c.jsonl"),
             "{\"text\":\"hello world\"}\n{\"text\":\"你好\\n世界\"}\n{\"text\":\"\"}\nnot json\n");
  auto st = curate::corpus_stats({dir.file("c.jsonl")}, {});
  EXPECT_EQ(st.docs, 3u);
  EXPECT_EQ(st.chars, 11u + 5u);
  EXPECT_EQ(st.bytes, 11u + 13u);
  EXPECT_EQ(st.lines, 3u);
  EXPECT_EQ(st.empty_docs, 1u);
  EXPECT_EQ(st.histogram[0], 3u);
  EXPECT_EQ(st.read.bad_json, 1u);
  EXPECT_EQ(st.scripts.sorted()[0].first, "Latin");
  std::string json = st.to_json();
  EXPECT_NE(json.find("\"Han\": 4"), std::string::npos) << json;
  EXPECT_NE(st.to_table().find("bad JSON"), std::string::npos);
}

TEST(Reshard, TextToJsonlShards) {
  TempDir dir;
  write_text(dir.file("in.txt"), "para one\n\npara two\n\npara three\n");
  ReshardOptions opt;
  opt.shards.dir = dir.file("out");
  opt.shards.max_docs = 2;
  auto r = reshard({dir.file("in.txt")}, opt);
  EXPECT_EQ(r.docs, 3u);
  EXPECT_EQ(r.shards, 2u);
  auto m = read_manifest(dir.file("out"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->stage, "corpus.shard");
  EXPECT_EQ(m->inputs.size(), 1u);
}

}  // namespace
