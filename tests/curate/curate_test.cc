// End to end: a corpus of several shards (multilingual prose, planted junk, repetition and PII,
// and damaged input) through `curate`: expected documents kept and removed with their reasons,
// PII tagged, report and manifests written, resume skipping finished shards, and the CLI.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/compressed_stream.h"
#include "corpus/reader.h"
#include "curate/config.h"
#include "curate/curate.h"
#include "fixtures.h"
#include "test_util.h"

namespace {
using namespace nlm;
using namespace nlm::curate;
using nlm::testing::TempDir;
namespace fs = std::filesystem;

std::string jsonl(const std::vector<std::pair<std::string, std::string>>& docs) {
  std::string out;
  for (const auto& [id, text] : docs) out += nlohmann::json{{"id", id}, {"text", text}}.dump() + "\n";
  return out;
}

void write_compressed(const std::string& path, const std::string& data) {
  auto out = OutputStream::create(path);
  out->write(data);
  out->commit();
}

std::map<std::string, corpus::Document> read_docs(const std::string& dir) {
  std::map<std::string, corpus::Document> docs;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.rfind("part-", 0) != 0) continue;
    corpus::DocumentReader r(e.path().string(), corpus::ReadOptions{});
    corpus::Document d;
    while (r.next(d)) docs[d.id] = d;
  }
  return docs;
}

struct Corpus {
  TempDir dir;
  std::vector<std::string> files;
  Corpus() {
    using namespace nlm::testing;
    std::string junk;
    for (int i = 0; i < 40; ++i) junk += "Home | Shop | Cart " + std::to_string(i) + "\n";
    std::string repetitive;
    for (int i = 0; i < 30; ++i) repetitive += "Best prices on cheap flights to every city in the world today.\n";
    std::string pii = kEnglish + "\nWrite to the librarian at anna.berg@example.org or call +46 8 123 456 78.";
    write_compressed(dir.file("a.jsonl.gz"),
                     jsonl({{"en", kEnglish}, {"junk", junk}, {"pii", pii}, {"short", "Click here!"}}));
    nlm::testing::write_text(dir.file("b.jsonl"),
                             jsonl({{"de", kGerman}, {"rep", repetitive}, {"zh", kChinese}}) +
                                 "{not json\n" + jsonl({{"fr", kFrench}}));
    // Truncated gzip: the first document survives, the rest is cut.
    std::string gz = dir.file("c.jsonl.gz");
    write_compressed(gz, jsonl({{"en2", kEnglish + "\nA second copy with a new ending line."}}) +
                             std::string(200000, 'x'));
    fs::resize_file(gz, fs::file_size(gz) / 2);
    // Binary garbage under a JSONL name.
    std::string garbage;
    for (int i = 0; i < 5000; ++i) garbage.push_back(static_cast<char>((i * 7919) % 256));
    nlm::testing::write_text(dir.file("d.jsonl"), garbage);
    files = {dir.file("a.jsonl.gz"), dir.file("b.jsonl"), gz, dir.file("d.jsonl")};
  }
};

TEST(CurateRun, KeepsRemovesTagsReportsAndResumes) {
  Corpus c;
  CurateOptions o;
  o.output_dir = c.dir.file("out");
  o.rejects_dir = c.dir.file("rej");
  o.threads = 2;
  CurateReport r = run_curate(c.files, o);

  auto kept = read_docs(o.output_dir);
  std::set<std::string> ids;
  for (const auto& [id, d] : kept) ids.insert(id);
  // en2 is cut off by the truncation (the gzip ends inside its first block).
  EXPECT_TRUE(ids.count("en") && ids.count("de") && ids.count("fr") && ids.count("zh") && ids.count("pii"))
      << ::testing::PrintToString(ids);
  EXPECT_FALSE(ids.count("junk") || ids.count("rep") || ids.count("short"));
  ASSERT_EQ(kept.size(), 5u);
  EXPECT_EQ(kept["de"].string_field("lang"), "de");
  EXPECT_EQ(kept["zh"].string_field("lang"), "zh");
  EXPECT_EQ(kept["en"].text, nlm::testing::kEnglish);
  EXPECT_NE(kept["pii"].text.find("at <EMAIL> or call <PHONE>."), std::string::npos) << kept["pii"].text;

  auto rejected = read_docs(o.rejects_dir);
  ASSERT_EQ(rejected.size(), 3u);
  ASSERT_TRUE(rejected.count("junk") && rejected.count("rep") && rejected.count("short"));
  EXPECT_EQ(rejected["short"].string_field("reject_reason"), "gopher_quality.min_words");
  EXPECT_EQ(rejected["short"].number_field("reject_value"), 2);
  EXPECT_EQ(rejected["rep"].string_field("reject_reason")->rfind("gopher_repetition.", 0), 0u);
  EXPECT_TRUE(rejected["junk"].string_field("reject_reason").has_value());

  EXPECT_EQ(r.stats.docs_out, kept.size());
  EXPECT_EQ(r.stats.docs_in, kept.size() + rejected.size());
  EXPECT_EQ(r.stats.counters["pii"]["EMAIL"], 1u);
  EXPECT_EQ(r.stats.counters["pii"]["PHONE"], 1u);
  EXPECT_GE(r.stats.read.bad_json, 2u);  // "{not json" and the lines of binary garbage
  EXPECT_EQ(r.stats.read.truncated_files, 1u);
  EXPECT_EQ(r.shards, 4u);
  EXPECT_EQ(r.shards_skipped, 0u);

  auto report = nlohmann::json::parse(nlm::testing::read_text(o.output_dir + "/report.json"));
  EXPECT_EQ(report["docs_out"], kept.size());
  EXPECT_EQ(report["pii"]["EMAIL"], 1);
  EXPECT_EQ(report["languages"]["de"], 1);
  EXPECT_EQ(report["funnel"].back()["remaining"], kept.size());
  EXPECT_TRUE(fs::exists(o.output_dir + "/manifest.json"));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(fs::exists(o.output_dir + "/part-0000" + std::to_string(i) + ".jsonl.zst"));

  // A rerun skips every shard and reports the same totals.
  CurateReport again = run_curate(c.files, o);
  EXPECT_EQ(again.shards_skipped, 4u);
  EXPECT_EQ(again.stats.docs_out, r.stats.docs_out);
  EXPECT_EQ(again.stats.counters["pii"]["EMAIL"], 1u);
  // A changed input redoes only its shard; a changed option redoes all.
  nlm::testing::write_text(c.dir.file("b.jsonl"), jsonl({{"de", nlm::testing::kGerman}}));
  CurateReport third = run_curate(c.files, o);
  EXPECT_EQ(third.shards_skipped, 3u);
  EXPECT_EQ(read_docs(o.output_dir).count("fr"), 0u);
  o.chain.lid.languages = {"de"};
  CurateReport fourth = run_curate(c.files, o);
  EXPECT_EQ(fourth.shards_skipped, 0u);
  EXPECT_EQ(read_docs(o.output_dir).size(), 1u);
}

TEST(CurateRun, HugeDocumentAndDeepLinesAreCountedNotFatal) {
  TempDir dir;
  std::string big(50u << 20, 'a');
  for (size_t i = 80; i < big.size(); i += 81) big[i] = ' ';
  nlm::testing::write_text(dir.file("big.jsonl"),
                           "{\"id\":\"big\",\"text\":\"" + big + "\"}\n" +
                               jsonl({{"en", nlm::testing::kEnglish}}));
  CurateOptions o;
  o.output_dir = dir.file("out");
  o.rejects_dir = dir.file("rej");
  CurateReport r = run_curate({dir.file("big.jsonl")}, o);
  EXPECT_EQ(r.stats.docs_in, 2u);
  EXPECT_EQ(r.stats.docs_out, 1u);
  EXPECT_EQ(r.stats.removed_by_reason["size.max_doc_bytes"], 1u);
  auto rej = read_docs(o.rejects_dir);
  EXPECT_LE(rej["big"].text.size(), 1u << 20);
}

TEST(CurateRun, CommandLine) {
  Corpus c;
  std::string config = c.dir.file("curate.yaml");
  nlm::testing::write_text(config, "steps:\n  - normalize\n  - lid: {languages: [de, fr]}\n  - fineweb\n");
  auto r = nlm::testing::run_nativelm("--threads 2 curate " + c.dir.file("b.jsonl") + " -o " +
                                          c.dir.file("cli") + " --config " + config,
                                      c.dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("documents in / out"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lid"), std::string::npos);
  auto kept = read_docs(c.dir.file("cli"));
  EXPECT_EQ(kept.size(), 2u);
  EXPECT_TRUE(kept.count("de") && kept.count("fr"));

  nlm::testing::write_text(config, "steps: [normalize, bogus]\n");
  r = nlm::testing::run_nativelm("curate " + c.dir.file("b.jsonl") + " -o " + c.dir.file("cli2") +
                                     " --config " + config,
                                 c.dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nativelm: error: unknown curate step 'bogus'"), std::string::npos) << r.err;
  r = nlm::testing::run_nativelm("curate --list-steps", c.dir.path());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("max_dup_10gram_char_frac: 0.1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("min_score: 0  # Reject documents whose top language scores below this (0 = never) (0 to 1)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("unicode_form: \"NFC\""), std::string::npos) << r.out;
}

TEST(CurateRun, QuietPrintsNoTable) {
  Corpus c;
  auto r = nlm::testing::run_nativelm("-q curate " + c.dir.file("b.jsonl") + " -o " + c.dir.file("q"), c.dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");  // warnings about the fixture's malformed record still go to stderr
  EXPECT_FALSE(read_docs(c.dir.file("q")).empty());  // it ran; report.json has the figures
  r = nlm::testing::run_nativelm("curate " + c.dir.file("b.jsonl") + " -o " + c.dir.file("q") + " --force", c.dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("documents in / out"), std::string::npos) << r.out;
}

TEST(CurateStatsJson, RoundTripsAndRefusesNonIntegerCounts) {
  // A shard's stats are read back on resume; a corrupt or hand-edited count is an error naming
  // the count, not a float converted to uint64_t with undefined behaviour.
  curate::CurateStats s;
  s.docs_in = 7;
  s.bytes_in = 900;
  s.docs_out = 5;
  s.bytes_out = 640;
  s.removed_by_step["quality"] = 2;
  s.languages["eu"] = 3;
  s.languages["yue"] = 2;
  s.counters["pii"]["email"] = 4;
  s.read.truncated_files = 1;
  curate::CurateStats back = curate::CurateStats::from_json(s.to_json());
  EXPECT_EQ(back.to_json(), s.to_json());
  EXPECT_EQ(back.languages["yue"], 2u);
  EXPECT_EQ(back.counters["pii"]["email"], 4u);
  auto with = [&](const std::string& pointer, const nlohmann::json& v) {
    nlohmann::json j = nlohmann::json::parse(s.to_json());
    j[nlohmann::json::json_pointer(pointer)] = v;
    return j.dump();
  };
  for (const auto& [pointer, v] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"/docs_in", 1e300}, {"/languages/eu", -1}, {"/counters/pii/email", 2.5}, {"/read/docs", "3"}}) {
    try {
      curate::CurateStats::from_json(with(pointer, v));
      ADD_FAILURE() << pointer << " = " << v.dump() << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("is not a non-negative integer"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(curate::CurateStats::from_json(with("/languages", 3)), Error);
}

}  // namespace
