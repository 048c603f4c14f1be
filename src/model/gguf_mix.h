// Which ggml type each tensor of an export gets for a `--type`: one type for every matrix (f32 ..
// q4_0, with q4_0's logits matrix at Q6_K as llama-quantize stores it), or llama.cpp's Q4_K_M mix,
// chosen as llama_model_quantize does without an importance matrix: Q6_K for the logits matrix, for attn_v
// and for ffn_down in the layers its use_more_bits rule picks (the first and last eighth of the
// layers and every third one between), Q4_K for the other matrices. Norms, biases and rope_freqs
// stay F32. A matrix whose rows are not whole blocks falls back as llama-quantize falls back:
// Q4_K -> Q5_0, Q6_K -> Q8_0 (the logits matrix goes straight to Q8_0 when its rows are not whole
// blocks of the file's type), and any 32-block type
// -> F16 when the rows are not whole blocks of 32 either. Kept apart from the exporter so the
// rule can be tested on its own against llama-quantize's choices.
#pragma once
#include <string>
#include <vector>

#include "model/gguf_export.h"
#include "model/gguf_format.h"
#include "model/gguf_tensors.h"

namespace nlm::model {

// The types of plan's tensors in order; `layers` is the model's layer count. Each fallback adds
// one line to notes (the tensors it applies to, their row length and the type they got).
std::vector<gguf::TensorType> gguf_tensor_types(const std::vector<TensorSource>& plan, GgufOutType type, int64_t layers,
                                                std::vector<std::string>& notes);

// llama.cpp's use_more_bits(i_layer, n_layers): the layers the K_M mixes give more bits.
bool q4_k_m_more_bits(int64_t layer, int64_t layers);

}  // namespace nlm::model
