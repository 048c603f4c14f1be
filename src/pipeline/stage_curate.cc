// The `curate` stage: the options of `nativelm curate` (the same declaration, curate::declare,
// and the same reader of steps, profiles and html, curate/config.h), run into <work>/curate/docs.
#include <filesystem>

#include "core/options_yaml.h"
#include "curate/config.h"
#include "curate/curate.h"
#include "pipeline/stages.h"

namespace nlm::pipeline {
namespace {
namespace fs = std::filesystem;

class CurateStage : public Stage {
 public:
  explicit CurateStage(const Fields& f) {
    curate::declare(schema_, options_);
    own_rejects_folder();
    curate::apply_chain_yaml(options_.chain, f.node(), {f.file(), f.section()});
    namer_ = apply_stage_options(schema_, f, curate::chain_keys());
  }
  std::string name() const override { return "curate"; }
  std::string options_json() const override { return schema_.to_json(); }
  std::string run(const std::string& dir, const Artifacts& in, bool) override {
    curate::CurateOptions o = options_;
    o.read = in.read;
    o.output_dir = (fs::path(dir) / "docs").string();
    o.rejects_dir = options_.rejects_dir.empty() ? "" : (fs::path(dir) / "rejects").string();
    return opt::named(namer_, [&] { return curate::run_curate(in.documents, o).to_json(); });
  }
  Artifacts outputs(const std::string& dir, const Artifacts& in) const override {
    return with_documents(in, (fs::path(dir) / "docs").string(), "curate");
  }
  std::vector<std::string> provides() const override { return {kDocumentsArtifact}; }

 private:
  // The stage owns its folders: `rejects` is a yes/no here (default yes: <work>/curate/rejects/),
  // where the command line takes a folder. The options JSON records the same true/false.
  void own_rejects_folder() {
    options_.rejects_dir = "rejects";
    for (auto& field : schema_.fields()) {
      if (field.key != "rejects") continue;
      field.type = opt::Type::Bool;
      field.type_name = "BOOL";
      field.in_yaml = true;
      field.no_flag();
      field.doc = "Keep removed documents with their reason in curate/rejects/";
      field.text = [this] { return std::string(options_.rejects_dir.empty() ? "false" : "true"); };
      field.set = [this](const std::string& v) { options_.rejects_dir = opt::parse_bool(v, "rejects") ? "rejects" : ""; };
    }
  }

  curate::CurateOptions options_;
  opt::Schema schema_{"curate"};
  opt::Namer namer_;
};

}  // namespace

std::unique_ptr<Stage> make_curate_stage(const Fields& options) {
  return std::make_unique<CurateStage>(options);
}

}  // namespace nlm::pipeline
