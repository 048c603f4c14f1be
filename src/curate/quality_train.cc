// Labelled documents → a fastText training file in quality_words form → fasttext::FastText::train;
// and the held-out evaluation of a trained model (AUC, accuracy, per-label score distributions).
#include "curate/quality_train.h"

#include <fasttext/args.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "corpus/reader.h"
#include "curate/lid_train.h"
#include "curate/quality.h"
#include "text/words.h"

namespace nlm::curate {
namespace fs = std::filesystem;

void declare(opt::Schema& s, QualityTrainOptions& o) {
  s.add("output", o.output, "Model file to write (.bin; .ftz with quantize)").flag("-o,--output");
  s.add("label_field", o.label_field, "JSON member holding each document's label (e.g. hq, lq)");
  s.add("epoch", o.epoch, "Passes over the data").range(1, 10000);
  s.add("lr", o.lr, "Learning rate").range(0, 10);
  s.add("dim", o.dim, "Vector size").range(1, 4096);
  s.add("word_ngrams", o.word_ngrams, "Word n-gram length").range(1, 10);
  s.add("min_count", o.min_count, "Words seen fewer times are dropped").range(1, 1ll << 31);
  s.add("bucket", o.bucket, "Hash buckets for word n-grams").range(1, 1ll << 31);
  s.add("max_bytes", o.max_bytes, "Bytes of each document used (as the quality step's max_bytes)").min(1);
  s.add("threads", o.threads, "Training threads (1 is deterministic)").flag("--train-threads").range(1, 1024);
  s.add("seed", o.seed, "Random seed");
  s.add("quantize", o.quantize, "Quantise the model (fastText .ftz: about 10x smaller, slightly less accurate)");
}

void declare(opt::Schema& s, QualityEvalOptions& o) {
  s.add("model", o.model, "Model from nativelm quality train (required)");
  s.add("label", o.label, "The label the score is the probability of; other labels count as negative");
  s.add("label_field", o.label_field, "JSON member holding each document's true label");
  s.add("threshold", o.threshold, "Score at or above which a document is called positive (accuracy)").range(0, 1);
  s.add("max_bytes", o.max_bytes, "Bytes of each document scored (as the quality step's max_bytes)").min(1);
  s.add("json", o.json, "Print the figures as JSON instead of a table");
  s.check([&o] {
    if (o.model.empty()) opt::fail("model", "is required", "pass --model FILE from nativelm quality train");
  });
}

std::string QualityTrainResult::summary() const {
  std::string s = training_summary(examples, labels, unlabelled);
  if (empty) s += " and " + std::to_string(empty) + " without words";
  return s;
}

QualityTrainResult train_quality(const std::vector<std::string>& files, const QualityTrainOptions& o) {
  QualityTrainResult r;
  if (files.empty()) usage_error("no input files", "quality train", "name labelled JSONL files, folders or globs");
  fs::path out(o.output);
  if (out.has_parent_path()) make_dirs(out.parent_path().string());
  std::string train_path = o.output + ".train.tmp";
  const auto max_bytes = static_cast<size_t>(o.max_bytes);
  TrainingFileCounts n = write_training_file(
      files, o.read, o.label_field, train_path,
      [max_bytes](std::string_view text, text::WordSegmenter& seg, std::string& line) {
        quality_words(text, max_bytes, seg, line);
      });
  r.examples = n.examples;
  r.unlabelled = n.unlabelled;
  r.empty = n.empty;
  r.labels = n.labels;
  if (r.labels.size() < 2) {
    fs::remove(train_path);
    if (r.labels.empty())
      usage_error("no labelled documents", "quality train",
                  "give each document a '" + o.label_field + "' string field, e.g. hq for curated text and lq for crawl");
    usage_error("only one label ('" + r.labels.begin()->first + "') in the training data", "quality train",
                "a classifier needs documents of at least two labels, e.g. hq for curated text and lq for crawl");
  }
  fasttext::Args a;
  a.input = train_path;
  a.output = o.output;
  a.model = fasttext::model_name::sup;
  a.loss = fasttext::loss_name::softmax;
  a.minCount = static_cast<int>(o.min_count);
  a.epoch = static_cast<int>(o.epoch);
  a.lr = o.lr;
  a.dim = static_cast<int>(o.dim);
  a.wordNgrams = static_cast<int>(o.word_ngrams);
  a.minn = 0;
  a.maxn = 0;
  a.bucket = static_cast<int>(o.bucket);
  a.thread = static_cast<int>(std::max<int64_t>(1, o.threads));
  a.seed = static_cast<int>(o.seed);
  a.verbose = 0;
  train_fasttext_model(a, o.quantize);
  return r;
}

double roc_auc(std::vector<double> pos, std::vector<double> neg) {
  if (pos.empty() || neg.empty()) return 0.5;
  std::sort(pos.begin(), pos.end());
  std::sort(neg.begin(), neg.end());
  // For each positive: negatives strictly below it, plus half of those equal.
  double sum = 0;
  size_t below = 0, upto = 0;
  for (double p : pos) {
    while (below < neg.size() && neg[below] < p) ++below;
    upto = std::max(upto, below);
    while (upto < neg.size() && neg[upto] <= p) ++upto;
    sum += static_cast<double>(below) + 0.5 * static_cast<double>(upto - below);
  }
  return sum / (static_cast<double>(pos.size()) * static_cast<double>(neg.size()));
}

namespace {
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, i == 0 ? 0 : i - 1)];
}
double round4(double x) { return std::round(x * 10000) / 10000; }
}  // namespace

QualityEvalResult quality_eval(const std::vector<std::string>& files, const QualityEvalOptions& o) {
  QualityScorer scorer(o.model, o.label, o.max_bytes);
  QualityEvalResult r;
  r.positive = o.label;
  r.threshold = o.threshold;
  std::map<std::string, std::vector<double>> scores;
  corpus::Diagnostics diag(o.read.max_reported, o.read.strict);
  corpus::Document doc;
  for (const auto& f : files) {
    corpus::DocumentReader reader(f, o.read, &diag);
    while (reader.next(doc)) {
      ++r.docs;
      auto label = doc.string_field(o.label_field);
      if (!label || label->empty()) {
        ++r.unlabelled;
        continue;
      }
      scores[*label].push_back(scorer.score(doc.text));
    }
  }
  if (scores.empty())
    usage_error("no labelled documents", "quality eval", "give each document a '" + o.label_field + "' string field");
  std::vector<double> pos, neg;
  for (const auto& [label, v] : scores) {
    std::vector<double>& side = label == o.label ? pos : neg;
    side.insert(side.end(), v.begin(), v.end());
  }
  if (pos.empty() || neg.empty())
    usage_error(std::string("the data has no ") + (pos.empty() ? "positive ('" + o.label + "')" : "negative") +
                    " documents",
                "quality eval", "AUC needs documents labelled '" + o.label + "' and documents with other labels");
  r.positives = pos.size();
  r.negatives = neg.size();
  r.auc = roc_auc(pos, neg);
  uint64_t tp = 0, fp = 0, tn = 0, fn = 0;
  for (double s : pos) (s >= o.threshold ? tp : fn) += 1;
  for (double s : neg) (s >= o.threshold ? fp : tn) += 1;
  r.accuracy = static_cast<double>(tp + tn) / static_cast<double>(pos.size() + neg.size());
  r.precision = tp + fp ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0;
  r.recall = static_cast<double>(tp) / static_cast<double>(pos.size());
  for (auto& [label, v] : scores) {
    std::sort(v.begin(), v.end());
    QualityLabelScores l;
    l.label = label;
    l.docs = v.size();
    double sum = 0;
    l.histogram.assign(10, 0);
    for (double s : v) {
      sum += s;
      ++l.histogram[std::min<size_t>(9, static_cast<size_t>(s * 10))];
    }
    l.mean = sum / static_cast<double>(v.size());
    l.p10 = quantile(v, 0.1);
    l.p25 = quantile(v, 0.25);
    l.p50 = quantile(v, 0.5);
    l.p75 = quantile(v, 0.75);
    l.p90 = quantile(v, 0.9);
    r.labels.push_back(std::move(l));
  }
  return r;
}

std::string QualityEvalResult::to_table() const {
  char buf[256];
  std::string t;
  std::snprintf(buf, sizeof buf, "documents %llu (%llu %s, %llu other), %llu without a label\n",
                static_cast<unsigned long long>(docs), static_cast<unsigned long long>(positives), positive.c_str(),
                static_cast<unsigned long long>(negatives), static_cast<unsigned long long>(unlabelled));
  t += buf;
  std::snprintf(buf, sizeof buf, "AUC %.4f\naccuracy %.4f, precision %.4f, recall %.4f at threshold %g\n", auc,
                accuracy, precision, recall, threshold);
  t += buf;
  t += "\nscore of P(" + positive + ") by label:\n";
  std::snprintf(buf, sizeof buf, "%-12s %8s %7s %7s %7s %7s %7s %7s  %s\n", "label", "docs", "mean", "p10", "p25",
                "p50", "p75", "p90", "histogram 0.0-1.0 (10 bins)");
  t += buf;
  for (const auto& l : labels) {
    std::snprintf(buf, sizeof buf, "%-12s %8llu %7.4f %7.4f %7.4f %7.4f %7.4f %7.4f ", l.label.c_str(),
                  static_cast<unsigned long long>(l.docs), l.mean, l.p10, l.p25, l.p50, l.p75, l.p90);
    t += buf;
    for (uint64_t n : l.histogram) t += " " + std::to_string(n);
    t += "\n";
  }
  return t;
}

std::string QualityEvalResult::to_json() const {
  nlohmann::ordered_json j;
  j["positive"] = positive;
  j["documents"] = docs;
  j["unlabelled"] = unlabelled;
  j["positives"] = positives;
  j["negatives"] = negatives;
  j["auc"] = round4(auc);
  j["threshold"] = threshold;
  j["accuracy"] = round4(accuracy);
  j["precision"] = round4(precision);
  j["recall"] = round4(recall);
  nlohmann::ordered_json per = nlohmann::ordered_json::object();
  for (const auto& l : labels) {
    nlohmann::ordered_json x;
    x["documents"] = l.docs;
    x["mean"] = round4(l.mean);
    x["p10"] = l.p10;
    x["p25"] = l.p25;
    x["p50"] = l.p50;
    x["p75"] = l.p75;
    x["p90"] = l.p90;
    x["histogram"] = l.histogram;
    per[l.label] = x;
  }
  j["labels"] = per;
  return j.dump(2);
}

}  // namespace nlm::curate
