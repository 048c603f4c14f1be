// Per-tensor GGUF storage types for each export type (see gguf_mix.h).
#include "model/gguf_mix.h"

#include <map>
#include <set>
#include <utility>

namespace nlm::model {

using gguf::TensorType;

bool q4_k_m_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

namespace {

TensorType uniform_type(GgufOutType t) {
  switch (t) {
    case GgufOutType::F32: return TensorType::F32;
    case GgufOutType::F16: return TensorType::F16;
    case GgufOutType::BF16: return TensorType::BF16;
    case GgufOutType::Q8_0: return TensorType::Q8_0;
    case GgufOutType::Q4_0: return TensorType::Q4_0;
    case GgufOutType::Q4_K_M: return TensorType::Q4_K;
  }
  return TensorType::F32;
}

// llama-quantize's tensor_type_fallback: the type a matrix with rows of `cols` gets instead of t.
TensorType fallback(TensorType t, int64_t cols) {
  if (cols % gguf::block_elements(t) == 0) return t;
  if (t == TensorType::Q4_K) t = TensorType::Q5_0;
  if (t == TensorType::Q6_K) t = TensorType::Q8_0;
  return cols % gguf::block_elements(t) == 0 ? t : TensorType::F16;
}

}  // namespace

std::vector<TensorType> gguf_tensor_types(const std::vector<TensorSource>& plan, GgufOutType type, int64_t layers,
                                          std::vector<std::string>& notes) {
  const bool k_mix = type == GgufOutType::Q4_K_M;
  int64_t attn_v = 0, ffn_down = 0;  // llama-quantize counts these tensors in file order
  int64_t n_attn_v = 0;
  for (const TensorSource& s : plan) n_attn_v += s.name.ends_with(".attn_v.weight");
  // "wanted -> got" -> (row lengths, tensors), for one note per kind of fallback
  std::map<std::pair<TensorType, TensorType>, std::pair<std::set<int64_t>, std::vector<std::string>>> fell_back;
  std::vector<TensorType> out;
  for (const TensorSource& s : plan) {
    if (s.shape.size() == 1) {
      out.push_back(TensorType::F32);
      continue;
    }
    const int64_t cols = s.shape.back();
    TensorType t = uniform_type(type);
    // The matrix that makes the logits (output, or a tied token_embd): llama-quantize gives it
    // Q6_K in the 4-bit types, or Q8_0 when its rows are not whole blocks of the file's type.
    if ((type == GgufOutType::Q4_0 || k_mix) && s.logits)
      t = cols % gguf::block_elements(t) == 0 ? TensorType::Q6_K : TensorType::Q8_0;
    if (k_mix && !s.logits) {
      if (s.name.ends_with(".attn_v.weight")) {
        if (q4_k_m_more_bits(attn_v++, n_attn_v)) t = TensorType::Q6_K;
      } else if (s.name.ends_with(".ffn_down.weight")) {
        if (q4_k_m_more_bits(ffn_down++, layers)) t = TensorType::Q6_K;
      }
    }
    const TensorType got = fallback(t, cols);
    if (got != t) {
      auto& [lengths, names] = fell_back[{t, got}];
      lengths.insert(cols);
      names.push_back(s.name);
    }
    out.push_back(got);
  }
  for (auto& [types, what] : fell_back) {
    auto& [lengths, names] = what;
    std::string rows, list;
    for (int64_t n : lengths) rows += (rows.empty() ? "" : "/") + std::to_string(n);
    for (size_t i = 0; i < names.size() && i < 3; ++i) list += (i ? ", " : "") + names[i];
    if (names.size() > 3) list += ", ...";
    notes.push_back(std::to_string(names.size()) + " matrices with rows of " + rows + " (not whole " +
                    std::string(gguf::tensor_type_name(types.first)) + " blocks) stored as " +
                    std::string(gguf::tensor_type_name(types.second)) + ", as llama-quantize does: " + list);
  }
  return out;
}

}  // namespace nlm::model
