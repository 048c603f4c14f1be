// Which GGUF tensors a Llama-family model becomes in llama.cpp's naming, and from which HF tensor
// each comes: token_embd, blk.N.{attn_norm, attn_q/k/v (+bias), attn_output, ffn_norm, ffn_gate,
// ffn_up, ffn_down}, output_norm, output (unless tied), rope_freqs for llama3 RoPE scaling; and the
// two transformations of values on the way (q/k rows to interleaved RoPE pairs, llama3 factors).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "tensor/tensor.h"

namespace nlm::model {

// One GGUF tensor and the HF tensor it comes from.
struct TensorSource {
  std::string name;     // GGUF name
  std::string hf_name;  // "" = `values` (rope_freqs, or zeros for a missing qwen2 bias)
  tensor::Shape shape;  // HF shape: [rows, cols] or [n]
  int64_t rope_heads = 0;  // > 0: permute rows from rotate_half halves to interleaved pairs
  bool logits = false;     // the matrix that produces the logits
  std::vector<float> values;  // generated values
};

// The tensors of model `c` in file order. `llama_rope` (architecture llama) permutes q/k rows;
// qwen2 gets q/k/v biases even without attention_bias (zeros), as llama.cpp requires them.
std::vector<TensorSource> gguf_tensor_plan(const ModelConfig& c, bool llama_rope);

// Rows of each head block of `hs` = rows/heads rows: HF keeps the rotated pair (i, i + hs/2) in the
// two halves, llama.cpp's RoPE expects it in rows (2i, 2i+1). Row h·hs + 2i + j takes row
// h·hs + j·hs/2 + i. `w` is [rows, cols] row-major (cols 1 for a bias).
std::vector<float> permute_rope_rows(const std::vector<float>& w, int64_t heads, int64_t cols);

// llama.cpp's llama3 rope_freqs: per frequency pair, the factor its base frequency is divided by
// (1 for high frequencies, `factor` for low ones, blended in between).
std::vector<float> llama3_rope_factors(const ModelConfig& c);

}  // namespace nlm::model
