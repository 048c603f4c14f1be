// Token bytes and the JSON mask over logits (see token_mask.h).
#include "serve/token_mask.h"

#include <algorithm>
#include <cmath>


namespace nlm::serve {

namespace {

void replace_all(std::string& s, const std::string& a, const std::string& b) {
  if (a.empty()) return;
  for (size_t p = s.find(a); p != std::string::npos; p = s.find(a, p + b.size())) s.replace(p, a.size(), b);
}

}  // namespace

TokenBytes::TokenBytes(const tokenizer::Tokenizer& tok) {
  const uint32_t V = tok.vocab_size();
  bytes_.resize(V);
  bool byte_level = false;
  for (auto& d : tok.decoders) byte_level |= d.kind == tokenizer::DecoderStep::ByteLevel;
  std::vector<int> byte_of(V, -1);
  if (tok.model.byte_fallback)
    for (int b = 0; b < 256; ++b)
      if (tok.model.fallback_ids[size_t(b)] < V) byte_of[tok.model.fallback_ids[size_t(b)]] = b;
  for (uint32_t id = 0; id < V; ++id) {
    if (tok.added_token(id) || id >= tok.model.tokens.size() || !tok.model.present[id]) continue;
    const std::string& piece = tok.model.tokens[id];
    std::string raw;
    if (byte_of[id] >= 0) {
      raw.assign(1, static_cast<char>(byte_of[id]));
    } else if (byte_level) {
      raw = piece;  // the model keeps byte-level tokens as raw bytes (mapped only on file I/O)
    } else {
      raw = piece;
      for (auto& d : tok.decoders) {
        if (d.kind == tokenizer::DecoderStep::Replace) replace_all(raw, d.a, d.b);
        if (d.kind == tokenizer::DecoderStep::Metaspace) replace_all(raw, d.a, " ");
      }
    }
    bytes_[id] = std::move(raw);
  }
}

int mask_logits(const JsonConstraint& constraint, const TokenBytes& tokens, const std::vector<int32_t>& end_ids,
                const model::SamplingOptions& o, float* logits, int64_t V, JsonConstraint& scratch) {
  const bool can_end = constraint.can_end();
  const bool complete = constraint.complete();
  auto is_end = [&](int64_t id) { return std::find(end_ids.begin(), end_ids.end(), id) != end_ids.end(); };
  // Which first bytes can come next: most tokens fail on their first byte, for 256 trials.
  bool first_ok[256];
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    first_ok[b] = !complete && constraint.accepts(std::string_view(&c, 1), scratch);
  }
  auto allowed = [&](int64_t id) {
    if (is_end(id)) return can_end;
    if (size_t(id) >= tokens.size()) return false;
    const std::string& t = tokens[size_t(id)];
    if (t.empty() || !first_ok[uint8_t(t[0])]) return false;
    return t.size() == 1 || constraint.accepts(t, scratch);
  };
  // The sampler reorders nothing before its top-k cut when no penalty or logit bias applies.
  const bool penalties = o.repetition_penalty != 1.0 || o.presence_penalty != 0 || o.frequency_penalty != 0 ||
                         !o.logit_bias.empty();
  int64_t need = 0;  // allowed tokens the sampler can use at most; 0 = all
  if (!penalties) need = o.temperature <= 0 ? 1 : o.top_k > 0 ? o.top_k : 0;
  int tried = 0;
  if (need > 0 && need < V) {
    // Best first (ties by the smaller id, as the sampler orders them), until `need` are allowed.
    auto worse = [&](int32_t a, int32_t b) { return logits[a] != logits[b] ? logits[a] < logits[b] : a > b; };
    std::vector<int32_t> heap(static_cast<size_t>(V));
    for (int64_t i = 0; i < V; ++i) heap[size_t(i)] = static_cast<int32_t>(i);
    std::make_heap(heap.begin(), heap.end(), worse);
    std::vector<int32_t> keep;
    auto end = heap.end();
    while (end != heap.begin() && static_cast<int64_t>(keep.size()) < need) {
      std::pop_heap(heap.begin(), end, worse);
      --end;
      ++tried;
      if (allowed(*end)) keep.push_back(*end);
    }
    std::vector<float> kept;
    for (int32_t id : keep) kept.push_back(logits[id]);
    std::fill(logits, logits + V, -INFINITY);
    for (size_t i = 0; i < keep.size(); ++i) logits[keep[i]] = kept[i];
    if (keep.empty() && !end_ids.empty() && end_ids[0] >= 0 && end_ids[0] < V) logits[end_ids[0]] = 0;  // stuck: end rather than emit junk
    return tried;
  }
  bool any = false;
  for (int64_t i = 0; i < V; ++i) {
    ++tried;
    if (allowed(i))
      any = true;
    else
      logits[i] = -INFINITY;
  }
  if (!any && !end_ids.empty() && end_ids[0] >= 0 && end_ids[0] < V) logits[end_ids[0]] = 0;  // stuck: end rather than emit junk
  return tried;
}

}  // namespace nlm::serve
