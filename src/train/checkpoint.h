// Training checkpoints: an HF model directory plus optimizer.safetensors and trainer_state.json
// (step, data cursor and RNG, a fingerprint of the run's shape), written to a hidden temp folder
// and renamed into place, so a kill at any moment leaves only whole checkpoints. Older ones are
// rotated out (renamed to a hidden folder, then deleted).
#pragma once
#include <cstdint>
#include <string>

#include "model/llama.h"
#include "train/adamw.h"

namespace nlm::train {

struct TrainerState {
  int64_t step = 0;        // optimizer steps completed
  std::string data_state;  // LmBatches::state_json()
  std::string fingerprint; // run shape (B, T, accum, model size); must match on resume
  std::string config;      // the run's options (train::config_json), recorded for people and tools
  double tokens = -1;      // real tokens trained on so far; −1 when unknown (older checkpoints)
};

// Completes an HF model folder that holds config.json and the weights: tokenizer.json (copied
// from the tokenizer.json `tokenizer_path` names, a file or its folder, when given), tokenizer_config.json (the one beside that tokenizer.json
// when there is one, otherwise a minimal one naming the BOS/EOS tokens), and generation_config.json
// (BOS/EOS ids and model::SamplingOptions' defaults), so HF and chat tooling can load the folder.
void write_model_files(const std::string& dir, const model::ModelConfig& config, const std::string& tokenizer_path);

// Writes <run>/checkpoints/step-NNNNNNNN atomically; keeps the newest `keep` checkpoints. With
// data parallel every rank calls it: each writes its optimizer shard (AdamW::save_dir), rank 0
// the rest, and rank 0 publishes the folder once all shards are in.
std::string save_checkpoint(const std::string& run_dir, const model::Llama& model,
                            const AdamW& opt, const TrainerState& state, int keep,
                            const std::string& tokenizer_json);
// Removes all but the newest `keep` checkpoints, and the hidden folders of saves and removals that
// killed runs left. save_checkpoint does it after each save; a run killed between a save and its
// rotation leaves one more, which the resumed run removes.
void prune_checkpoints(const std::string& run_dir, int keep);
// The newest complete checkpoint directory, or "" when there is none.
std::string latest_checkpoint(const std::string& run_dir);
// Loads weights, optimizer and state from `dir` (on any rank count, whatever count wrote it);
// usage errors for mismatches, runtime errors for corrupt files.
TrainerState load_checkpoint(const std::string& dir, model::Llama& model, AdamW& opt);

}  // namespace nlm::train
