// The compression and deployment stages at the end of a pipeline, Minitron's path: `prune` cuts
// the newest model down (layers, FFN neurons, KV groups) and hands it on, `distill` trains the cut
// model against the one it was cut from, then `quantize` (nativelm's own int8/int4/fp8 formats,
// docs/compress.md) and `export` (GGUF files for llama.cpp, docs/export.md) write deployable
// files without changing the model later stages see. Their summaries hold a "formats" list
// (format, file size, bits per byte and decode tokens/s where measured), which the report
// gathers into one table.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "compress/prune.h"
#include "compress/quantize.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "model/gguf_export.h"
#include "pipeline/stages.h"
#include "train/distill.h"

namespace nlm::pipeline {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// What a stage puts in the command's options the pipeline fills at run time (shards, folders,
// models), so that the command's "is required" checks pass when the file is loaded.
constexpr const char* kFromPipeline = "(from the pipeline)";

// One row of the report's formats table; a figure not measured is left out.
json format_row(const std::string& format, const std::string& path, uint64_t bytes, double bpb, double tok_s) {
  json r = {{"format", format}, {"path", path}, {"bytes", bytes}};
  if (bpb > 0) r["bits_per_byte"] = bpb;
  if (tok_s > 0) r["tokens_per_second"] = tok_s;
  return r;
}

struct QuantizeStageOptions {
  compress::QuantizeOptions quantize;
  std::vector<std::string> formats = {"int8"};
};

class QuantizeStage : public Stage {
 public:
  explicit QuantizeStage(const Fields& f) {
    // `nativelm quantize`'s keys, with `formats` for its one `format`; the pipeline fills the
    // calibration shards and the output folders. The placeholder format is int4 so that the
    // command's "awq needs int4" check leaves the choice to each run (AWQ applies to int4 ones).
    auto& q = options_.quantize;
    compress::declare(schema_, q);
    q.calibration = {kFromPipeline};
    q.output = kFromPipeline;
    q.format = "int4";
    schema_.add("formats", options_.formats, "Formats to write, each into its own folder: int8, int4, fp8");
    namer_ = apply_stage_options(schema_, f);
    for (const char* k : {"calibration", "output", "format"})
      if (schema_.given(k))
        usage_error(std::string("quantize.") + k + " is set by the pipeline", f.where(),
                    "drop it: name the formats in formats: [...]; the stage calibrates on the token shards");
    for (const auto& fmt : options_.formats)
      if (fmt != "int8" && fmt != "int4" && fmt != "fp8")
        usage_error("quantize.formats has '" + fmt + "'", f.where(), "formats are int8, int4 and fp8");
    if (options_.formats.empty()) usage_error("quantize.formats is empty", f.where(), "name at least one format");
  }
  std::string name() const override { return "quantize"; }
  std::string options_json() const override { return schema_.to_json(); }
  std::string run(const std::string& dir, const Artifacts& in, bool) override {
    if (in.model_dir.empty()) usage_error("the quantize stage needs a model", "pipeline stages", "add a train stage before it");
    if (in.val_shards.empty() && in.train_shards.empty())
      usage_error("the quantize stage needs token shards to calibrate on", "pipeline stages", "add a tokenize stage");
    json rows = json::array(), runs = json::array();
    for (const auto& fmt : options_.formats) {
      compress::QuantizeOptions o = options_.quantize;
      o.format = fmt;
      o.awq = o.awq && fmt == "int4";  // AWQ is a search for int4's scales
      o.output = (fs::path(dir) / fmt).string();
      // The held-out shards first (the quantiser holds out a share of what it reads for its own
      // check), then the training shards if the held-out ones are too small.
      o.calibration = in.val_shards;
      o.calibration.insert(o.calibration.end(), in.train_shards.begin(), in.train_shards.end());
      compress::QuantizeResult r = opt::named(namer_, [&] { return compress::quantize_model(in.model_dir, o); });
      if (rows.empty())
        rows.push_back(format_row("f32 (safetensors)", in.model_dir, r.f32_bytes, r.bytes_known ? r.bpb_f32 : 0,
                                  r.tok_s_f32));
      rows.push_back(format_row(fmt, o.output, r.quantized_bytes, r.bytes_known ? r.bpb_quantized : 0,
                                r.tok_s_quantized));
      runs.push_back(json::parse(r.to_json()));
    }
    return json({{"formats", rows}, {"runs", runs}}).dump();
  }
  Artifacts outputs(const std::string&, const Artifacts& in) const override { return in; }

 private:
  QuantizeStageOptions options_;
  opt::Schema schema_{"quantize"};
  opt::Namer namer_;
};

class ExportStage : public Stage {
 public:
  explicit ExportStage(const Fields& f) {
    schema_.add("gguf", gguf_, "GGUF types to write, each a file model-TYPE.gguf: f32, f16, bf16, q8_0, q4_0, q4_k_m");
    schema_.add("name", name_, "general.name in the files (default: the model folder's name)");
    namer_ = apply_stage_options(schema_, f);
    if (gguf_.empty()) usage_error("export.gguf is empty", f.where(), "name at least one type, e.g. gguf: [q8_0]");
    for (const auto& t : gguf_) options_for(t, "");  // an unknown type is an error now, not after training
  }
  std::string name() const override { return "export"; }
  std::string options_json() const override { return schema_.to_json(); }
  std::string run(const std::string& dir, const Artifacts& in, bool) override {
    if (in.model_dir.empty()) usage_error("the export stage needs a model", "pipeline stages", "add a train stage before it");
    json rows = json::array(), files = json::array();
    for (const auto& t : gguf_) {
      std::string path = (fs::path(dir) / ("model-" + t + ".gguf")).string();
      model::ExportGgufResult r = model::export_gguf(in.model_dir, options_for(t, path));
      rows.push_back(format_row("gguf " + t, path, r.bytes, 0, 0));
      files.push_back({{"type", t}, {"path", path}, {"bytes", r.bytes}, {"notes", r.notes}});
    }
    json j = {{"formats", rows}, {"files", files}};
    j["llama_cpp"] = "llama-cli -m " + files[0]["path"].get<std::string>() + " -p \"...\"  (or llama-server -m ...)";
    return j.dump();
  }
  Artifacts outputs(const std::string&, const Artifacts& in) const override { return in; }

 private:
  // export gguf's own options for type `t`: its choice list decides what a type name means.
  model::ExportGgufOptions options_for(const std::string& t, const std::string& path) const {
    model::ExportGgufOptions o;
    opt::Schema s("export.gguf");
    model::declare(s, o);
    opt::named(namer_, [&] {
      try {
        s.find("type")->assign(t);
      } catch (const opt::OptionError& e) {
        throw opt::OptionError("gguf", e.problem(), e.fix());
      }
    });
    o.output = path;
    o.name = name_;
    return o;
  }
  std::vector<std::string> gguf_ = {"q8_0"};
  std::string name_;
  opt::Schema schema_{"export"};
  opt::Namer namer_;
};

// The token shards a stage calibrates on: held-out first, then the training ones.
std::vector<std::string> calibration_shards(const Artifacts& in, const std::string& stage) {
  std::vector<std::string> c = in.val_shards;
  c.insert(c.end(), in.train_shards.begin(), in.train_shards.end());
  if (c.empty()) usage_error("the " + stage + " stage needs token shards", "pipeline stages", "add a tokenize stage");
  return c;
}

class PruneStage : public Stage {
 public:
  explicit PruneStage(const Fields& f) {
    // `nativelm prune`'s keys; the pipeline fills the calibration shards and the output folder.
    compress::declare(schema_, options_);
    options_.calibration = {kFromPipeline};
    options_.output = kFromPipeline;
    namer_ = apply_stage_options(schema_, f);
    for (const char* k : {"calibration", "output"})
      if (schema_.given(k)) usage_error(std::string("prune.") + k + " is set by the pipeline", f.where(),
                                        "drop it: the stage calibrates on the token shards into its folder");
    if (options_.drop_layers == 0 && options_.ffn_size == 0 && options_.kv_heads == 0)
      usage_error("the prune stage removes nothing", f.where(), "set drop_layers, ffn_size or kv_heads");
  }
  std::string name() const override { return "prune"; }
  std::string options_json() const override { return schema_.to_json(); }
  std::string run(const std::string& dir, const Artifacts& in, bool) override {
    if (in.model_dir.empty()) usage_error("the prune stage needs a model", "pipeline stages", "add a train stage before it");
    compress::PruneOptions o = options_;
    o.output = (fs::path(dir) / "model").string();
    o.calibration = calibration_shards(in, "prune");
    compress::PruneResult r = opt::named(namer_, [&] { return compress::prune_model(in.model_dir, o); });
    log::info(r.summary());
    return json({{"parameters_before", r.parameters_before},
                 {"parameters_after", r.parameters_after},
                 {"dropped_layers", r.dropped_layers},
                 {"layer_importance", r.layer_importance},
                 {"calibration_tokens", r.calibration_tokens}})
        .dump();
  }
  Artifacts outputs(const std::string& dir, const Artifacts& in) const override {
    Artifacts a = with_model(in, dir);
    a.teacher_dir = in.model_dir;
    return a;
  }

 private:
  compress::PruneOptions options_;
  opt::Schema schema_{"prune"};
  opt::Namer namer_;
};

class DistillStage : public Stage {
 public:
  explicit DistillStage(const Fields& f) {
    train::declare(schema_, options_);
    // The pipeline fills these from the stages before (teacher and student may still be named).
    options_.student = options_.teacher = kFromPipeline;
    options_.data = {kFromPipeline};
    options_.out_dir = kFromPipeline;
    namer_ = apply_stage_options(schema_, f);
    for (const char* k : {"data", "data.eval", "out_dir"})
      if (schema_.given(k)) usage_error(std::string("distill.") + k + " is set by the pipeline", f.where(),
                                        "drop it: the stage trains on the tokenize stage's shards into its folder");
  }
  std::string name() const override { return "distill"; }
  std::string options_json() const override { return schema_.to_json(); }
  std::string run(const std::string& dir, const Artifacts& in, bool resume) override {
    train::DistillOptions o = options_;
    if (o.teacher == kFromPipeline) o.teacher = in.teacher_dir;
    if (o.student == kFromPipeline) o.student = in.model_dir;
    if (o.teacher.empty())
      usage_error("the distill stage has no teacher", "pipeline stages",
                  "put a prune stage before it (the model it cut is the teacher) or name teacher:");
    if (o.student.empty()) usage_error("the distill stage needs a student model", "pipeline stages", "add a train stage");
    o.data = in.train_shards;
    o.eval_shards = in.val_shards;
    if (o.data.empty()) usage_error("the distill stage needs token shards", "pipeline stages", "add a tokenize stage");
    o.out_dir = dir;
    o.resume = resume;
    train::DistillResult r =
        run_interruptible("distill", [&] { return opt::named(namer_, [&] { return train::run_distill(o); }); });
    return json({{"teacher", o.teacher},
                 {"steps", r.train.steps},
                 {"final_train_loss", r.train.last_loss},
                 {"final_eval_loss", r.train.last_eval_loss},
                 {"final_eval_kl", r.last_eval_kl},
                 {"tokens_per_second", r.train.tokens_per_second}})
        .dump();
  }
  Artifacts outputs(const std::string& dir, const Artifacts& in) const override { return with_model(in, dir); }

 private:
  train::DistillOptions options_;
  opt::Schema schema_{"distill"};
  opt::Namer namer_;
};

}  // namespace

std::unique_ptr<Stage> make_prune_stage(const Fields& options) { return std::make_unique<PruneStage>(options); }
std::unique_ptr<Stage> make_distill_stage(const Fields& options) { return std::make_unique<DistillStage>(options); }
std::unique_ptr<Stage> make_quantize_stage(const Fields& options) { return std::make_unique<QuantizeStage>(options); }
std::unique_ptr<Stage> make_export_stage(const Fields& options) { return std::make_unique<ExportStage>(options); }

}  // namespace nlm::pipeline
