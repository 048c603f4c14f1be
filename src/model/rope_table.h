// RoPE frequencies and the cos/sin tables the rope op reads, including Llama 3's frequency
// scaling, computed as HF transformers does (inv_freq = θ^(−2i/hs), products in fp32).
#pragma once
#include <vector>

#include "model/config.h"

namespace nlm::model {

// hs/2 inverse frequencies, after rope_scaling.
std::vector<double> rope_inv_freq(const ModelConfig& c);
// cos and sin tables [positions, hs/2], row p holding angle p·inv_freq[i].
void rope_tables(const ModelConfig& c, int positions, std::vector<float>& cos,
                 std::vector<float>& sin);

}  // namespace nlm::model
