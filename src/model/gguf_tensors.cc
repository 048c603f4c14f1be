// HF tensor names and layouts -> llama.cpp's GGUF tensors (see gguf_tensors.h).
#include "model/gguf_tensors.h"

#include <algorithm>

#include "model/rope_table.h"

namespace nlm::model {

// base / factor is exactly the scaled frequency nativelm's rope_inv_freq computes.
std::vector<float> llama3_rope_factors(const ModelConfig& c) {
  ModelConfig plain = c;
  plain.rope_scaling = {};
  std::vector<double> base = rope_inv_freq(plain), scaled = rope_inv_freq(c);
  std::vector<float> f(base.size());
  for (size_t i = 0; i < f.size(); ++i) f[i] = static_cast<float>(base[i] / scaled[i]);
  return f;
}

std::vector<TensorSource> gguf_tensor_plan(const ModelConfig& c, bool llama_rope) {
  const int64_t C = c.hidden_size, V = c.vocab_size, F = c.intermediate_size, hs = c.hs();
  const int64_t q = c.num_attention_heads * hs, kv = c.num_key_value_heads * hs;
  std::vector<TensorSource> out;
  out.push_back({"token_embd.weight", "model.embed_tokens.weight", {V, C}, 0, c.tie_word_embeddings, {}});
  if (c.rope_scaling.type == "llama3") out.push_back({"rope_freqs.weight", "", {hs / 2}, 0, false, llama3_rope_factors(c)});
  const bool bias = c.attention_bias || c.model_type == "qwen2";  // llama.cpp's qwen2 requires them
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".", h = "model.layers." + std::to_string(l) + ".";
    const int64_t qh = llama_rope ? c.num_attention_heads : 0, kh = llama_rope ? c.num_key_value_heads : 0;
    out.push_back({b + "attn_norm.weight", h + "input_layernorm.weight", {C}, 0, false, {}});
    out.push_back({b + "attn_q.weight", h + "self_attn.q_proj.weight", {q, C}, qh, false, {}});
    out.push_back({b + "attn_k.weight", h + "self_attn.k_proj.weight", {kv, C}, kh, false, {}});
    out.push_back({b + "attn_v.weight", h + "self_attn.v_proj.weight", {kv, C}, 0, false, {}});
    if (bias) {
      // A qwen2 model without biases gets zero biases: exact, and what llama.cpp requires.
      auto zeros = [&](int64_t n) { return c.attention_bias ? std::vector<float>{} : std::vector<float>(n, 0.0f); };
      std::string src = c.attention_bias ? h : "";
      out.push_back({b + "attn_q.bias", src.empty() ? "" : src + "self_attn.q_proj.bias", {q}, qh, false, zeros(q)});
      out.push_back({b + "attn_k.bias", src.empty() ? "" : src + "self_attn.k_proj.bias", {kv}, kh, false, zeros(kv)});
      out.push_back({b + "attn_v.bias", src.empty() ? "" : src + "self_attn.v_proj.bias", {kv}, 0, false, zeros(kv)});
    }
    out.push_back({b + "attn_output.weight", h + "self_attn.o_proj.weight", {C, q}, 0, false, {}});
    out.push_back({b + "ffn_norm.weight", h + "post_attention_layernorm.weight", {C}, 0, false, {}});
    out.push_back({b + "ffn_gate.weight", h + "mlp.gate_proj.weight", {F, C}, 0, false, {}});
    out.push_back({b + "ffn_up.weight", h + "mlp.up_proj.weight", {F, C}, 0, false, {}});
    out.push_back({b + "ffn_down.weight", h + "mlp.down_proj.weight", {C, F}, 0, false, {}});
  }
  out.push_back({"output_norm.weight", "model.norm.weight", {C}, 0, false, {}});
  if (!c.tie_word_embeddings) out.push_back({"output.weight", "lm_head.weight", {V, C}, 0, true, {}});
  return out;
}

std::vector<float> permute_rope_rows(const std::vector<float>& w, int64_t heads, int64_t cols) {
  const int64_t rows = static_cast<int64_t>(w.size()) / cols, hs = rows / heads, half = hs / 2;
  std::vector<float> out(w.size());
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j)
        std::copy_n(w.begin() + (h * hs + j * half + i) * cols, cols, out.begin() + (h * hs + 2 * i + j) * cols);
  return out;
}

}  // namespace nlm::model
