// The `train` and `eval` stages. train maps its keys onto train::TrainOptions through the same
// declaration as `nativelm train` (train::declare; every key of docs/train.md except the data,
// tokenizer and output folder, which come from the earlier stages); a killed train stage resumes
// from its newest checkpoint. eval (eval::EvalOptions: the keys of `nativelm eval ppl` and the
// sampling keys of `nativelm generate`) measures rolling perplexity (bits per byte first) of the
// final model on the held-out shards and generates sample continuations for the report.
// With `size: auto` the train stage plans its model before its fingerprint is taken
// (plan/auto_size.h): the plan's shape, batch, steps and learning rate join its options, the
// plan goes to plan.json and plan.txt in the stage folder and into the summary for the report.

#include <algorithm>
#include <filesystem>
#include <optional>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/options.h"
#include "core/manifest.h"
#include "eval/evaluate.h"
#include "eval/tasks/task_config.h"
#include "core/log.h"
#include "plan/auto_size.h"
#include "pipeline/metric_curves.h"
#include "pipeline/stages.h"
#include "tokenizer/tokenizer.h"
#include "train/trainer.h"

namespace nlm::pipeline {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// The id of the first of `names` that the tokenizer has as a single token, or -1.
int64_t special_id(const tokenizer::Tokenizer& tok, const std::vector<const char*>& names) {
  for (const char* n : names) {
    auto ids = tok.encode(n);
    if (ids.size() == 1) return ids[0];
  }
  return -1;
}

class TrainStage : public Stage {
 public:
  explicit TrainStage(const Fields& f) : where_(f.where()) {
    for (const char* managed : {"out_dir", "data", "tokenizer"})
      if (f.has(managed))
        f.fail(managed, "is set by the pipeline", "the train stage reads the tokenize stage's shards and tokenizer");
    train::declare(schema_, options_);
    plan::declare(schema_, auto_);
    namer_ = apply_stage_options(schema_, f);
    if (options_.lora.enabled() && !options_.lora.merge)
      f.fail("lora.merge", "must be true with lora.rank in a pipeline", "later stages read the train stage's model/; "
             "adapter/ is written beside it");
    given_options_ = options_;
    // Without size: auto the options JSON (and so the fingerprint of existing pipelines) stays
    // as it was before these keys existed.
    if (auto_.size.empty())
      for (auto& field : schema_.fields())
        if (field.key == "size" || field.key.rfind("plan.", 0) == 0) field.no_json();
    // The hardware keys against the device, now rather than after the stages before this one.
    if (auto_.size == "auto")
      opt::named(namer_, [&] { plan::plan_options_for(auto_, options_, schema_, std::string(), 0); });
  }
  std::string name() const override { return "train"; }
  std::string options_json() const override { return schema_.to_json(); }

  // size: auto: plan the run (or reuse the plan in dir/plan.json made from the same inputs) and
  // fill options_ with it, so the fingerprint holds the planned shape.
  void prepare(const std::string& dir, const Artifacts& in) override {
    if (auto_.size != "auto" || in.train_shards.empty()) return;
    options_ = given_options_;
    int64_t vocab = schema_.given("model.vocab_size") ? options_.model.vocab_size : 0;
    if (vocab == 0 && !in.tokenizer.empty()) vocab = tokenizer::Tokenizer::load(in.tokenizer).vocab_size();
    const std::string data_dir = fs::path(in.train_shards.front()).parent_path().string();
    plan::AutoSize a;
    named_plan([&] {
      plan::PlanOptions po = plan::plan_options_for(auto_, options_, schema_, data_dir, vocab);
      const std::string inputs = plan::plan_inputs_json(po, in.train_shards);
      const std::string saved = (fs::path(dir) / "plan.json").string();
      if (fs::exists(saved)) {
        try {
          a = plan::auto_size_from_json(read_file(saved), saved);
        } catch (const Error&) {
          a = {};  // a damaged plan.json is planned again
        }
      }
      if (a.inputs == inputs) {
        log::info("train: size auto: reusing " + saved + " (same budget, hardware and data)");
      } else {
        a = {};
        a.plan = plan::make_plan(po);
        a.text = plan::plan_text(a.plan);
        a.inputs = inputs;
        log::info("train: size auto: the plan for this run");
        size_t start = 0;
        while (start < a.text.size()) {
          size_t end = a.text.find('\n', start);
          if (end == std::string::npos) end = a.text.size();
          if (end > start) log::info("  " + a.text.substr(start, end - start));
          start = end + 1;
        }
      }
    });
    a.explicit_keys = plan::apply_plan(a.plan, options_, schema_);
    if (!a.explicit_keys.empty()) {
      std::string keys;
      for (const auto& k : a.explicit_keys) keys += (keys.empty() ? "" : ", ") + k;
      log::info("train: size auto: explicit values win over the plan for " + keys);
    }
    planned_ = a;
  }

  std::string run(const std::string& dir, const Artifacts& in, bool resume) override {
    if (in.train_shards.empty())
      usage_error("the train stage has no token shards", where_, "add tokenizer and tokenize stages before it");
    train::TrainOptions o = options_;
    o.out_dir = dir;
    o.train_data = {train::DataSource{in.train_shards, 1.0}};
    o.eval_shards = in.val_shards;
    o.tokenizer = in.tokenizer;
    if (!in.tokenizer.empty() && o.init_from.empty()) {
      auto tok = tokenizer::Tokenizer::load(in.tokenizer);
      if (!schema_.given("model.vocab_size")) o.model.vocab_size = tok.vocab_size();
      if (o.model.bos_token_id < 0) o.model.bos_token_id = special_id(tok, tokenizer::bos_token_names());
      if (o.model.eos_token_id < 0)
        o.model.eos_token_id = special_id(tok, tokenizer::eos_token_names());
    }
    if (!o.init_from.empty() && o.vocab_extension.empty()) o.vocab_extension = in.vocab_extension;
    // The pipeline decides: continue a killed run, or (its options changed) start over.
    o.resume = resume && fs::exists(fs::path(dir) / "checkpoints");
    o.force = !o.resume;
    if (planned_) {
      write_file_atomic((fs::path(dir) / "plan.json").string(), plan::auto_size_json(*planned_));
      write_file_atomic((fs::path(dir) / "plan.txt").string(), planned_->text);
    }
    train::TrainResult r =
        run_interruptible("train", [&] { return opt::named(namer_, [&] { return train::run_train(o); }); });
    std::string s = summary(dir, r);
    return planned_ ? opt::with_member(s, "plan", plan::plan_summary_json(*planned_)) : s;
  }

  Artifacts outputs(const std::string& dir, const Artifacts& in) const override { return with_model(in, dir); }

 private:
  static std::string summary(const std::string& dir, const train::TrainResult& r) {
    json curves = read_curves((fs::path(dir) / "metrics.jsonl").string(),
                              {{"train loss", "loss"}, {"eval loss", "eval_loss"}, {"bpb", "eval_bits_per_byte"}});
    json bpb = curves["bpb"];
    curves.erase("bpb");
    // The final figures come from metrics.jsonl too, so a stage resumed after its last step (a
    // kill between the last checkpoint and stage.json) reports what the uninterrupted run did.
    json j = {{"steps", r.steps},
              {"final_train_loss", last_value(curves["train loss"], r.last_loss)},
              {"final_eval_loss", last_value(curves["eval loss"], -1.0)},
              {"final_eval_bits_per_byte", last_value(bpb, -1.0)},
              {"tokens_per_second", r.tokens_per_second},
              {"mfu", r.mfu},
              {"curves", curves}};
    if (!bpb.empty()) j["eval_bits_per_byte_curve"] = bpb;
    return j.dump();
  }

  // Runs `fn` (planning); library errors about the budget keys are named as plan.* keys.
  template <class F>
  void named_plan(F&& fn) {
    opt::named(namer_, [&] {
      try {
        fn();
      } catch (const opt::OptionError& e) {
        const auto& keys = plan::budget_keys();
        if (std::find(keys.begin(), keys.end(), e.key()) == keys.end()) throw;
        throw opt::OptionError("plan." + e.key(), e.problem(), e.fix());
      }
    });
  }

  std::string where_;
  train::TrainOptions options_, given_options_;  // given_options_: as the file sets them, before a plan
  plan::AutoSizeOptions auto_;
  std::optional<plan::AutoSize> planned_;
  opt::Schema schema_{"train"};
  opt::Namer namer_;
};

class EvalStage : public Stage {
 public:
  explicit EvalStage(const Fields& f) {
    eval::declare(schema_, options_);
    namer_ = apply_stage_options(schema_, f);
  }
  std::string name() const override { return "eval"; }
  // Task files and their datasets join the options, so an edited task reruns the stage.
  std::string options_json() const override {
    json files = json::array();
    for (const auto& t : options_.tasks) {
      if (!fs::is_regular_file(t)) continue;  // reported when the stage runs
      std::vector<std::string> paths = {t};
      try {
        for (const auto& [split, path] : eval::tasks::load_task(t).split_files) paths.push_back(path);
      } catch (const Error&) {
      }
      for (const auto& p : paths)
        if (fs::is_regular_file(p)) {
          FileEntry e = describe_file(p);
          files.push_back({e.path, e.bytes, e.hash});
        }
    }
    return files.empty() ? schema_.to_json() : opt::with_member(schema_.to_json(), "task_files", files.dump());
  }
  std::string run(const std::string& dir, const Artifacts& in, bool) override {
    if (in.model_dir.empty()) usage_error("the eval stage needs a model", "pipeline stages", "add a train stage before it");
    json j = json::parse(opt::named(
        namer_, [&] { return eval::evaluate_model(in.model_dir, in.val_shards, in.tokenizer, options_); }));
    // lm-eval's results.json per few-shot count, for `eval compare` and other tools.
    if (j.contains("task_results")) {
      for (auto it = j["task_results"].begin(); it != j["task_results"].end(); ++it)
        write_file_atomic((fs::path(dir) / ("results_" + it.key() + "shot.json")).string(), it->dump(2) + "\n");
      j.erase("task_results");
    }
    write_file_atomic((fs::path(dir) / "eval.json").string(), j.dump(2) + "\n");
    return j.dump();
  }
  Artifacts outputs(const std::string&, const Artifacts& in) const override { return in; }

 private:
  eval::EvalOptions options_;
  opt::Schema schema_{"eval"};
  opt::Namer namer_;
};

}  // namespace

std::unique_ptr<Stage> make_train_stage(const Fields& options) { return std::make_unique<TrainStage>(options); }
std::unique_ptr<Stage> make_eval_stage(const Fields& options) { return std::make_unique<EvalStage>(options); }

}  // namespace nlm::pipeline
