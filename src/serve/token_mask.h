// Constrained sampling: the raw bytes every token stands for (built once per model), and the mask
// that sets to -inf the logits of tokens whose bytes would break a JsonConstraint, so the sampler
// can only pick tokens that keep the answer valid JSON of the requested schema.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/sampler.h"
#include "serve/json_constraint.h"
#include "tokenizer/tokenizer.h"

namespace nlm::serve {

class TokenBytes {
 public:
  // Each id's bytes as the decoder joins them (byte-level BPE unmapped, <0xNN> byte tokens, the
  // decoder's replacements). Added tokens (special or not) and empty tokens get none: they are
  // never allowed inside the JSON.
  explicit TokenBytes(const tokenizer::Tokenizer& tok);
  // For tests and benchmarks: given bytes per id ("" = never allowed).
  explicit TokenBytes(std::vector<std::string> bytes) : bytes_(std::move(bytes)) {}
  const std::string& operator[](size_t id) const { return bytes_[id]; }
  size_t size() const { return bytes_.size(); }

 private:
  std::vector<std::string> bytes_;
};

// Masks logits [V] in place for the next token under `constraint`: tokens whose bytes it does not
// accept get -inf; the end ids (EOS, the template's end token) are allowed only when the JSON so
// far can end, and once it is complete only they are. When the sampling options use only the top
// of the distribution (greedy, or top-k without penalties or a logit bias that could reorder it), tokens are
// tried in order of logit and the search stops once enough are allowed: the sampler then picks
// exactly what it would pick after a full mask. `scratch` is reused between calls. Returns the
// number of tokens tried.
int mask_logits(const JsonConstraint& constraint, const TokenBytes& tokens, const std::vector<int32_t>& end_ids,
                const model::SamplingOptions& sampling, float* logits, int64_t V, JsonConstraint& scratch);

}  // namespace nlm::serve
