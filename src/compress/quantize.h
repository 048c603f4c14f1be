// `nativelm quantize`: post-training quantisation of a model's linears for nativelm's own
// inference engine (and for other tools that read the same safetensors layouts): int8 per output
// row, int4 in groups along the input with an optional AWQ scale search, or FP8 E4M3 per tensor
// with ModelOpt-style static input scales. Calibration text runs through the model to gather
// activation statistics; a held-out part of it measures what the quantisation costs (bits per
// byte against the fp32 model), beside the file size and the decode speed. The embeddings and
// the LM head stay fp32. docs/compress.md describes the stored layout.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "corpus/read_options.h"

namespace nlm::opt {
class Schema;
}

namespace nlm::compress {

// Calibration needs at least this many tokens (after the held-out documents are set aside).
constexpr int64_t kMinCalibrationTokens = 256;

struct QuantizeOptions {
  std::string output;                    // HF folder of the quantised model
  std::vector<std::string> calibration;  // text, JSONL or .tok files run through the model
  corpus::ReadOptions read;              // how text files are split into documents
  std::string format = "int8";           // int8 | int4 | fp8
  int64_t group_size = 128;              // int4: input columns per scale (a multiple of 64)
  bool awq = false;                      // int4: AWQ-style per-input-channel scale search
  int awq_grid = 20;                     // int4 AWQ: alpha steps over [0, 1]
  int awq_rows = 256;                    // int4 AWQ: calibration rows each layer's error is measured on
  uint64_t max_docs = 1000;              // calibration documents read at most
  int seq_len = 256;                     // tokens per calibration window
  int max_windows = 512;                 // calibration windows used at most (ModelOpt's 512 samples)
  double heldout = 0.1;                  // share of the documents kept back for the perplexity check
  int bench_tokens = 64;                 // tokens decoded to time the engine (0 = no timing)
};
void declare(opt::Schema& schema, QuantizeOptions& options);

struct QuantizeResult {
  std::string format, output;
  int64_t calibration_tokens = 0, heldout_tokens = 0;
  int64_t linears = 0;                 // linear weights quantised
  double bpb_f32 = 0, bpb_quantized = 0;  // bits per byte on the held-out documents (weights dequantised)
  bool bytes_known = false;            // false: the folder has no tokenizer, figures are nats per token
  uint64_t f32_bytes = 0, quantized_bytes = 0;  // weights as fp32 / the written safetensors
  double tok_s_f32 = 0, tok_s_quantized = 0;    // greedy decode through the engine, one sequence
  double awq_error_plain = 0, awq_error = 0;    // int4 AWQ: summed relative output error before / after
  std::string to_json() const;
  std::string summary() const;
};

// Usage errors: an already quantised model, too little calibration text (kMinCalibrationTokens,
// and at least two documents so one can be held out), int4 on a linear whose input width is not a
// multiple of group_size, a group size that is not a multiple of 64.
QuantizeResult quantize_model(const std::string& model_dir, const QuantizeOptions& options);

// The AWQ search for one linear W [rows, cols] fed by activations X [n, cols] with per-channel
// mean magnitudes `mean_abs` [cols]: for alpha in {0, 1/grid, ..., 1}, s = mean_abs^alpha
// (normalised by sqrt(max·min)), and the int4 error ||X·(Q(W·diag(s))/s)ᵀ − X·Wᵀ||² is measured;
// returns the best s (all ones when alpha = 0 wins) and sets the plain (alpha 0) and best errors,
// relative to ||X·Wᵀ||².
std::vector<float> awq_search(const std::vector<float>& w, int64_t rows, int64_t cols, const std::vector<float>& x,
                              int64_t n, const std::vector<double>& mean_abs, int64_t group, int grid,
                              double* plain_error, double* best_error);

// int4 quantise-dequantise of W [rows, cols] in groups (what the engine multiplies by).
std::vector<float> int4_roundtrip(const std::vector<float>& w, int64_t rows, int64_t cols, int64_t group);

}  // namespace nlm::compress
