// The `dedup` stage: exact and MinHash/LSH dedup with the options of `nativelm dedup` (the same
// declaration, dedup::declare), run into <work>/dedup/docs.
#include <filesystem>

#include "core/atomic_file.h"
#include "curate/dedup/dedup.h"
#include "pipeline/stages.h"

namespace nlm::pipeline {
namespace {
namespace fs = std::filesystem;

class DedupStage : public Stage {
 public:
  explicit DedupStage(const Fields& f) {
    dedup::declare(schema_, options_);
    namer_ = apply_stage_options(schema_, f);
  }
  std::string name() const override { return "dedup"; }
  std::string options_json() const override { return schema_.to_json(); }
  std::string run(const std::string& dir, const Artifacts& in, bool) override {
    dedup::DedupOptions o = options_;
    o.read = in.read;
    o.shards.dir = (fs::path(dir) / "docs").string();
    dedup::DedupResult r = opt::named(namer_, [&] { return dedup::run_dedup(in.documents, o); });
    // Up to date: a build killed after dedup published its folder but before stage.json. The
    // figures are those of the run that published it, in its report.json.
    std::error_code ec;
    if (r.up_to_date && fs::exists(o.shards.dir + "/report.json", ec)) return read_file(o.shards.dir + "/report.json");
    return r.to_json();
  }
  Artifacts outputs(const std::string& dir, const Artifacts& in) const override {
    return with_documents(in, (fs::path(dir) / "docs").string(), "dedup");
  }
  std::vector<std::string> provides() const override { return {kDocumentsArtifact}; }

 private:
  dedup::DedupOptions options_;
  opt::Schema schema_{"dedup"};
  opt::Namer namer_;
};

}  // namespace

std::unique_ptr<Stage> make_dedup_stage(const Fields& options) {
  return std::make_unique<DedupStage>(options);
}

}  // namespace nlm::pipeline
