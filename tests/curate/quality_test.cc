// `quality train` / `quality eval` and the quality curate step on real text: Debian's license
// texts (/usr/share/common-licenses, always installed) as the clean class, and the same text
// corrupted the way crawl junk looks (menus, repeated lines, character soup, keyword lists,
// truncated lines) as the noisy class. A model trained on one split must rank the held-out clean
// documents above the held-out noisy ones, and the step must give the same bytes on 1 and 2 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/runtime.h"
#include "curate/curate.h"
#include "curate/quality.h"
#include "curate/quality_train.h"
#include "test_util.h"
#include "text/words.h"

namespace {
using namespace nlm::curate;
namespace fs = std::filesystem;

// Documents of whole paragraphs, at least 300 bytes each, from every distinct license file.
std::vector<std::string> license_documents() {
  std::set<fs::path> seen;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator("/usr/share/common-licenses")) {
    std::error_code ec;
    fs::path real = fs::canonical(e.path(), ec);
    if (!ec && fs::is_regular_file(real) && seen.insert(real).second) files.push_back(real);
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> docs;
  for (const auto& f : files) {
    std::string text = nlm::testing::read_text(f.string()), para, doc;
    std::vector<std::string> paras;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t\f") == std::string::npos) {
        if (!para.empty()) paras.push_back(para);
        para.clear();
      } else {
        para += line + "\n";
      }
    }
    if (!para.empty()) paras.push_back(para);
    for (const auto& p : paras) {
      doc += p + "\n";
      if (doc.size() >= 300) {
        docs.push_back(doc);
        doc.clear();
      }
    }
  }
  return docs;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// `text` turned into crawl junk; the kind depends on `rng`.
std::string corrupt(const std::string& text, std::mt19937_64& rng) {
  const char* menu[] = {"Home", "About us", "Contact", "Login", "Register", "Cart (0)", "Blog", "FAQ",
                        "Privacy", "Terms", "Sitemap", "Shop", "Deals", "Support"};
  auto words = words_of(text);
  auto lines = lines_of(text);
  std::string out;
  switch (rng() % 5) {
    case 0:  // navigation menus around a few fragments
      for (int i = 0; i < 12; ++i) {
        for (int k = 0; k < 5; ++k) out += std::string(k ? " | " : "") + menu[rng() % 14];
        out += "\n";
        if (i % 4 == 0 && !lines.empty()) out += lines[rng() % lines.size()] + "\n";
      }
      out += "Copyright 2024. All rights reserved. | Cookie settings\n";
      break;
    case 1:  // the same lines over and over
      for (int i = 0; i < 15; ++i) out += lines[i % std::min<size_t>(2, lines.size())] + "\n";
      break;
    case 2: {  // character soup
      const std::string soup = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789#@$%&*=+/\\~^_<>{}[];:";
      for (int i = 0; i < 600; ++i) {
        out += soup[rng() % soup.size()];
        if (rng() % 7 == 0) out += rng() % 5 ? ' ' : '\n';
      }
      break;
    }
    case 3:  // keyword lists
      for (int i = 0; i < 60 && !words.empty(); ++i) {
        std::string w = words[rng() % words.size()];
        out += (i ? (rng() % 2 ? ", " : " | ") : "") + std::string(rng() % 3 ? "free " : "best cheap ") + w;
      }
      out += "\nfree download cheap online buy now best price 2024\n";
      break;
    default:  // lines cut after a few words
      for (const auto& l : lines) {
        auto lw = words_of(l);
        size_t n = std::min<size_t>(lw.size(), 1 + rng() % 3);
        for (size_t i = 0; i < n; ++i) out += (i ? " " : "") + lw[i];
        out += "\n";
      }
  }
  return out;
}

struct Split {
  std::string train, test;           // labelled JSONL
  std::vector<std::string> test_docs;  // the test documents' texts, clean then noisy interleaved
};

// Every fourth document is held out; within each side, alternate documents are kept clean or
// corrupted, so no text is both a clean and a noisy example.
Split make_split() {
  auto docs = license_documents();
  std::mt19937_64 rng(7);
  Split s;
  for (size_t i = 0; i < docs.size(); ++i) {
    bool clean = (i / 4) % 2 == 0;
    std::string text = clean ? docs[i] : corrupt(docs[i], rng);
    std::string line = nlohmann::json{{"text", text}, {"quality", clean ? "hq" : "lq"}}.dump() + "\n";
    if (i % 4 == 3) {
      s.test += line;
      s.test_docs.push_back(text);
    } else {
      s.train += line;
    }
  }
  return s;
}

QualityTrainOptions small_model(const std::string& out) {
  QualityTrainOptions o;
  o.output = out;
  o.bucket = 50000;  // a small model for a small corpus
  o.epoch = 20;
  return o;
}

class CurateQuality : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    nlm::RuntimeOptions rt;
    rt.quiet = true;
    nlm::set_runtime_options(rt);
    dir_ = new nlm::testing::TempDir;
    split_ = new Split(make_split());
    nlm::testing::write_text(dir_->file("train.jsonl"), split_->train);
    nlm::testing::write_text(dir_->file("test.jsonl"), split_->test);
    result_ = new QualityTrainResult(train_quality({dir_->file("train.jsonl")}, small_model(model())));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete split_;
    delete dir_;
  }
  static std::string model() { return dir_->file("quality.bin"); }
  static nlm::testing::TempDir* dir_;
  static Split* split_;
  static QualityTrainResult* result_;
};
nlm::testing::TempDir* CurateQuality::dir_ = nullptr;
Split* CurateQuality::split_ = nullptr;
QualityTrainResult* CurateQuality::result_ = nullptr;

TEST_F(CurateQuality, HeldOutCleanRanksAboveHeldOutNoisy) {
  ASSERT_GT(result_->labels["hq"], 100u) << result_->summary();
  ASSERT_GT(result_->labels["lq"], 100u);
  QualityEvalOptions e;
  e.model = model();
  QualityEvalResult r = quality_eval({dir_->file("test.jsonl")}, e);
  std::printf("%s", r.to_table().c_str());
  EXPECT_GE(r.auc, 0.9);
  EXPECT_GE(r.accuracy, 0.8);
  ASSERT_EQ(r.labels.size(), 2u);
  EXPECT_EQ(r.labels[0].label, "hq");
  EXPECT_GT(r.labels[0].p50, r.labels[1].p50);
  auto j = nlohmann::json::parse(r.to_json());
  EXPECT_EQ(j["labels"]["lq"]["documents"].get<uint64_t>(), r.negatives);
  EXPECT_DOUBLE_EQ(j["auc"].get<double>(), std::round(r.auc * 10000) / 10000);
}

TEST(CurateQualityAuc, CountsTiesHalf) {
  EXPECT_DOUBLE_EQ(roc_auc({0.9, 0.8}, {0.1, 0.2}), 1.0);
  EXPECT_DOUBLE_EQ(roc_auc({0.1}, {0.9}), 0.0);
  EXPECT_DOUBLE_EQ(roc_auc({0.5, 0.5}, {0.5}), 0.5);
  EXPECT_DOUBLE_EQ(roc_auc({0.5, 0.9}, {0.5, 0.1}), (0.5 + 1 + 1 + 1) / 4);
}

TEST(CurateQualityWords, KeepsPunctuationAndLayout) {
  nlm::text::WordSegmenter seg;
  std::string out;
  quality_words("Home | Cart (3)\n\nThe GPL, version 2.", 1000, seg, out);
  EXPECT_EQ(out, "home | cart ( 0 ) <p> the gpl , version 0 .");
  quality_words("abcdef", 3, seg, out);
  EXPECT_EQ(out, "abc");
}

// Curate over three shards with the quality step alone.
std::vector<std::string> curate_bytes(const std::vector<std::string>& inputs, const std::string& out,
                                      const QualityOptions& q, int threads) {
  CurateOptions o;
  o.output_dir = out + "/kept";
  o.rejects_dir = out + "/rejects";
  o.extension = ".jsonl";
  o.threads = threads;
  o.chain.steps = {"quality"};
  o.chain.quality = q;
  run_curate(inputs, o);
  std::vector<std::string> bytes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "part-%05zu.jsonl", i);
    bytes.push_back(nlm::testing::read_text(o.output_dir + "/" + name));
    bytes.push_back(nlm::testing::read_text(o.rejects_dir + "/" + name));
  }
  return bytes;
}

TEST_F(CurateQuality, StepIsDeterministicAcrossThreadCounts) {
  std::vector<std::string> inputs;
  std::string shard[3];
  for (size_t i = 0; i < split_->test_docs.size(); ++i)
    shard[i % 3] += nlohmann::json{{"text", split_->test_docs[i]}, {"id", std::to_string(i)}}.dump() + "\n";
  for (int s = 0; s < 3; ++s) {
    inputs.push_back(dir_->file("in/" + std::to_string(s) + ".jsonl"));
    nlm::testing::write_text(inputs.back(), shard[s]);
  }
  QualityOptions q;
  q.model = model();
  auto one = curate_bytes(inputs, dir_->file("t1"), q, 1);
  auto two = curate_bytes(inputs, dir_->file("t2"), q, 2);
  EXPECT_EQ(one, two);
  size_t kept = 0, rejected = 0;
  for (size_t i = 0; i < one.size(); i += 2) {
    for (const auto& line : lines_of(one[i])) {
      auto j = nlohmann::json::parse(line);
      EXPECT_GE(j["quality_score"].get<double>(), 0.5);
      ++kept;
    }
    for (const auto& line : lines_of(one[i + 1])) {
      auto j = nlohmann::json::parse(line);
      EXPECT_EQ(j["reject_reason"], "quality.threshold");
      EXPECT_LT(j["quality_score"].get<double>(), 0.5);
      ++rejected;
    }
  }
  EXPECT_EQ(kept + rejected, split_->test_docs.size());
  EXPECT_GT(kept, 0u);
  EXPECT_GT(rejected, 0u);

  // keep_fraction: one cut over all shards, the same on 1 and 2 threads.
  q.keep_fraction = 0.3;
  q.field = "q";
  auto f1 = curate_bytes(inputs, dir_->file("f1"), q, 1);
  auto f2 = curate_bytes(inputs, dir_->file("f2"), q, 2);
  EXPECT_EQ(f1, f2);
  std::vector<double> kept_scores, rejected_scores;
  for (size_t i = 0; i < f1.size(); i += 2) {
    for (const auto& line : lines_of(f1[i])) kept_scores.push_back(nlohmann::json::parse(line)["q"].get<double>());
    for (const auto& line : lines_of(f1[i + 1])) {
      auto j = nlohmann::json::parse(line);
      EXPECT_EQ(j["reject_reason"], "quality.keep_fraction");
      rejected_scores.push_back(j["q"].get<double>());
    }
  }
  double n = static_cast<double>(kept_scores.size() + rejected_scores.size());
  EXPECT_GE(static_cast<double>(kept_scores.size()), 0.3 * n);
  EXPECT_LE(static_cast<double>(kept_scores.size()), 0.3 * n + 10);  // ties at the cut are kept
  ASSERT_FALSE(kept_scores.empty());
  ASSERT_FALSE(rejected_scores.empty());
  EXPECT_GT(*std::min_element(kept_scores.begin(), kept_scores.end()),
            *std::max_element(rejected_scores.begin(), rejected_scores.end()));
}

// keep_fraction under mpirun: the ranks score their own shards and sum the score counts, so the
// cut, and every byte, is the one process's.
TEST_F(CurateQuality, KeepFractionCutIsTheSameOverMpiRanks) {
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not installed";
  std::string shard[3];
  for (size_t i = 0; i < split_->test_docs.size(); ++i)
    shard[i % 3] += nlohmann::json{{"text", split_->test_docs[i]}, {"id", std::to_string(i)}}.dump() + "\n";
  for (int s = 0; s < 3; ++s) nlm::testing::write_text(dir_->file("mpi/in/" + std::to_string(s) + ".jsonl"), shard[s]);
  nlm::testing::write_text(dir_->file("mpi/cut.yaml"), "steps:\n  - quality: {model: " + model() +
                                                            ", keep_fraction: 0.3, field: q}\n");
  auto run = [&](int np) {
    std::string out = dir_->file("mpi/np" + std::to_string(np));
    std::string cmd = (np == 1 ? std::string()
                               : "mpirun --allow-run-as-root --oversubscribe --mca pml ob1 --mca btl self,vader -np " +
                                     std::to_string(np) + " ") +
                      NATIVELM_BIN + " -q curate " + dir_->file("mpi/in") + " --config " + dir_->file("mpi/cut.yaml") +
                      " --extension .jsonl -o " + out + "/kept --rejects " + out + "/rejects >" + dir_->file("mpi/log") +
                      " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << nlm::testing::read_text(dir_->file("mpi/log"));
    std::string all;
    for (const char* sub : {"/kept/", "/rejects/"})
      for (int i = 0; i < 3; ++i) all += nlm::testing::read_text(out + sub + "part-0000" + std::to_string(i) + ".jsonl");
    return all;
  };
  std::string one = run(1);
  ASSERT_NE(one.find("quality.keep_fraction"), std::string::npos);
  EXPECT_EQ(run(2), one);
  EXPECT_EQ(run(3), one);
}

TEST_F(CurateQuality, BadInputsAreUsageErrors) {
  auto usage = [](auto&& fn, const std::string& needle) {
    try {
      fn();
      ADD_FAILURE() << "no error; wanted " << needle;
    } catch (const nlm::Error& e) {
      EXPECT_EQ(e.exit_code(), 2) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto o = small_model(dir_->file("bad/model.bin"));
  nlm::testing::write_text(dir_->file("bad/empty.jsonl"), "");
  usage([&] { train_quality({dir_->file("bad/empty.jsonl")}, o); }, "no labelled documents");
  nlm::testing::write_text(dir_->file("bad/nolabel.jsonl"), "{\"text\": \"some text here\"}\n");
  usage([&] { train_quality({dir_->file("bad/nolabel.jsonl")}, o); }, "no labelled documents");
  nlm::testing::write_text(dir_->file("bad/one.jsonl"),
                           "{\"text\": \"some text here\", \"quality\": \"hq\"}\n{\"text\": \"more text\", \"quality\": \"hq\"}\n");
  usage([&] { train_quality({dir_->file("bad/one.jsonl")}, o); }, "only one label");
  EXPECT_FALSE(fs::exists(o.output));

  usage([&] { QualityScorer(dir_->file("bad/missing.bin"), "hq", 100); }, "cannot load fastText model");
  nlm::testing::write_text(dir_->file("bad/garbage.bin"), std::string(4096, 'x'));
  usage([&] { QualityScorer(dir_->file("bad/garbage.bin"), "hq", 100); }, "cannot load fastText model");
  std::string whole = nlm::testing::read_text(model());
  nlm::testing::write_text(dir_->file("bad/truncated.bin"), whole.substr(0, whole.size() / 2));
  usage([&] { QualityScorer(dir_->file("bad/truncated.bin"), "hq", 100); }, "the file is truncated");
  usage([&] { QualityScorer(model(), "good", 100); }, "no label 'good'");
  QualityEvalOptions e;
  e.model = model();
  usage([&] { quality_eval({dir_->file("bad/one.jsonl")}, e); }, "no negative");
  usage([&] { quality_eval({dir_->file("bad/nolabel.jsonl")}, e); }, "no labelled documents");
  CurateOptions c;
  c.output_dir = dir_->file("bad/out");
  c.chain.steps = {"quality"};
  usage([&] { run_curate({dir_->file("bad/one.jsonl")}, c); }, "needs a model");
}

}  // namespace
