// Thread pool, hashing, manifests, progress formatting and the error message format.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/json_escape.h"
#include "core/manifest.h"
#include "core/mmap_file.h"
#include "core/progress.h"
#include "core/thread_pool.h"
#include "test_util.h"

using namespace nlm;
using nlm::testing::TempDir;

TEST(ThreadPool, ParallelForVisitsEveryIndexOnce) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(1000);
  pool.parallel_for(hits.size(), [&](size_t i) { hits[i]++; });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ThreadPool, TaskExceptionReachesCaller) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(100, [](size_t i) {
    if (i == 37) runtime_error("boom");
  }),
               Error);
  // The pool is still usable afterwards.
  std::atomic<int> n{0};
  pool.parallel_for(10, [&](size_t) { n++; });
  EXPECT_EQ(n.load(), 10);
}

TEST(ThreadPool, WorkerSlotsAreInRange) {
  ThreadPool pool(2);
  std::atomic<bool> ok{true};
  pool.parallel_for_worker(200, [&](size_t, int w) {
    if (w < 0 || w >= 2) ok = false;
  });
  EXPECT_TRUE(ok);
}

TEST(Hash, StableKnownValues) {
  // XXH3-64 of the empty input with seed 0 is a published constant.
  EXPECT_EQ(hash64(""), 0x2D06800538D394C2ull);
  EXPECT_EQ(hash128("abc"), hash128("abc"));
  EXPECT_NE(hash128("abc"), hash128("abd"));
  EXPECT_NE(hash64("abc", 1), hash64("abc", 2));
  Hasher128 h;
  h.update("ab");
  h.update("c");
  EXPECT_EQ(h.digest(), hash128("abc"));
  EXPECT_EQ(hash128("abc").hex().size(), 32u);
}

TEST(Hash, FileHashMatchesStreamingHash) {
  TempDir dir;
  std::string data(5 << 20, 'q');
  nlm::testing::write_text(dir.file("f"), data);
  EXPECT_EQ(hash_file_hex(dir.file("f")), hash128(data).hex());
}

TEST(MappedFile, MapsContentAndEmptyFiles) {
  TempDir dir;
  nlm::testing::write_text(dir.file("a"), "mapped");
  nlm::testing::write_text(dir.file("empty"), "");
  MappedFile a(dir.file("a"));
  EXPECT_EQ(a.view(), "mapped");
  MappedFile e(dir.file("empty"));
  EXPECT_EQ(e.size(), 0u);
  EXPECT_THROW(MappedFile(dir.file("missing")), Error);
}

TEST(Manifest, RoundTripAndMatching) {
  TempDir dir;
  nlm::testing::write_text(dir.file("in.txt"), "input");
  nlm::testing::write_text(dir.file("out/part-00000.jsonl"), "{}\n");
  Manifest m;
  m.stage = "test.stage";
  m.options_json = R"({"b":2,"a":1})";
  m.inputs.push_back(describe_file(dir.file("in.txt")));
  FileEntry out = describe_file(dir.file("out/part-00000.jsonl"), "part-00000.jsonl");
  out.records = 1;
  m.outputs.push_back(out);
  m.stats_json = R"({"documents":1})";
  write_manifest(dir.file("out"), m);

  auto back = read_manifest(dir.file("out"));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->stage, "test.stage");
  EXPECT_EQ(back->outputs.at(0).records, 1u);
  EXPECT_EQ(back->version, NATIVELM_VERSION);
  auto inputs = std::vector<FileEntry>{describe_file(dir.file("in.txt"))};
  // Same options in another key order still match.
  EXPECT_TRUE(manifest_matches(*back, dir.file("out"), "test.stage", R"({"a":1,"b":2})", inputs));
  EXPECT_FALSE(manifest_matches(*back, dir.file("out"), "test.stage", R"({"a":1,"b":3})", inputs));
  EXPECT_FALSE(manifest_matches(*back, dir.file("out"), "other", R"({"a":1,"b":2})", inputs));
  nlm::testing::write_text(dir.file("in.txt"), "changed input");
  EXPECT_FALSE(manifest_matches(*back, dir.file("out"), "test.stage", R"({"a":1,"b":2})",
                                {describe_file(dir.file("in.txt"))}));
  std::filesystem::remove(dir.file("out/part-00000.jsonl"));
  EXPECT_FALSE(manifest_matches(*back, dir.file("out"), "test.stage", R"({"a":1,"b":2})", inputs));
}

TEST(Manifest, MalformedManifestIsTreatedAsMissing) {
  TempDir dir;
  nlm::testing::write_text(dir.file("manifest.json"), "{not json");
  EXPECT_FALSE(read_manifest(dir.path()).has_value());
  EXPECT_THROW(manifest_from_json("{\"stage\": 3}"), Error);
  // A float or negative size in an entry is an error naming the entry, not a conversion with
  // undefined behaviour (get<uint64_t>() of 1e300).
  for (const char* bytes : {"1e300", "-4", "\"12\"", "2.5"}) {
    try {
      manifest_from_json(std::string(R"({"stage": "s", "outputs": [{"path": "part-00000.jsonl", "bytes": )") + bytes + "}]}");
      ADD_FAILURE() << "bytes " << bytes << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("'bytes' is not a non-negative integer"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("part-00000.jsonl"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(manifest_from_json(R"({"stage": "s", "outputs": [{"path": "p", "bytes": 18446744073709551615, "records": 3}]})")
                .outputs.at(0).records,
            3u);
  nlm::testing::write_text(dir.file("manifest.json"), R"({"stage": "s", "inputs": [{"path": "p", "bytes": 1e300}]})");
  EXPECT_FALSE(read_manifest(dir.path()).has_value());
}

TEST(Progress, RenderShowsRatesAndEta) {
  Progress p("reading", 1000, false);
  p.add(10, 500);
  std::string line = p.render();
  EXPECT_NE(line.find("reading: 10 docs"), std::string::npos) << line;
  EXPECT_NE(line.find("docs/s"), std::string::npos);
  EXPECT_NE(line.find("/s"), std::string::npos);
  EXPECT_NE(line.find("50%"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA"), std::string::npos);
  Progress unknown("x");
  unknown.add(1, 1);
  EXPECT_EQ(unknown.render().find("ETA"), std::string::npos);
}

TEST(Progress, HumanFormats) {
  EXPECT_EQ(human_bytes(1500), "1.5 kB");
  EXPECT_EQ(human_count(2500000), "2.5M");
  EXPECT_EQ(human_duration(3723), "1:02:03");
}

TEST(ErrorFormat, WhatWhereFix) {
  EXPECT_EQ(format_error("bad value", "--threads", "use a number"), "bad value (--threads); use a number");
  EXPECT_EQ(format_error("oops", "", ""), "oops");
  try {
    usage_error("x", "y", "z");
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
  }
  try {
    runtime_error("x");
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
  }
}

TEST(JsonEscape, EscapesControlAndQuotes) {
  EXPECT_EQ(json_quote("a\"b\\c\n\t\x01"), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
  EXPECT_EQ(json_quote("粵語"), "\"粵語\"");
}

TEST(Manifest, NonUtf8FileNamesDoNotBreakTheJson) {
  TempDir dir;
  std::string odd = dir.file("caf\xE9.txt");
  nlm::testing::write_text(odd, "x");
  Manifest m;
  m.stage = "t";
  m.inputs.push_back(describe_file(odd));
  write_manifest(dir.path(), m);
  auto back = read_manifest(dir.path());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->inputs.at(0).path, dir.file("caf\xEF\xBF\xBD.txt"));
}
