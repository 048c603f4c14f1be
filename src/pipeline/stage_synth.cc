// The `synth` stage: `nativelm synth`'s run (run_synth) over the curate or dedup stage's
// documents (or `inputs:`) into <work>/synth/data/, so a language without chat data gets
// question-answer chats or translated instructions for the sft stage (from_synth), rephrased
// documents for pretraining, or judged preference pairs for the dpo stage.
// run_synth resumes the finished shards of a killed run; the summary carries the rejection
// funnel, token and cost figures and a few sample outputs for the report.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/manifest.h"
#include "corpus/inputs.h"
#include "curate/text_util.h"
#include "pipeline/stages.h"
#include "pipeline/synth_stage_options.h"
#include "synth/run_synth.h"

namespace nlm::pipeline {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr size_t kSamples = 3;        // sample outputs in the report
constexpr size_t kSampleBytes = 400;  // longer sample texts are cut (at a UTF-8 boundary)

std::string data_dir(const std::string& dir) { return (fs::path(dir) / "data").string(); }

// The non-empty part-NNNNN.jsonl shards of a finished run, in order.
std::vector<std::string> parts_of(const std::string& dir) {
  std::vector<std::string> parts;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(data_dir(dir), ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("part-", 0) == 0 && e.path().extension() == ".jsonl" && e.file_size(ec) > 0)
      parts.push_back(e.path().string());
  }
  std::sort(parts.begin(), parts.end());
  return parts;
}

std::string cut(const std::string& text) {
  if (text.size() <= kSampleBytes) return text;
  return std::string(curate::utf8_prefix(text, kSampleBytes)) + "…";
}

// The text of a member: a string, or the last message of `role` ("" = any) in a message list.
std::string text_of(const json& v, const std::string& role) {
  if (v.is_string()) return v.get<std::string>();
  std::string t;
  if (v.is_array())
    for (const auto& m : v)
      if (m.is_object() && m.contains("content") && m["content"].is_string() &&
          (role.empty() || m.value("role", std::string()) == role))
        t = m["content"].get<std::string>();
  return t;
}

// A record as the report shows it: what it came from, the input side (question, instruction,
// prompt) and the output side (answer, text, chosen response).
json sample_of(const json& r) {
  std::string source = r.value("source_id", std::string());
  if (source.empty()) source = r.value("id", std::string());
  std::string in, out;
  if (r.contains("messages")) {
    in = text_of(r["messages"], "user");
    out = text_of(r["messages"], "assistant");
  } else if (r.contains("text")) {
    out = text_of(r["text"], "");
  } else if (r.contains("prompt")) {
    in = text_of(r["prompt"], "user");
    out = text_of(r.contains("chosen") ? r["chosen"] : r.value("completion", json()), "");
  }
  return {{"source", source}, {"input", cut(in)}, {"output", cut(out)}};
}

// Funnel steps that count work or what passed rather than a reason for rejecting something (for
// qa/rephrase, translate and prefs; see docs/synth.md). Every other step is a rejection reason.
bool is_rejection(const std::string& step) {
  static const std::set<std::string> counts = {"chunks",         "requests",         "candidates", "records",
                                               "prompts",        "answers",          "kept",       "answers_passed",
                                               "judge_requests", "messages_verbatim"};
  return counts.count(step) == 0;
}

class SynthStage : public Stage {
 public:
  explicit SynthStage(const Fields& f) : where_(f.where()) {
    if (f.has("output"))
      f.fail("output", "is set by the pipeline", "the synth stage writes into its own folder, synth/data/");
    declare(schema_, options_);
    options_.synth.output = "(the stage folder)";  // its check runs at load time
    namer_ = apply_stage_options(schema_, f);
  }
  std::string name() const override { return "synth"; }

  // The options, and with `inputs:` their files' sizes and hashes, so edited inputs rerun it (the
  // previous stage's documents are covered by its fingerprint).
  std::string options_json() const override {
    json files = json::array();
    for (const auto& spec : options_.inputs) {
      std::vector<std::string> expanded;
      try {
        expanded = corpus::expand_inputs({spec});
      } catch (const Error&) {
        continue;  // a missing file, or a glob matching nothing: reported when the stage runs
      }
      for (const auto& path : expanded) {
        FileEntry e = describe_file(path);
        files.push_back({e.path, e.bytes, e.hash});
      }
    }
    return opt::with_member(schema_.to_json(), "input_files", files.dump());
  }

  std::vector<std::string> provides() const override {
    switch (kind().output) {
      case SynthOutput::SftData:
        return {kSftDataArtifact};
      case SynthOutput::Documents:
        return {kDocumentsArtifact};
      case SynthOutput::DpoData:
        return {kDpoDataArtifact};
    }
    return {};
  }

  void check_needs(const std::set<std::string>& provided) const override {
    if (!kind().reads_documents && options_.inputs.empty())
      usage_error("the synth stage's task " + std::string(kind().name) + " reads only the files in synth.inputs",
                  where_,
                  kind().output == SynthOutput::DpoData
                      ? "list JSONL files of prompts in inputs:"
                      : "list JSONL files of SFT records (messages, or prompt/completion) in inputs:");
    if (provided.count(kDocumentsArtifact)) return;
    if (kind().output == SynthOutput::Documents)
      usage_error("the synth stage's task " + std::string(kind().name) + " has no curated documents to join", where_,
                  "add a curate or dedup stage before it: its rephrasings are added to their documents");
    if (options_.inputs.empty())
      usage_error("the synth stage has no documents to read", where_,
                  "add a curate or dedup stage before it, or list files in synth.inputs");
  }

  std::string run(const std::string& dir, const Artifacts& in, bool) override {
    synth::SynthOptions o = options_.synth;
    o.output = data_dir(dir);
    // A killed run of the same fingerprint left its shards in data/ (the pipeline cleared the
    // folder otherwise); run_synth keeps the finished ones.
    o.force = false;
    std::vector<std::string> inputs = options_.inputs.empty()
                                          ? in.documents
                                          : opt::named(namer_, [&] { return corpus::expand_inputs(options_.inputs); });
    std::ostringstream printed;
    synth::SynthTotals t = opt::named(namer_, [&] { return synth::run_synth(inputs, o, printed); });
    std::istringstream lines(printed.str());
    for (std::string line; std::getline(lines, line);) log::info(line);

    ojson written = ojson::parse(read_file(o.output + "/summary.json"));
    json summary;
    json funnel = json::array();  // in run_synth's order: work counts, each rejection reason, kept
    for (const auto& [step, count] : written["funnel"].items())
      funnel.push_back({{"step", step}, {"count", count}, {"rejected", is_rejection(step)}});
    std::vector<json> records;
    const auto parts = parts_of(dir);
    for (const auto& p : parts) {
      std::ifstream file(p);
      for (std::string line; std::getline(file, line);) {
        json r = json::parse(line, nullptr, false);
        if (r.is_object()) records.push_back(std::move(r));
      }
    }
    json samples = json::array();
    const size_t n = std::min(kSamples, records.size());
    for (size_t k = 0; k < n; ++k) samples.push_back(sample_of(records[k * records.size() / n]));
    summary["synth"] = {
        {"task", kind().name}, {"prompt", written.value("prompt", std::string())},
        {"model", o.model},    {"lang", o.lang},
        {"funnel", funnel},    {"tokens", {{"prompt", t.prompt_tokens}, {"completion", t.completion_tokens}}},
        {"cost_usd", t.cost},  {"samples", samples}};
    summary["records"] = records.size();
    summary["shards"] = t.shards;
    summary["shards_resumed"] = t.shards_resumed;
    summary["makes"] = provides().front();
    if (records.empty()) log::warn("the synth stage kept no records (see the funnel in " + o.output + "/summary.json)");
    return summary.dump();
  }

  Artifacts outputs(const std::string& dir, const Artifacts& in) const override {
    Artifacts a = in;
    const auto parts = parts_of(dir);
    switch (kind().output) {
      case SynthOutput::SftData:
        a.sft_data = parts;
        a.sft_data_stage = "synth";
        break;
      case SynthOutput::DpoData:
        a.dpo_data = parts;
        a.dpo_data_stage = "synth";
        break;
      case SynthOutput::Documents:
        // The curated documents (JSONL read with default options, check_needs made sure) and the
        // rephrasings, whose "text" and "id" members read the same way.
        a.documents.insert(a.documents.end(), parts.begin(), parts.end());
        a.documents_stage = "synth";
        break;
    }
    return a;
  }

 private:
  const SynthTaskKind& kind() const { return synth_task_kind(options_.synth.task); }

  std::string where_;
  SynthStageOptions options_;
  opt::Schema schema_{"synth"};
  opt::Namer namer_;
};

}  // namespace

std::unique_ptr<Stage> make_synth_stage(const Fields& options) { return std::make_unique<SynthStage>(options); }

}  // namespace nlm::pipeline
