// `nativelm export gguf`: an HF model directory written by nativelm (config.json, safetensors,
// tokenizer.json, optional chat template) as one GGUF v3 file that llama.cpp loads. Metadata keys,
// tensor names and layouts are those llama.cpp's convert_hf_to_gguf.py writes for the llama and
// qwen2 architectures; q/k rows are permuted from HF's rotate_half RoPE layout to llama.cpp's
// interleaved pairs for llama (qwen2 runs NeoX-style RoPE in llama.cpp and keeps HF's layout).
// See docs/export.md for the mapping.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nlm::opt {
class Schema;
}

namespace nlm::model {

enum class GgufOutType { F32, F16, BF16, Q8_0, Q4_0, Q4_K_M };

struct ExportGgufOptions {
  std::string output;  // the .gguf file to write (published atomically)
  // Storage type of the 2-D weights; norms, biases and rope_freqs always stay F32 (as llama.cpp
  // keeps them). Q8_0/Q4_0 fall back to F16 for matrices whose rows are not multiples of 32,
  // and q4_0 keeps the logits matrix (output, or token_embd when tied) at Q8_0. Q4_K_M is
  // llama.cpp's mix of Q4_K and Q6_K matrices with its fallbacks (gguf_mix.h).
  GgufOutType type = GgufOutType::F16;
  std::string name;  // general.name; empty = the model folder's name
};
void declare(opt::Schema& schema, ExportGgufOptions& options);

struct ExportGgufResult {
  std::string path;
  std::string architecture;              // "llama" or "qwen2"
  std::string pre_tokenizer;             // tokenizer.ggml.pre
  uint64_t bytes = 0;
  std::map<std::string, int> tensor_types;  // "F32" -> count, ...
  std::vector<std::string> notes;        // fallbacks and tokenizer differences, also logged
  std::string summary() const;           // one line per fact, for the command's output
};

// Throws a usage error for a missing or unreadable model folder, a shape or tokenizer llama.cpp
// cannot express, and a runtime error for corrupt weights (missing tensors, NaN/Inf values).
ExportGgufResult export_gguf(const std::string& model_dir, const ExportGgufOptions& options);

}  // namespace nlm::model
