// Labelled documents → a fastText training file in a temp folder → fasttext::FastText::train.
#include "curate/lid_train.h"

#include <fasttext/args.h>
#include <fasttext/fasttext.h>

#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "corpus/reader.h"
#include "curate/lid.h"
#include "text/words.h"

namespace nlm::curate {
namespace fs = std::filesystem;

void LidTrainOptions::visit(ParamVisitor& v) {
  v.on("label_field", label_field, "JSON member with the label");
  v.on("output", output, "model file to write");
  v.on("epoch", epoch, "passes over the data");
  v.on("lr", lr, "learning rate");
  v.on("dim", dim, "vector size");
  v.on("word_ngrams", word_ngrams, "word n-gram length");
  v.on("minn", minn, "shortest character n-gram");
  v.on("maxn", maxn, "longest character n-gram");
  v.on("bucket", bucket, "hash buckets for n-grams");
  v.on("threads", threads, "training threads (1 is deterministic)");
  v.on("seed", seed, "random seed");
}

std::string LidTrainResult::summary() const {
  std::string s = "trained on " + std::to_string(examples) + " documents (";
  bool first = true;
  for (const auto& [k, v] : labels) {
    s += (first ? "" : ", ") + k + ": " + std::to_string(v);
    first = false;
  }
  return s + "); skipped " + std::to_string(unlabelled) + " without a label";
}

LidTrainResult train_lid(const std::vector<std::string>& files, const corpus::ReadOptions& read,
                         const LidTrainOptions& o) {
  LidTrainResult r;
  fs::path out(o.output);
  if (out.has_parent_path()) make_dirs(out.parent_path().string());
  std::string train_path = o.output + ".train.tmp";
  {
    std::ofstream train(train_path, std::ios::binary);
    if (!train) runtime_error("cannot write the training file", train_path);
    text::WordSegmenter seg;
    std::string line;
    corpus::Diagnostics diag(read.max_reported, read.strict);
    for (const auto& f : files) {
      corpus::DocumentReader reader(f, read, &diag);
      corpus::Document doc;
      while (reader.next(doc)) {
        auto label = doc.string_field(o.label_field);
        if (!label || label->empty() || label->find_first_of(" \t\n") != std::string::npos) {
          ++r.unlabelled;
          continue;
        }
        fasttext_words(doc.text, seg, line);
        if (line.empty()) continue;
        train << "__label__" << *label << ' ' << line << '\n';
        ++r.labels[*label];
        ++r.examples;
      }
    }
  }
  if (r.examples == 0) {
    fs::remove(train_path);
    usage_error("no labelled documents", "lid train", "give each document a '" + o.label_field + "' string field");
  }
  fasttext::Args a;
  a.input = train_path;
  a.output = o.output;
  a.model = fasttext::model_name::sup;
  a.loss = fasttext::loss_name::softmax;
  a.minCount = 1;
  a.epoch = static_cast<int>(o.epoch);
  a.lr = o.lr;
  a.dim = static_cast<int>(o.dim);
  a.wordNgrams = static_cast<int>(o.word_ngrams);
  a.minn = static_cast<int>(o.minn);
  a.maxn = static_cast<int>(o.maxn);
  a.bucket = static_cast<int>(o.bucket);
  a.thread = static_cast<int>(std::max<int64_t>(1, o.threads));
  a.seed = static_cast<int>(o.seed);
  a.verbose = 0;
  fasttext::FastText ft;
  try {
    ft.train(a);
    // Save beside the target, then publish by rename so a crash never leaves a torn model.
    std::string tmp = o.output + ".tmp";
    ft.saveModel(tmp);
    fs::rename(tmp, o.output);
  } catch (const std::exception& e) {
    fs::remove(train_path);
    runtime_error(std::string("fastText training failed: ") + e.what(), o.output);
  }
  fs::remove(train_path);
  return r;
}

}  // namespace nlm::curate
