// `from_synth: true` for the tune stages (a Source of TuneStage, stage_tune.h): the sft stage
// trains on the chats of the synth stage before it (task qa or translate), the dpo stage on its
// preference pairs (task prefs). The records stay in synth/data/; the synth stage's fingerprint, which the tune stage's
// chains from, covers them. A pipeline whose synth stage makes no such records (or has none)
// fails when it is loaded, naming the key.
#pragma once
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "pipeline/stages.h"
#include "pipeline/synth_stage_options.h"

namespace nlm::pipeline {

// Kind: the stage's name, what its records are called, and where they are among the artifacts.
struct SftSynthKind {
  static constexpr const char* stage = "sft";
  static constexpr const char* records = "chats";
  static constexpr const char* artifact = kSftDataArtifact;
  static constexpr SynthOutput output = SynthOutput::SftData;
  static constexpr auto files = &Artifacts::sft_data;
  static constexpr auto from = &Artifacts::sft_data_stage;
};
struct DpoSynthKind {
  static constexpr const char* stage = "dpo";
  static constexpr const char* records = "preference pairs";
  static constexpr const char* artifact = kDpoDataArtifact;
  static constexpr SynthOutput output = SynthOutput::DpoData;
  static constexpr auto files = &Artifacts::dpo_data;
  static constexpr auto from = &Artifacts::dpo_data_stage;
};

template <class Options, class Kind>
class SynthSource {
 public:
  // `from_synth` joins the schema only when given, so a stage without it keeps the command's
  // options JSON (and fingerprint) exactly.
  void declare(opt::Schema& s, const Fields& f, Options& o) {
    if (!f.node().IsMap() || !f.node()["from_synth"].IsDefined()) return;
    s.add("from_synth", on_, std::string("Train on the ") + Kind::records + " of the synth stage before it");
    // The value is read here (the schema applies it later) because it decides what else is allowed.
    const YAML::Node& v = f.get("from_synth");
    if (!v.IsScalar() || !YAML::convert<bool>::decode(v, on_))
      f.fail("from_synth",
             "must be true or false, got " +
                 (v.IsScalar() ? echoed(v.Scalar(), 40) : std::string("a ") + (v.IsMap() ? "mapping" : "list")));
    if (!on_) return;
    where_ = f.where("from_synth");
    if (f.has("data"))
      f.fail("from_synth", "and data are both given",
             "drop data to train on the synth stage's records, or drop from_synth");
    if (f.has("from_corpus"))
      f.fail("from_synth", "and from_corpus are both given", "pick one source of training records");
    o.data = {"(the synth stage's records)"};
  }

  void check_needs(const std::set<std::string>& provided) const {
    if (!on_ || provided.count(Kind::artifact)) return;
    const std::string tasks = synth_task_names(Kind::output);
    usage_error(std::string("the ") + Kind::stage + " stage's from_synth has no " + Kind::records +
                    " to train on: no synth stage before it makes them",
                where_,
                tasks.empty() ? std::string("no synth task makes ") + Kind::records + " yet; list JSONL files in data:"
                              : "put a synth stage with task: " + tasks + " before it, or list JSONL files in data:");
  }

  nlohmann::json prepare(Options& o, const std::string&, const Artifacts& in) const {
    if (!on_) return nullptr;
    const std::vector<std::string>& files = in.*Kind::files;
    if (files.empty())
      usage_error(std::string("the synth stage kept no ") + Kind::records + " for the " + Kind::stage + " stage",
                  where_, "see the synth stage's funnel in the report: loosen its filters or check its endpoint");
    log::info(std::string(Kind::stage) + " from_synth: " + std::to_string(files.size()) + " files of " + Kind::records +
              " from the " + in.*Kind::from + " stage");
    o.data = files;
    return {{"from_synth", {{"files", files.size()}, {"source_stage", in.*Kind::from}}}};
  }

 private:
  bool on_ = false;
  std::string where_;
};

}  // namespace nlm::pipeline
