// The stages that train an HF model folder on JSONL files with the keys of their command
// (`sft`, `dpo`; every key of the command's docs except the output folder). The model is the
// previous model stage's (train, or sft before dpo) unless `model` names one; `data` (and
// `eval_data`) list JSONL files, whose sizes and hashes join the stage's options JSON so that
// changed data reruns it. A stage may make its data itself (a Source: `from_corpus`,
// corpus_source.h) or take a synth stage's (`from_synth`, synth_source.h). A killed stage resumes
// from its newest checkpoint; later stages get the trained model.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/error.h"
#include "core/manifest.h"
#include "core/options.h"
#include "pipeline/stages.h"

namespace nlm::pipeline {

// Where a tune stage's data comes from besides the `data` files: nowhere. A Source adds
// its keys to the stage's schema (and may fill `data` with a placeholder it replaces later),
// and before the run writes its files into the stage folder, names them in `data`, and returns
// figures for the summary (null for none).
struct NoDataSource {
  template <class Options>
  void declare(opt::Schema&, const Fields&, Options&) {}
  template <class Options>
  nlohmann::json prepare(Options&, const std::string&, const Artifacts&) const {
    return nullptr;
  }
};

// Two Sources at once (from_corpus and from_synth): each declares its keys and makes its data
// only when its key is given; B refuses A's key beside its own.
template <class A, class B>
struct BothSources {
  template <class Options>
  void declare(opt::Schema& s, const Fields& f, Options& o) {
    a.declare(s, f, o);
    b.declare(s, f, o);
  }
  void check_needs(const std::set<std::string>& provided) const {
    if constexpr (requires { a.check_needs(provided); }) a.check_needs(provided);
    if constexpr (requires { b.check_needs(provided); }) b.check_needs(provided);
  }
  template <class Options>
  nlohmann::json prepare(Options& o, const std::string& dir, const Artifacts& in) const {
    nlohmann::json made = a.prepare(o, dir, in);
    nlohmann::json more = b.prepare(o, dir, in);
    if (made.is_null()) return more;
    if (!more.is_null()) made.update(more);
    return made;
  }
  A a;
  B b;
};

// Options: the command's options struct (with model_dir, data, eval_data, out_dir, resume, force
// and a declare(Schema&, Options&) beside it); run: the library call; summary: the report's JSON
// of its result and of the run folder (its metrics.jsonl); Source: see NoDataSource.
template <class Options, class Result, class Source = NoDataSource>
class TuneStage : public Stage {
 public:
  using Run = Result (*)(const Options&);
  using Summary = nlohmann::json (*)(const Result&, const std::string& dir);

  TuneStage(const Fields& f, std::string name, Run run, Summary summary)
      : where_(f.where()), name_(std::move(name)), run_(run), summary_(summary), schema_(name_) {
    if (f.has("out_dir"))
      f.fail("out_dir", "is set by the pipeline", "the " + name_ + " stage writes into its own folder");
    declare(schema_, options_);  // found by argument-dependent lookup in the options struct's namespace
    // `model` may come from an earlier stage, so the library's check runs at run time.
    options_.out_dir = "(the stage folder)";
    if (!f.has("model")) options_.model_dir = "(the previous stage's model)";
    source_.declare(schema_, f, options_);
    namer_ = apply_stage_options(schema_, f);
    if (options_.lora.enabled() && !options_.lora.merge)
      f.fail("lora.merge", "must be true with lora.rank in a pipeline",
             "later stages read this stage's model/; adapter/ is written beside it");
  }
  std::string name() const override { return name_; }
  std::string options_json() const override {
    nlohmann::json files = nlohmann::json::array();
    for (const auto* list : {&options_.data, &options_.eval_data})
      for (const auto& path : *list) {
        if (!std::filesystem::is_regular_file(path)) continue;  // reported when the stage runs
        FileEntry e = describe_file(path);
        files.push_back({e.path, e.bytes, e.hash});
      }
    return opt::with_member(schema_.to_json(), "data_files", files.dump());
  }

  std::string run(const std::string& dir, const Artifacts& in, bool resume) override {
    Options o = options_;
    o.out_dir = dir;
    if (!schema_.given("model")) {
      if (in.model_dir.empty())
        usage_error("the " + name_ + " stage has no model", where_,
                    "add a train stage before it, or name one with model:");
      o.model_dir = in.model_dir;
    }
    nlohmann::json made = opt::named(namer_, [&] { return source_.prepare(o, dir, in); });
    o.resume = resume && std::filesystem::exists(std::filesystem::path(dir) / "checkpoints");
    o.force = !o.resume;
    Result r = run_interruptible(name_, [&] { return opt::named(namer_, [&] { return run_(o); }); });
    nlohmann::json j = summary_(r, dir);
    if (!made.is_null()) j.update(made);
    return j.dump();
  }

  Artifacts outputs(const std::string& dir, const Artifacts& in) const override { return with_model(in, dir); }
  void check_needs(const std::set<std::string>& provided) const override {
    if constexpr (requires { source_.check_needs(provided); }) source_.check_needs(provided);
  }

 private:
  std::string where_, name_;
  Run run_;
  Summary summary_;
  Options options_;
  Source source_;
  opt::Schema schema_;
  opt::Namer namer_;
};

}  // namespace nlm::pipeline
