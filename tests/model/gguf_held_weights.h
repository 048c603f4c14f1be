// The weights a GGUF export holds, back as an HF model folder nativelm can run: each tensor of the
// file dequantised with the reader, q/k rows put back from llama.cpp's interleaved RoPE pairs into
// HF's halves. Comparing llama.cpp on the file with nativelm on this folder separates llama.cpp's
// own arithmetic from the rounding of the weights (gguf_peer_test, gguf_llama_tools_test).
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "model/config.h"
#include "model/gguf_reader.h"
#include "model/hf_checkpoint.h"
#include "model/safetensors.h"

namespace nlm::testing {

// The GGUF name of an HF tensor name (the exporter's mapping, written out again by hand here).
inline std::string gguf_name(const std::string& hf) {
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  static const std::vector<std::pair<std::string, std::string>> layer = {
      {"input_layernorm.weight", "attn_norm.weight"}, {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},   {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},   {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},       {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},       {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},        {"mlp.down_proj.weight", "ffn_down.weight"}};
  size_t dot = hf.find('.', 13);  // after "model.layers."
  for (auto& [from, to] : layer)
    if (hf.substr(dot + 1) == from) return "blk." + hf.substr(13, dot - 13) + "." + to;
  ADD_FAILURE() << "no GGUF name for " << hf;
  return hf;
}

// A copy of model_dir holding the weights the (llama) GGUF file holds: dequantised, with q/k rows
// put back from interleaved pairs into HF's halves. nativelm's forward on it separates what
// llama.cpp's own arithmetic adds (it quantises activations for Q8_0/Q4_0 matrices and rounds
// them to F16 for F16 ones) from the rounding of the weights.
inline std::string dequantized_copy(const std::string& gguf_file, const std::string& model_dir, const std::string& out) {
  std::filesystem::create_directories(out);
  for (auto& e : std::filesystem::directory_iterator(model_dir))
    std::filesystem::copy_file(e.path(), out + "/" + e.path().filename().string(), std::filesystem::copy_options::overwrite_existing);
  const auto cfg = model::load_hf_config(model_dir);
  model::gguf::Reader r(gguf_file);
  model::SafetensorsReader st(model_dir + "/model.safetensors");
  std::vector<std::vector<float>> values;
  std::vector<model::SafetensorsTensor> tensors;
  values.reserve(st.entries().size());
  for (auto& e : st.entries()) {
    const auto* t = r.find_tensor(gguf_name(e.name));
    EXPECT_NE(t, nullptr) << e.name;
    if (!t) continue;
    std::vector<float> v = r.read_f32(*t);
    const bool q = e.name.find("q_proj") != std::string::npos, k = e.name.find("k_proj") != std::string::npos;
    if (q || k) {
      const int64_t heads = q ? cfg.num_attention_heads : cfg.num_key_value_heads, hs = cfg.hs(), half = hs / 2;
      const int64_t cols = e.shape.size() == 2 ? e.shape[1] : 1;
      std::vector<float> hf(v.size());
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t i = 0; i < half; ++i)
          for (int64_t j = 0; j < 2; ++j)
            std::copy_n(v.begin() + (h * hs + 2 * i + j) * cols, cols, hf.begin() + (h * hs + j * half + i) * cols);
      v = std::move(hf);
    }
    values.push_back(std::move(v));
    tensors.push_back({e.name, tensor::DType::F32, e.shape, values.back().data()});
  }
  model::write_safetensors(out + "/model.safetensors", tensors);
  return out;
}

}  // namespace nlm::testing
