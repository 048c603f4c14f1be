// The `dedup` stage: exact and MinHash/LSH dedup with the options of `nativelm dedup`, run into
// <work>/dedup/docs. Keys mirror the CLI flags (see docs/dedup.md).
#include <filesystem>
#include <nlohmann/json.hpp>

#include "curate/dedup/dedup.h"
#include "pipeline/stages.h"

namespace nlm::pipeline {
namespace {
namespace fs = std::filesystem;

class DedupStage : public Stage {
 public:
  explicit DedupStage(const Fields& f) {
    f.only({"exact", "fuzzy", "preset", "shingle", "ngram", "bands", "rows", "seed", "jaccard_check",
            "jaccard_threshold", "keep", "memory_mb"});
    std::string preset, shingle, keep;
    f.read("preset", preset);
    if (!preset.empty()) dedup::apply_preset(options_.minhash, preset);
    f.read("exact", options_.exact);
    f.read("fuzzy", options_.fuzzy);
    f.read("shingle", shingle);
    if (shingle == "word") options_.minhash.shingle = dedup::ShingleKind::Word;
    else if (shingle == "char") options_.minhash.shingle = dedup::ShingleKind::Char;
    else if (!shingle.empty()) f.fail("shingle", "must be word or char, got '" + shingle + "'");
    f.read("ngram", options_.minhash.ngram);
    f.read("bands", options_.minhash.bands);
    f.read("rows", options_.minhash.rows);
    f.read("seed", options_.minhash.seed);
    f.read("jaccard_check", options_.jaccard_check);
    f.read("jaccard_threshold", options_.jaccard_threshold);
    f.read("keep", keep);
    if (!keep.empty()) options_.keep = dedup::parse_keep_policy(keep);
    uint64_t memory_mb = options_.memory >> 20;
    f.read("memory_mb", memory_mb);
    options_.memory = memory_mb << 20;
    if (options_.minhash.ngram < 1) f.fail("ngram", "must be at least 1");
    if (options_.minhash.bands < 1 || options_.minhash.rows < 1) f.fail("bands", "and rows must be at least 1");
  }
  std::string name() const override { return "dedup"; }
  std::string options_json() const override {
    dedup::DedupOptions o = options_;
    o.shards.dir.clear();  // the folder is the stage's, not an option
    return dedup::options_json(o);
  }
  std::string run(const std::string& dir, const Artifacts& in, bool) override {
    dedup::DedupOptions o = options_;
    o.read = in.read;
    o.shards.dir = (fs::path(dir) / "docs").string();
    return dedup::run_dedup(in.documents, o).to_json();
  }
  Artifacts outputs(const std::string& dir, const Artifacts& in) const override {
    return with_documents(in, (fs::path(dir) / "docs").string());
  }

 private:
  dedup::DedupOptions options_;
};

}  // namespace

std::unique_ptr<Stage> make_dedup_stage(const Fields& options) {
  return std::make_unique<DedupStage>(options);
}

}  // namespace nlm::pipeline
