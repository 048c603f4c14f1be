// The `curate` stage: the same options as `nativelm curate` (the steps/profiles mapping of a
// curate config file, plus output options), run into <work>/curate/docs.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "curate/config.h"
#include "curate/curate.h"
#include "pipeline/stages.h"

namespace nlm::pipeline {
namespace {
namespace fs = std::filesystem;

class CurateStage : public Stage {
 public:
  explicit CurateStage(const Fields& f) {
    f.only({"steps", "profiles", "extension", "max_doc_bytes", "rejects"});
    f.read("extension", options_.extension);
    f.read("max_doc_bytes", options_.max_doc_bytes);
    f.read("rejects", rejects_);
    YAML::Node chain(YAML::NodeType::Map);
    if (f.has("steps")) chain["steps"] = f.get("steps");
    if (f.has("profiles")) chain["profiles"] = f.get("profiles");
    if (chain.size() > 0) {
      YAML::Emitter out;
      out << chain;
      chain_yaml_ = out.c_str();
      curate::apply_config_yaml(chain_yaml_, options_.chain, f.where() + " (curate)");
    }
  }
  std::string name() const override { return "curate"; }
  std::string options_json() const override {
    return nlohmann::json{{"chain", chain_yaml_},
                          {"extension", options_.extension},
                          {"max_doc_bytes", options_.max_doc_bytes},
                          {"rejects", rejects_}}
        .dump();
  }
  std::string run(const std::string& dir, const Artifacts& in, bool) override {
    curate::CurateOptions o = options_;
    o.read = in.read;
    o.output_dir = (fs::path(dir) / "docs").string();
    o.rejects_dir = rejects_ ? (fs::path(dir) / "rejects").string() : "";
    curate::CurateReport report = curate::run_curate(in.documents, o);
    return report.to_json();
  }
  Artifacts outputs(const std::string& dir, const Artifacts& in) const override {
    return with_documents(in, (fs::path(dir) / "docs").string());
  }

 private:
  curate::CurateOptions options_;
  std::string chain_yaml_;
  bool rejects_ = true;
};

}  // namespace

std::unique_ptr<Stage> make_curate_stage(const Fields& options) {
  return std::make_unique<CurateStage>(options);
}

}  // namespace nlm::pipeline
