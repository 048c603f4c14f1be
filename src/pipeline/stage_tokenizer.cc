// The `tokenizer` stage: trains a BPE tokenizer (the options of `nativelm tokenizer train`) on the
// newest documents and publishes <work>/tokenizer/tokenizer.json + tokenizer_config.json.
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "pipeline/stages.h"
#include "core/error.h"
#include "data/tokenize_shards.h"
#include "core/manifest.h"
#include "core/atomic_file.h"
#include "tokenizer/extend.h"
#include "tokenizer/publish.h"
#include "tokenizer/stats.h"
#include "tokenizer/trainer.h"

namespace nlm::pipeline {
namespace {
namespace fs = std::filesystem;

class TokenizerStage : public Stage {
 public:
  explicit TokenizerStage(const Fields& f) {
    f.only({"vocab_size", "min_frequency", "mode", "pretokenizer", "split_digits", "special_tokens",
            "reserved_tokens", "max_token_bytes", "whitespace_runs", "lang_alpha", "lang_field", "reference",
            "stats_docs", "base", "new_tokens"});
    f.read("reference", reference_);
    f.read("base", base_);
    int64_t new_tokens = 1000;
    f.read("new_tokens", new_tokens);
    if (new_tokens < 1) f.fail("new_tokens", "must be at least 1");
    new_tokens_ = static_cast<uint32_t>(new_tokens);
    if (!base_.empty() && f.has("vocab_size"))
      f.fail("vocab_size", "does not apply when extending a base tokenizer", "set new_tokens instead");
    f.read("stats_docs", stats_docs_);
    int64_t vocab = options_.vocab_size;
    f.read("vocab_size", vocab);
    if (vocab < 260 || vocab > (1ll << 31)) f.fail("vocab_size", "must be between 260 and 2^31");
    options_.vocab_size = static_cast<uint32_t>(vocab);
    f.read("min_frequency", options_.min_frequency);
    f.read("mode", mode_);
    if (mode_ == "byte-level" || mode_ == "byte_level") options_.mode = tokenizer::TrainMode::ByteLevel;
    else if (mode_ == "sentencepiece") options_.mode = tokenizer::TrainMode::SentencePiece;
    else f.fail("mode", "must be byte-level or sentencepiece, got '" + mode_ + "'");
    std::string rule = tokenizer::split_rule_name(options_.rule);
    f.read("pretokenizer", rule);
    try {
      options_.rule = tokenizer::parse_split_rule(rule);
    } catch (const Error& e) {
      f.fail("pretokenizer", std::string("is not valid: ") + e.what());
    }
    f.read("split_digits", options_.split_digits);
    f.read("special_tokens", options_.special_tokens);
    int64_t n = 0;
    f.read("reserved_tokens", n);
    options_.reserved_tokens = static_cast<uint32_t>(std::max<int64_t>(0, n));
    n = options_.max_token_bytes;
    f.read("max_token_bytes", n);
    options_.max_token_bytes = static_cast<uint32_t>(std::max<int64_t>(0, n));
    n = options_.whitespace_runs;
    f.read("whitespace_runs", n);
    options_.whitespace_runs = static_cast<uint32_t>(std::max<int64_t>(0, n));
    f.read("lang_alpha", options_.lang_alpha);
    f.read("lang_field", options_.lang_field);
  }
  std::string name() const override { return "tokenizer"; }
  std::string options_json() const override {
    return nlohmann::json{{"vocab_size", options_.vocab_size},
                          {"min_frequency", options_.min_frequency},
                          {"mode", mode_},
                          {"pretokenizer", tokenizer::split_rule_name(options_.rule)},
                          {"split_digits", options_.split_digits},
                          {"special_tokens", options_.special_tokens},
                          {"reserved_tokens", options_.reserved_tokens},
                          {"max_token_bytes", options_.max_token_bytes},
                          {"whitespace_runs", options_.whitespace_runs},
                          {"lang_alpha", options_.lang_alpha},
                          {"lang_field", options_.lang_field},
                          {"reference", reference_.empty() ? "" : describe_file(reference_).hash},
                          {"stats_docs", stats_docs_},
                          {"base", base_.empty() ? "" : describe_file(base_).hash},
                          {"new_tokens", base_.empty() ? 0u : new_tokens_}}
        .dump();
  }
  std::string run(const std::string& dir, const Artifacts& in, bool) override {
    tokenizer::TrainOptions o = options_;
    o.read = in.read;
    auto start = std::chrono::steady_clock::now();
    nlohmann::json summary;
    if (base_.empty()) {
      tokenizer::TrainStats stats;
      tokenizer::Tokenizer tok = tokenizer::train_bpe(in.documents, o, &stats);
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::string stats_json = stats.to_json();
      tokenizer::publish_tokenizer(tok, dir, "tokenizer.train", options_json(), in.documents, stats_json, seconds);
      summary = nlohmann::json::parse(stats_json);
    } else {
      // Extension of an existing tokenizer (continued pretraining): new tokens and merges are
      // appended, and new_tokens.json maps each new id to its old pieces for the train stage.
      tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(base_);
      uint32_t base_vocab = tok.vocab_size();
      tokenizer::ExtendOptions eo;
      eo.new_tokens = new_tokens_;
      eo.train = o;
      tokenizer::ExtendResult r = tokenizer::extend_tokenizer(tok, in.documents, eo);
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      write_file_atomic((fs::path(dir) / "new_tokens.json").string(), r.to_json());
      std::string stats_json = r.stats.to_json();
      tokenizer::publish_tokenizer(tok, dir, "tokenizer.extend", options_json(), in.documents, stats_json, seconds,
                                   {"new_tokens.json"});
      summary = nlohmann::json::parse(stats_json);
      summary["base_vocab_size"] = base_vocab;
      summary["added_tokens"] = r.added.size();
      summary["vocab_size"] = tok.vocab_size();
    }
    summary["fertility"] = fertility(dir, in);
    return summary.dump();
  }
  Artifacts outputs(const std::string& dir, const Artifacts& in) const override {
    Artifacts a = in;
    a.tokenizer = (fs::path(dir) / "tokenizer.json").string();
    a.vocab_extension = base_.empty() ? "" : (fs::path(dir) / "new_tokens.json").string();
    return a;
  }

 private:
  // Per language: fertility, bytes per token and continued words of the new tokenizer on the
  // first `stats_docs` documents, next to the reference tokenizer's when one is given.
  nlohmann::json fertility(const std::string& dir, const Artifacts& in) const {
    tokenizer::StatsOptions so;
    so.tokenizers = {(fs::path(dir) / "tokenizer.json").string()};
    if (!reference_.empty()) so.tokenizers.push_back(reference_);
    so.lang_field = options_.lang_field;
    so.max_docs = stats_docs_;
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

  std::string reference_;
  uint64_t stats_docs_ = 2000;
  std::string base_;          // extend this tokenizer.json instead of training a new one
  uint32_t new_tokens_ = 1000;
  tokenizer::TrainOptions options_;
  std::string mode_ = "byte-level";
};

class TokenizeStage : public Stage {
 public:
  explicit TokenizeStage(const Fields& f) {
    f.only({"val_fraction", "eos_token", "bos_token", "max_shard_tokens"});
    f.read("val_fraction", options_.val_fraction);
    if (options_.val_fraction < 0 || options_.val_fraction >= 1) f.fail("val_fraction", "must be in [0, 1)");
    f.read("eos_token", options_.eos_token);
    f.read("bos_token", options_.bos_token);
    f.read("max_shard_tokens", options_.max_shard_tokens);
  }
  std::string name() const override { return "tokenize"; }
  std::string options_json() const override {
    return nlohmann::json{{"val_fraction", options_.val_fraction},
                          {"eos_token", options_.eos_token},
                          {"bos_token", options_.bos_token},
                          {"max_shard_tokens", options_.max_shard_tokens}}
        .dump();
  }
  std::string run(const std::string& dir, const Artifacts& in, bool) override {
    if (in.tokenizer.empty())
      usage_error("the tokenize stage needs a tokenizer", "pipeline stages",
                  "add a tokenizer stage before it");
    data::TokenizeOptions o = options_;
    o.tokenizer = in.tokenizer;
    o.output = dir;
    o.read = in.read;
    data::TokenizeResult r = data::tokenize_to_shards(in.documents, o);
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
};

}  // namespace

std::unique_ptr<Stage> make_tokenizer_stage(const Fields& options) {
  return std::make_unique<TokenizerStage>(options);
}
std::unique_ptr<Stage> make_tokenize_stage(const Fields& options) {
  return std::make_unique<TokenizeStage>(options);
}

}  // namespace nlm::pipeline
