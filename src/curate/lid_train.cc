// Labelled documents → a fastText training file in a temp folder → fasttext::FastText::train.
#include "curate/lid_train.h"

#include <fasttext/args.h>
#include <fasttext/fasttext.h>

#include <filesystem>
#include <fstream>

#include "core/options.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "corpus/reader.h"
#include "curate/lid.h"
#include "text/words.h"

namespace nlm::curate {
namespace fs = std::filesystem;

void declare(opt::Schema& s, LidTrainOptions& o) {
  s.add("output", o.output, "Model file to write (.bin; .ftz with quantize)").flag("-o,--output");
  s.add("label_field", o.label_field, "JSON member holding each document's label");
  s.add("epoch", o.epoch, "Passes over the data").range(1, 10000);
  s.add("lr", o.lr, "Learning rate").range(0, 10);
  s.add("dim", o.dim, "Vector size").range(1, 4096);
  s.add("word_ngrams", o.word_ngrams, "Word n-gram length").range(1, 10);
  s.add("minn", o.minn, "Shortest character n-gram (0 with maxn 0: none)").range(0, 20);
  s.add("maxn", o.maxn, "Longest character n-gram").range(0, 20);
  s.add("bucket", o.bucket, "Hash buckets for n-grams").range(1, 1ll << 31);
  s.add("threads", o.threads, "Training threads (1 is deterministic)").flag("--train-threads").range(1, 1024);
  s.add("seed", o.seed, "Random seed");
  s.add("quantize", o.quantize, "Quantise the model (fastText .ftz: about 10x smaller, slightly less accurate)");
  s.check([&o] {
    if (o.maxn < o.minn) opt::fail("maxn", "must be at least minn (" + std::to_string(o.minn) + "), got " +
                                               std::to_string(o.maxn));
  });
}

std::string training_summary(uint64_t examples, const std::map<std::string, uint64_t>& labels, uint64_t unlabelled) {
  std::string s = "trained on " + std::to_string(examples) + " documents (";
  bool first = true;
  for (const auto& [k, v] : labels) {
    s += (first ? "" : ", ") + k + ": " + std::to_string(v);
    first = false;
  }
  return s + "); skipped " + std::to_string(unlabelled) + " without a label";
}

std::string LidTrainResult::summary() const { return training_summary(examples, labels, unlabelled); }

TrainingFileCounts write_training_file(
    const std::vector<std::string>& files, const corpus::ReadOptions& read, const std::string& label_field,
    const std::string& path, const std::function<void(std::string_view, text::WordSegmenter&, std::string&)>& features) {
  TrainingFileCounts n;
  std::ofstream train(path, std::ios::binary);
  if (!train) runtime_error("cannot write the training file", path);
  text::WordSegmenter seg;
  std::string line;
  corpus::Diagnostics diag(read.max_reported, read.strict);
  corpus::Document doc;
  for (const auto& f : files) {
    corpus::DocumentReader reader(f, read, &diag);
    while (reader.next(doc)) {
      auto label = doc.string_field(label_field);
      if (!label || label->empty() || label->find_first_of(" \t\n") != std::string::npos) {
        ++n.unlabelled;
        continue;
      }
      features(doc.text, seg, line);
      if (line.empty()) {
        ++n.empty;
        continue;
      }
      train << "__label__" << *label << ' ' << line << '\n';
      ++n.labels[*label];
      ++n.examples;
    }
  }
  train.close();
  if (!train) runtime_error("cannot write the training file", path);
  return n;
}

void train_fasttext_model(const fasttext::Args& a, bool quantize) {
  fasttext::FastText ft;
  try {
    ft.train(a);
    if (quantize) {
      fasttext::Args q = a;
      q.qnorm = true;
      q.retrain = false;
      q.cutoff = 0;
      q.dsub = 2;
      ft.quantize(q);
    }
    std::string tmp = a.output + ".tmp";
    ft.saveModel(tmp);
    fs::rename(tmp, a.output);
  } catch (const std::exception& e) {
    fs::remove(a.input);
    runtime_error(std::string("fastText training failed: ") + e.what(), a.output);
  }
  fs::remove(a.input);
}

LidTrainResult train_lid(const std::vector<std::string>& files, const LidTrainOptions& o) {
  LidTrainResult r;
  fs::path out(o.output);
  if (out.has_parent_path()) make_dirs(out.parent_path().string());
  std::string train_path = o.output + ".train.tmp";
  TrainingFileCounts n = write_training_file(files, o.read, o.label_field, train_path,
                                             [](std::string_view text, text::WordSegmenter& seg, std::string& line) {
                                               fasttext_words(text, seg, line);
                                             });
  r.examples = n.examples;
  r.unlabelled = n.unlabelled;
  r.labels = n.labels;
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
  train_fasttext_model(a, o.quantize);
  return r;
}

}  // namespace nlm::curate
