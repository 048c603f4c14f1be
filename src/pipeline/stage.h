// One step of `nativelm build`. A stage turns the artifacts of the stages before it (document
// shards, a tokenizer, token shards, a model) into new ones inside its own folder. The pipeline
// decides whether to run it from a fingerprint of its kind, its options and what it reads, so a
// stage only has to say what it reads, what it does, and where its outputs are.
#pragma once
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "corpus/read_options.h"

namespace nlm::pipeline {

// What flows between stages. A stage copies the artifacts it receives and replaces the ones it
// produces, so later stages see the newest of each kind.
struct Artifacts {
  std::vector<std::string> documents;     // document files (raw inputs, or JSONL from a stage)
  std::string documents_stage;            // the stage that wrote `documents` ("" = the raw inputs)
  corpus::ReadOptions read;               // how to read `documents`
  std::string tokenizer;                  // tokenizer.json
  std::string vocab_extension;            // new_tokens.json when the tokenizer extends a base one
  std::vector<std::string> train_shards;  // .tok files
  std::vector<std::string> val_shards;    // .tok files held out
  std::string model_dir;                  // HF model folder
  std::string teacher_dir;                // the model the prune stage cut down (distill's teacher)
  std::vector<std::string> sft_data;      // chat JSONL made by a stage (synth qa)
  std::string sft_data_stage;             // the stage that wrote `sft_data`
  std::vector<std::string> dpo_data;      // preference-pair JSONL made by a stage
  std::string dpo_data_stage;             // the stage that wrote `dpo_data`
};

// Names of the artifact kinds a stage can promise from its options alone (Stage::provides), so
// that a stage needing one fails when the pipeline file is loaded, not after hours of earlier
// stages.
inline constexpr const char* kDocumentsArtifact = "documents";  // JSONL documents from a stage
inline constexpr const char* kSftDataArtifact = "sft_data";
inline constexpr const char* kDpoDataArtifact = "dpo_data";

class Stage {
 public:
  virtual ~Stage() = default;
  // The stage's name in the pipeline file (e.g. "curate"); also its folder name.
  virtual std::string name() const = 0;
  // Called before options_json() with what the stage will read (the outputs of the stages
  // before it), for a stage whose options depend on them (train with `size: auto` plans its
  // shape from the token shards). `dir` may hold this stage's output from an earlier build. Not
  // called in a dry run when an earlier stage has yet to run.
  virtual void prepare(const std::string& /*dir*/, const Artifacts& /*in*/) {}
  // Canonical JSON of every option that changes the stage's output (after prepare()).
  virtual std::string options_json() const = 0;
  // Runs the stage into `dir`. `resume` is true when `dir` holds a partial run with the same
  // fingerprint (a killed build); otherwise `dir` is empty. Returns a JSON object of figures
  // for the report.
  virtual std::string run(const std::string& dir, const Artifacts& in, bool resume) = 0;
  // The artifacts after this stage, given its finished output in `dir`.
  virtual Artifacts outputs(const std::string& dir, const Artifacts& in) const = 0;
  // The artifact kinds (k...Artifact above) this stage adds, known from its options.
  virtual std::vector<std::string> provides() const { return {}; }
  // Called when the file is loaded with what the stages before it provide: a usage error naming
  // the key when something this stage needs from an earlier stage is missing.
  virtual void check_needs(const std::set<std::string>& /*provided*/) const {}
};

// `in` with its documents replaced by the JSONL shards in `docs_dir` (read with default options),
// written by the stage `stage`.
Artifacts with_documents(const Artifacts& in, const std::string& docs_dir, const std::string& stage);
// `in` with its model replaced by the HF folder `stage_dir`/model (train and sft stages).
Artifacts with_model(const Artifacts& in, const std::string& stage_dir);

}  // namespace nlm::pipeline
