// The `sft` stage: supervised fine-tuning with the keys of `nativelm sft` (train::declare over
// SftTrainOptions; every key of docs/sft.md except the output folder). The model is the train
// stage's unless `model` names one; `data` (and `eval_data`) list JSONL files, whose sizes and
// hashes join the stage's options JSON so that changed data reruns it. A killed sft stage resumes
// from its newest checkpoint; a later eval stage evaluates the fine-tuned model.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/manifest.h"
#include "core/options.h"
#include "pipeline/stages.h"
#include "train/sft.h"

namespace nlm::pipeline {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

class SftStage : public Stage {
 public:
  explicit SftStage(const Fields& f) : where_(f.where()) {
    if (f.has("out_dir")) f.fail("out_dir", "is set by the pipeline", "the sft stage writes into its own folder");
    train::declare(schema_, options_);
    // `model` may come from the train stage, so the library's check runs at run time.
    options_.out_dir = "(the stage folder)";
    if (!f.has("model")) options_.model_dir = "(the train stage's model)";
    namer_ = apply_stage_options(schema_, f);
  }
  std::string name() const override { return "sft"; }
  std::string options_json() const override {
    json files = json::array();
    for (const auto* list : {&options_.data, &options_.eval_data})
      for (const auto& path : *list) {
        if (!fs::is_regular_file(path)) continue;  // reported when the stage runs
        FileEntry e = describe_file(path);
        files.push_back({e.path, e.bytes, e.hash});
      }
    return opt::with_member(schema_.to_json(), "data_files", files.dump());
  }

  std::string run(const std::string& dir, const Artifacts& in, bool resume) override {
    train::SftTrainOptions o = options_;
    o.out_dir = dir;
    if (!schema_.given("model")) {
      if (in.model_dir.empty())
        usage_error("the sft stage has no model", where_, "add a train stage before it, or name one with model:");
      o.model_dir = in.model_dir;
    }
    o.resume = resume && fs::exists(fs::path(dir) / "checkpoints");
    o.force = !o.resume;
    train::SftRunResult r =
        run_interruptible("sft", [&] { return opt::named(namer_, [&] { return train::run_sft(o); }); });
    json j = {{"steps", r.train.steps},          {"records", r.records},
              {"examples", r.examples},          {"bad", r.bad},
              {"truncated", r.truncated},        {"dropped", r.dropped},
              {"eval_examples", r.eval_examples}, {"rows", r.rows},
              {"packing_fill", r.fill},          {"final_train_loss", r.train.last_loss},
              {"final_eval_loss", r.train.last_eval_loss}, {"tokens_per_second", r.train.tokens_per_second}};
    return j.dump();
  }

  Artifacts outputs(const std::string& dir, const Artifacts& in) const override { return with_model(in, dir); }

 private:
  std::string where_;
  train::SftTrainOptions options_;
  opt::Schema schema_{"sft"};
  opt::Namer namer_;
};

}  // namespace

std::unique_ptr<Stage> make_sft_stage(const Fields& options) { return std::make_unique<SftStage>(options); }

}  // namespace nlm::pipeline
