// `from_corpus:` for the tune stages (a Source of TuneStage, stage_tune.h): instead of `data:`
// files, the sft stage trains on "continue this text" chats and the dpo stage on preference
// pairs, both made from the curate or dedup stage's documents (data/corpus_pairs.h) and written
// into the stage folder as from_corpus.jsonl before the run, so users can read them.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "core/log.h"
#include "data/corpus_pairs.h"
#include "pipeline/stages.h"

namespace nlm::pipeline {

// Kind: the stage's name, what its records are called, and the writer that makes them.
struct SftCorpusKind {
  static constexpr const char* stage = "sft";
  static constexpr const char* records = "chats";
  static constexpr auto write = &data::write_corpus_pairs;
};
struct DpoCorpusKind {
  static constexpr const char* stage = "dpo";
  static constexpr const char* records = "preference pairs";
  static constexpr auto write = &data::write_corpus_preferences;
};

template <class Options, class Kind>
class CorpusSource {
 public:
  // The from_corpus keys join the schema only when the stage has `from_corpus:`, so a stage
  // without it has the command's options JSON (and fingerprint) exactly.
  void declare(opt::Schema& s, const Fields& f, Options& o) {
    const YAML::Node& node = f.node();
    on_ = node.IsMap() && node["from_corpus"].IsDefined();  // `from_corpus:` alone (null): the defaults
    if (!on_) return;
    data::declare(s, options_);
    where_ = f.where("from_corpus");
    if (f.has("data"))
      f.fail("from_corpus", "and data are both given",
             "drop data to train on records made from the corpus, or drop from_corpus");
    o.data = {"(from_corpus.jsonl in the stage folder)"};
  }

  nlohmann::json prepare(Options& o, const std::string& dir, const Artifacts& in) const {
    if (!on_) return nullptr;
    const std::string stage = Kind::stage;
    if (in.documents_stage.empty())
      usage_error("the " + stage + " stage's from_corpus has no curated documents", where_,
                  "add a curate or dedup stage before it, or list JSONL files in data:");
    const std::string path = (std::filesystem::path(dir) / "from_corpus.jsonl").string();
    data::CorpusPairsResult r = Kind::write(in.documents, in.read, options_, path);
    log::info(stage + " from_corpus: " + std::to_string(r.pairs) + " " + Kind::records + " from " +
              std::to_string(r.documents) + " " + in.documents_stage + " documents (" +
              std::to_string(r.too_short) + " too short, " + std::to_string(r.too_long) + " too long) in " + path);
    if (r.pairs == 0)
      usage_error("the " + stage + " stage's from_corpus made no " + Kind::records + " from " +
                      std::to_string(r.documents) + " documents",
                  where_, "lower from_corpus.min_words or raise from_corpus.max_words");
    o.data = {path};
    return {{"from_corpus", {{"documents", r.documents},
                             {"pairs", r.pairs},
                             {"too_short", r.too_short},
                             {"too_long", r.too_long},
                             {"source_stage", in.documents_stage}}}};
  }

 private:
  data::CorpusPairsOptions options_;
  bool on_ = false;
  std::string where_;
};

}  // namespace nlm::pipeline
