// The `tokenizer` and `tokenize` stages. `tokenizer` trains a BPE tokenizer on the newest
// documents (the options of `nativelm tokenizer train`), or extends a base one (`base`: the options
// of `nativelm tokenizer extend`), through the same library calls as the CLI
// (tokenizer::train_and_publish / extend_and_publish), then measures fertility for the report.
// `tokenize` writes token shards with the options of `nativelm tokenize` (data::declare).
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_escape.h"
#include "core/manifest.h"
#include "data/tokenize_shards.h"
#include "pipeline/stages.h"
#include "tokenizer/publish.h"
#include "tokenizer/stats.h"

namespace nlm::pipeline {
namespace {
namespace fs = std::filesystem;

// The stage's own options: the fertility table of the report.
struct MeasureOptions {
  // A tokenizer.json (or folder) whose fertility the report shows beside the new tokenizer's.
  std::string reference;
  // Documents measured for the report's fertility table.
  uint64_t stats_docs = 2000;
};

void declare(opt::Schema& s, MeasureOptions& o) {
  s.add("reference", o.reference, "A tokenizer.json to compare fertility with in the report");
  s.add("stats_docs", o.stats_docs, "Documents measured for the report's fertility table");
}

// Two JSON objects as one (the members of `b` after those of `a`).
std::string joined(const std::string& a, const std::string& b) {
  size_t close = a.rfind('}');
  bool a_empty = a.find_first_not_of(" {") == close, b_empty = b.find_first_not_of(" {") == b.rfind('}');
  return a.substr(0, close) + (a_empty || b_empty ? "" : ",") + b.substr(b.find('{') + 1);
}

// The keys of tokenizer::declare_layout: they shape a fresh vocabulary, so they do not apply
// when a base tokenizer is extended.
std::vector<std::string> layout_keys() {
  tokenizer::TrainOptions o;
  opt::Schema s("");
  tokenizer::declare_layout(s, o);
  std::vector<std::string> keys;
  for (const auto& f : s.fields()) keys.push_back(f.key);
  return keys;
}

class TokenizerStage : public Stage {
 public:
  explicit TokenizerStage(const Fields& f) {
    // One schema over one options struct: base, new_tokens and the counting options (extend),
    // the vocabulary layout (train), and the report's measure.
    tokenizer::declare(schema_, options_);
    tokenizer::declare_layout(schema_, options_.extend.train);
    declare(schema_, measure_);
    schema_.check([this] {
      if (options_.base.empty()) return;
      for (const auto& key : layout_keys())
        if (schema_.given(key))
          opt::fail(key, "does not apply when extending a base tokenizer",
                    key == "vocab_size" ? "set new_tokens instead" : "the base tokenizer fixes it; drop the key");
    });
    namer_ = apply_stage_options(schema_, f);
  }
  std::string name() const override { return "tokenizer"; }
  // The options of the command this stage runs (`tokenizer train` or `tokenizer extend`, as the
  // CLI's --print-options shows them), the measure options, and the hashes of the files they name.
  std::string options_json() const override {
    std::string j = extending() ? opt::json_of(options_) : opt::json_of(train_options(""));
    j = joined(j, opt::json_of(measure_));
    if (extending()) j = opt::with_member(j, "base_hash", json_quote(describe_file(base_file()).hash));
    if (!measure_.reference.empty())
      j = opt::with_member(j, "reference_hash", json_quote(describe_file(reference_file()).hash));
    return j;
  }
  std::string run(const std::string& dir, const Artifacts& in, bool) override {
    nlohmann::json summary;
    if (!extending()) {
      tokenizer::TrainTokenizerOptions o = train_options(dir);
      o.train.read = in.read;
      auto r = opt::named(namer_, [&] { return tokenizer::train_and_publish(in.documents, o); });
      summary = nlohmann::json::parse(r.to_json());
    } else {
      // Extension of an existing tokenizer (continued pretraining): new tokens and merges are
      // appended, and new_tokens.json maps each new id to its old pieces for the train stage.
      tokenizer::ExtendTokenizerOptions o = options_;
      o.output = dir;
      o.extend.train.read = in.read;
      auto r = opt::named(namer_, [&] { return tokenizer::extend_and_publish(in.documents, o); });
      summary = nlohmann::json::parse(r.to_json());
    }
    summary["fertility"] = opt::named(namer_, [&] { return fertility(dir, in); });
    return summary.dump();
  }
  Artifacts outputs(const std::string& dir, const Artifacts& in) const override {
    Artifacts a = in;
    a.tokenizer = (fs::path(dir) / "tokenizer.json").string();
    a.vocab_extension = extending() ? (fs::path(dir) / "new_tokens.json").string() : "";
    return a;
  }

 private:
  bool extending() const { return !options_.base.empty(); }
  tokenizer::TrainTokenizerOptions train_options(const std::string& dir) const {
    return {dir, options_.extend.train};
  }
  std::string base_file() const { return tokenizer::tokenizer_file(options_.base); }
  std::string reference_file() const { return tokenizer::tokenizer_file(measure_.reference); }

  // Per language: fertility, bytes per token and continued words of the new tokenizer on the
  // first `stats_docs` documents, next to the reference tokenizer's when one is given.
  nlohmann::json fertility(const std::string& dir, const Artifacts& in) const {
    tokenizer::StatsOptions so;
    so.tokenizers = {(fs::path(dir) / "tokenizer.json").string()};
    if (!measure_.reference.empty()) so.tokenizers.push_back(measure_.reference);
    so.lang_field = options_.extend.train.lang_field;
    so.max_docs = measure_.stats_docs;
    so.read = in.read;
    tokenizer::StatsReport r = tokenizer::tokenizer_stats(in.documents, so);
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [lang, per] : r.langs) {
      nlohmann::json row = {{"documents", per[0].docs},
                            {"fertility", per[0].fertility()},
                            {"bytes_per_token", per[0].bytes_per_token()},
                            {"continued_words", per[0].continued()}};
      if (per.size() > 1) {
        row["reference_fertility"] = per[1].fertility();
        row["reference_bytes_per_token"] = per[1].bytes_per_token();
      }
      out[lang] = row;
    }
    return out;
  }

  tokenizer::ExtendTokenizerOptions options_;  // base/new_tokens; extend.train holds every train option
  MeasureOptions measure_;
  opt::Schema schema_{"tokenizer"};
  opt::Namer namer_;
};

class TokenizeStage : public Stage {
 public:
  explicit TokenizeStage(const Fields& f) {
    data::declare(schema_, options_);
    namer_ = apply_stage_options(schema_, f);
  }
  std::string name() const override { return "tokenize"; }
  std::string options_json() const override { return schema_.to_json(); }
  std::string run(const std::string& dir, const Artifacts& in, bool) override {
    if (in.tokenizer.empty())
      usage_error("the tokenize stage needs a tokenizer", "pipeline stages",
                  "add a tokenizer stage before it");
    data::TokenizeOptions o = options_;
    o.tokenizer = in.tokenizer;
    o.output = dir;
    o.read = in.read;
    data::TokenizeResult r = opt::named(namer_, [&] { return data::tokenize_to_shards(in.documents, o); });
    return nlohmann::json{{"documents", r.docs},           {"train_documents", r.train_docs},
                          {"val_documents", r.val_docs},   {"train_tokens", r.train_tokens},
                          {"val_tokens", r.val_tokens},    {"bytes", r.bytes},
                          {"bytes_per_token", r.train_tokens + r.val_tokens
                                                  ? static_cast<double>(r.bytes) /
                                                        static_cast<double>(r.train_tokens + r.val_tokens)
                                                  : 0.0},
                          {"shards", r.shards},            {"seconds", r.seconds}}
        .dump();
  }
  Artifacts outputs(const std::string& dir, const Artifacts& in) const override {
    Artifacts a = in;
    a.train_shards.clear();
    a.val_shards.clear();
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".tok") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
      (fs::path(f).filename().string().rfind("val-", 0) == 0 ? a.val_shards : a.train_shards).push_back(f);
    return a;
  }

 private:
  data::TokenizeOptions options_;
  opt::Schema schema_{"tokenize"};
  opt::Namer namer_;
};

}  // namespace

std::unique_ptr<Stage> make_tokenizer_stage(const Fields& options) {
  return std::make_unique<TokenizerStage>(options);
}
std::unique_ptr<Stage> make_tokenize_stage(const Fields& options) {
  return std::make_unique<TokenizeStage>(options);
}

}  // namespace nlm::pipeline
