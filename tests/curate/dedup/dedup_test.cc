// End-to-end dedup on synthetic corpora with planted near-duplicates: precision and recall at
// the Jaccard threshold, exact dedup, keep policies, cluster sizes, determinism across thread
// counts and spill budgets, bad input, resume and the CLI.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/json_escape.h"
#include "core/runtime.h"
#include "corpus/reader.h"
#include "curate/dedup/dedup.h"
#include "curate/dedup/synthetic.h"
#include "output_util.h"
#include "test_util.h"

namespace nlm::dedup {
namespace {

using nlm::testing::TempDir;

void write_jsonl(const std::string& path, const std::vector<SyntheticDoc>& docs, size_t begin = 0,
                 size_t end = SIZE_MAX) {
  std::string s;
  for (size_t i = begin; i < std::min(end, docs.size()); ++i)
    s += "{\"id\":" + json_quote(docs[i].id) + ",\"text\":" + json_quote(docs[i].text) + "}\n";
  nlm::testing::write_text(path, s);
}

// id -> dup_cluster_size of every document in an output folder (any codec).
std::map<std::string, double> read_output(const std::string& dir) {
  std::map<std::string, double> out;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    auto name = e.path().filename().string();
    if (name.rfind("part-", 0) != 0) continue;
    corpus::DocumentReader r(e.path().string(), {});
    corpus::Document d;
    while (r.next(d)) out[d.id] = d.number_field("dup_cluster_size").value_or(-1);
  }
  return out;
}


// Word 5-gram sets by whitespace split, independent of the library's shingler.
double true_jaccard(const std::string& a, const std::string& b) {
  auto grams = [](const std::string& s) {
    std::vector<std::string> w;
    std::istringstream in(s);
    for (std::string t; in >> t;) w.push_back(t);
    std::set<std::string> g;
    for (size_t i = 0; i + 5 <= w.size(); ++i) g.insert(w[i] + " " + w[i + 1] + " " + w[i + 2] + " " + w[i + 3] + " " + w[i + 4]);
    return g;
  };
  auto ga = grams(a), gb = grams(b);
  size_t inter = 0;
  for (auto& x : ga) inter += gb.count(x);
  return static_cast<double>(inter) / static_cast<double>(ga.size() + gb.size() - inter);
}

DedupOptions base_options(const std::string& out) {
  DedupOptions o;
  o.shards.dir = out;
  o.shards.extension = ".jsonl";
  o.shards.max_docs = 150;
  return o;
}

TEST(Synthetic, PlantedLevelsAreExact) {
  SyntheticOptions so;
  so.bases = 12;
  auto docs = make_synthetic_corpus(so);
  for (auto& d : docs) {
    if (d.base >= 0) {
      EXPECT_NEAR(true_jaccard(docs[static_cast<size_t>(d.base)].text, d.text), d.jaccard, 1e-9);
    }
  }
  EXPECT_NEAR(docs[1].jaccard, 0.95, 0.02);
  EXPECT_NEAR(docs[11].jaccard, 0.4, 0.03);
}

TEST(Dedup, PrecisionAndRecallAtThresholdWithJaccardCheck) {
  TempDir dir;
  SyntheticOptions so;
  so.bases = 300;
  auto docs = make_synthetic_corpus(so);
  write_jsonl(dir.file("in/a.jsonl"), docs, 0, 300);
  write_jsonl(dir.file("in/b.jsonl"), docs, 300);
  auto o = base_options(dir.file("out"));
  o.jaccard_check = true;
  o.jaccard_threshold = 0.8;
  auto r = run_dedup({dir.file("in/a.jsonl"), dir.file("in/b.jsonl")}, o);
  auto kept = read_output(dir.file("out"));
  size_t tp = 0, fp = 0, fn = 0, positives = 0;
  for (auto& d : docs) {
    if (d.base < 0) {
      EXPECT_TRUE(kept.count(d.id)) << d.id;  // first of its cluster is always kept
      continue;
    }
    bool truth = d.jaccard >= o.jaccard_threshold;
    bool removed = !kept.count(d.id);
    positives += truth;
    tp += truth && removed;
    fp += !truth && removed;
    fn += truth && !removed;
    if (removed) {
      EXPECT_EQ(kept[docs[static_cast<size_t>(d.base)].id], 2) << d.id;
    }
  }
  ASSERT_EQ(positives, 150u);
  double precision = tp + fp ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0;
  double recall = static_cast<double>(tp) / static_cast<double>(positives);
  std::printf("precision %.3f recall %.3f (tp %zu fp %zu fn %zu)\n", precision, recall, tp, fp, fn);
  EXPECT_GE(precision, 0.95);
  EXPECT_GE(recall, 0.95);
  EXPECT_GT(r.rejected_pairs, 0u);  // the 0.7-level pairs often collide in a band
  EXPECT_EQ(r.fuzzy_docs, tp + fp);
  EXPECT_EQ(r.docs_in, docs.size());
  EXPECT_EQ(r.docs_out, kept.size());
  EXPECT_TRUE(std::filesystem::exists(dir.file("out/manifest.json")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("out/report.json")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("out/.dedup-spill")));
}

TEST(Dedup, ExactCopiesAndKeepPolicies) {
  TempDir dir;
  std::string body = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho";
  nlm::testing::write_text(dir.file("in.jsonl"),
                           "{\"id\":\"a\",\"text\":\"" + body + "\",\"q\":1}\n"
                           "{\"id\":\"b\",\"text\":\"  " + body + "  \",\"q\":5}\n"  // exact after normalising
                           "{\"id\":\"c\",\"text\":\"" + body + " sigma\",\"q\":3}\n"  // near duplicate
                           "{\"id\":\"d\",\"text\":\"nothing in common at all with the others here\"}\n"
                           "{\"id\":\"e\",\"text\":42}\n"  // wrong type: counted skip
                           "garbage\n");
  auto o = base_options(dir.file("first"));
  o.minhash.bands = 20;
  o.minhash.rows = 3;
  auto r = run_dedup({dir.file("in.jsonl")}, o);
  EXPECT_EQ(r.exact_docs, 1u);
  EXPECT_EQ(r.fuzzy_docs, 1u);
  EXPECT_EQ(r.read.skipped(), 2u);
  EXPECT_EQ(read_output(dir.file("first")), (std::map<std::string, double>{{"a", 3}, {"d", 1}}));

  o.shards.dir = dir.file("longest");
  o.keep = parse_keep_policy("longest");
  r = run_dedup({dir.file("in.jsonl")}, o);
  EXPECT_EQ(read_output(dir.file("longest")), (std::map<std::string, double>{{"c", 3}, {"d", 1}}));
  EXPECT_EQ(r.exact_docs, 0u);  // neither a nor b is an exact copy of c
  EXPECT_EQ(r.fuzzy_docs, 2u);

  o.shards.dir = dir.file("field");
  o.keep = parse_keep_policy("field:q");
  run_dedup({dir.file("in.jsonl")}, o);
  EXPECT_EQ(read_output(dir.file("field")), (std::map<std::string, double>{{"b", 3}, {"d", 1}}));

  o.shards.dir = dir.file("exact-only");
  o.keep = {};
  o.fuzzy = false;
  r = run_dedup({dir.file("in.jsonl")}, o);
  EXPECT_EQ(read_output(dir.file("exact-only")), (std::map<std::string, double>{{"a", 2}, {"c", 1}, {"d", 1}}));
  EXPECT_THROW(parse_keep_policy("biggest"), Error);
}

TEST(Dedup, SameBytesForAnyThreadCountAndSpillBudget) {
  TempDir dir;
  SyntheticOptions so;
  so.bases = 200;
  so.words = 60;
  auto docs = make_synthetic_corpus(so);
  for (int f = 0; f < 4; ++f) write_jsonl(dir.file("in/" + std::to_string(f) + ".jsonl"), docs, f * 100, (f + 1) * 100);
  std::vector<std::string> files;
  for (int f = 0; f < 4; ++f) files.push_back(dir.file("in/" + std::to_string(f) + ".jsonl"));
  std::string reference;
  for (int variant = 0; variant < 3; ++variant) {
    auto o = base_options(dir.file("out" + std::to_string(variant)));
    o.jaccard_check = variant == 2;
    o.jaccard_threshold = 0.5;
    if (variant >= 1) o.memory = 16 << 10;  // forces many spilled runs
    set_runtime_options({variant == 0 ? 1 : 2, true});
    auto r = run_dedup(files, o);
    if (variant >= 1) {
      EXPECT_GT(r.spill_runs, 2u);
    }
    if (variant == 2) {
      EXPECT_GT(r.jaccard_passes, 1u);  // shingle sets verified in blocks that fit 16 KiB
    }
    std::string out = testing::concat_shards(o.shards.dir);
    EXPECT_FALSE(out.empty());
    if (variant == 0) {
      reference = out;
    } else {
      EXPECT_EQ(out, reference) << "variant " << variant;
    }
  }
  set_runtime_options({});
}

TEST(Dedup, RerunSkipsFinishedOutputAndRedoesAnInterruptedOne) {
  TempDir dir;
  auto docs = make_synthetic_corpus({.bases = 20});
  write_jsonl(dir.file("in.jsonl"), docs);
  auto o = base_options(dir.file("out"));
  auto first = run_dedup({dir.file("in.jsonl")}, o);
  EXPECT_FALSE(first.up_to_date);
  std::string before = testing::concat_shards(o.shards.dir);
  EXPECT_TRUE(run_dedup({dir.file("in.jsonl")}, o).up_to_date);
  // A killed run leaves no manifest (ShardWriter removes it first) and maybe a stray spill folder.
  std::filesystem::remove(dir.file("out/manifest.json"));
  nlm::testing::write_text(dir.file("out/.dedup-spill/bands-0.run"), "torn");
  auto again = run_dedup({dir.file("in.jsonl")}, o);
  EXPECT_FALSE(again.up_to_date);
  EXPECT_EQ(testing::concat_shards(o.shards.dir), before);
  o.minhash.seed = 9;  // other options: redone
  EXPECT_FALSE(run_dedup({dir.file("in.jsonl")}, o).up_to_date);
}

TEST(DedupCli, RunsAndReportsErrors) {
  TempDir dir;
  auto docs = make_synthetic_corpus({.bases = 30});
  write_jsonl(dir.file("in.jsonl"), docs);
  auto r = nlm::testing::run_nativelm("-q dedup " + dir.file("in.jsonl") + " -o " + dir.file("out") +
                                          " --jaccard-check --memory 1M --keep longest",
                                      dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("documents in"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir.file("out/part-00000.jsonl.zst")));
  r = nlm::testing::run_nativelm("dedup " + dir.file("in.jsonl") + " -o " + dir.file("o2") + " --keep biggest", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nativelm: error: --keep must be first, longest or field:NAME"), std::string::npos) << r.err;
  r = nlm::testing::run_nativelm("dedup " + dir.file("in.jsonl") + " -o " + dir.file("o3") + " --memory lots", dir.path());
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace nlm::dedup
