// `nativelm prune`: a smaller model cut from a trained one, as Minitron does it. Importance comes
// from a calibration set run through the model: a layer's depth importance is how much it changes
// the residual stream (1 − cosine similarity of its input and output, averaged over tokens) or how
// much the LM loss rises when it is skipped; an FFN neuron's width importance is the L2 norm of its
// activation over the tokens, and a KV group's (one key/value head with the query heads sharing
// it, so GQA stays consistent) the L2 norm of its heads' attention outputs. The least important
// layers, neurons and groups are removed and the result is written as an HF model folder, ready
// for `distill` or `sft` to win back what was lost.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "corpus/read_options.h"
#include "tensor/dtype.h"

namespace nlm::opt {
class Schema;
}

namespace nlm::compress {

struct PruneOptions {
  std::string output;                    // HF folder of the pruned model ("" = only print the ranking)
  std::vector<std::string> calibration;  // text, JSONL or .tok files run through the model
  corpus::ReadOptions read;              // how text files are split into documents
  uint64_t max_docs = 256;               // calibration documents read at most
  int seq_len = 256;                     // tokens per calibration window
  int drop_layers = 0;                   // depth: layers removed
  std::string depth_metric = "cosine";   // cosine | loss
  int64_t ffn_size = 0;                  // width: intermediate size kept (0 = all)
  int kv_heads = 0;                      // width: KV groups kept per layer (0 = all)
  tensor::DType dtype = tensor::DType::F32;  // storage dtype of the output
};
void declare(opt::Schema& schema, PruneOptions& options);

struct PruneResult {
  std::vector<double> layer_importance;   // per layer, the depth metric (higher = more important)
  std::vector<int> dropped_layers;        // ascending
  int64_t calibration_tokens = 0;
  int64_t parameters_before = 0, parameters_after = 0;
  std::string output;
  std::string summary() const;            // the ranking and what was removed, for the terminal
};

// Usage errors: no calibration tokens, dropping every layer or more than exist, an FFN or KV size
// above the model's, a KV count that does not divide into whole groups.
PruneResult prune_model(const std::string& model_dir, const PruneOptions& options);

}  // namespace nlm::compress
