// Token-shard batching for LM training (see lm_batches.h).
#include "train/lm_batches.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/error.h"
#include "core/rng.h"
#include "data/token_shard.h"

namespace nlm::train {

struct LmBatches::Source {
  std::vector<std::unique_ptr<data::TokShardReader>> shards;
  uint64_t tokens = 0;
  size_t shard = 0;     // cursor: current shard
  uint64_t offset = 0;  // cursor: next token in it
  uint64_t epoch = 0;
};

LmBatches::LmBatches(const std::vector<DataSource>& sources, int B, int T, bool doc_masking,
                     uint64_t seed, int64_t model_vocab)
    : B_(B), T_(T), doc_masking_(doc_masking), rng_(seed) {
  if (sources.empty()) usage_error("no training data given", "data", "list .tok shards under data:");
  if (B <= 0 || T <= 0) usage_error("batch size and sequence length must be positive", "data");
  double total_w = 0;
  for (auto& s : sources) {
    if (s.shards.empty()) usage_error("a data source lists no shards", "data");
    if (!(s.weight > 0)) usage_error("data source weights must be positive", "data");
    auto src = std::make_unique<Source>();
    for (auto& path : s.shards) {
      auto r = std::make_unique<data::TokShardReader>(path);
      if (static_cast<int64_t>(r->header().vocab_size) > model_vocab)
        usage_error("vocabulary mismatch: shard made with a " + std::to_string(r->header().vocab_size) +
                        "-token vocabulary, model has " + std::to_string(model_vocab),
                    path, "tokenize with the model's tokenizer or raise vocab_size");
      src->tokens += r->size();
      if (r->size() > 0) src->shards.push_back(std::move(r));
    }
    if (src->tokens < 2)
      usage_error("data source has " + std::to_string(src->tokens) + " tokens", s.shards.front(),
                  "the shards are empty; re-run tokenize on non-empty input");
    total_w += s.weight;
    cumulative_.push_back(total_w);
    sources_.push_back(std::move(src));
  }
  for (double& c : cumulative_) c /= total_w;
}

LmBatches::~LmBatches() = default;

uint64_t LmBatches::total_tokens() const {
  uint64_t n = 0;
  for (auto& s : sources_) n += s->tokens;
  return n;
}

model::Batch LmBatches::next() {
  model::Batch b;
  b.B = B_;
  b.T = T_;
  const size_t N = static_cast<size_t>(B_) * T_;
  b.inputs.resize(N);
  b.targets.resize(N);
  b.positions.resize(N);
  if (doc_masking_) b.docs.resize(N);
  std::vector<uint32_t> tok(T_ + 1);
  std::vector<int32_t> doc_start(T_ + 1);  // 1 where a document starts at this token
  for (int r = 0; r < B_; ++r) {
    size_t which = 0;
    if (sources_.size() > 1) {
      double u = uniform01(rng_);
      while (which + 1 < cumulative_.size() && u >= cumulative_[which]) ++which;
    }
    Source& s = *sources_[which];
    // Read T+1 tokens; the next row starts T tokens later (the last token is shared).
    size_t shard = s.shard;
    uint64_t off = s.offset;
    for (int i = 0; i <= T_; ++i) {
      while (off >= s.shards[shard]->size()) {
        off = 0;
        shard = (shard + 1) % s.shards.size();
      }
      const auto& sh = *s.shards[shard];
      tok[i] = sh.token(off);
      auto offs = sh.doc_offsets();
      bool starts = std::binary_search(offs.begin(), offs.end(), off) || i == 0 || off == 0;
      doc_start[i] = starts ? 1 : 0;
      ++off;
      if (i == T_ - 1) {  // cursor for the next row: position of token T
        s.shard = shard;
        s.offset = off;
      }
    }
    if (s.offset >= s.shards[s.shard]->size()) {
      s.offset = 0;
      s.shard = (s.shard + 1) % s.shards.size();
      if (s.shard == 0) ++s.epoch;
    }
    int32_t doc = -1, pos = 0;
    for (int t = 0; t < T_; ++t) {
      size_t i = static_cast<size_t>(r) * T_ + t;
      b.inputs[i] = static_cast<int32_t>(tok[t]);
      b.targets[i] = static_cast<int32_t>(tok[t + 1]);
      if (doc_masking_) {
        if (doc_start[t]) {
          ++doc;
          pos = 0;
        }
        b.docs[i] = doc;
        b.positions[i] = pos++;
      } else {
        b.positions[i] = t;
      }
    }
  }
  return b;
}

std::string LmBatches::state_json() const {
  nlohmann::json j;
  j["rng"] = rng_;
  j["sources"] = nlohmann::json::array();
  for (auto& s : sources_)
    j["sources"].push_back({{"shard", s->shard}, {"offset", s->offset}, {"epoch", s->epoch}});
  return j.dump();
}

void LmBatches::restore(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
    rng_ = j.at("rng").get<uint64_t>();
    const auto& arr = j.at("sources");
    if (arr.size() != sources_.size())
      usage_error("checkpoint was made with " + std::to_string(arr.size()) + " data sources, config has " +
                      std::to_string(sources_.size()),
                  "resume", "resume with the same data configuration");
    for (size_t i = 0; i < sources_.size(); ++i) {
      Source& s = *sources_[i];
      s.shard = arr[i].at("shard").get<size_t>();
      s.offset = arr[i].at("offset").get<uint64_t>();
      s.epoch = arr[i].at("epoch").get<uint64_t>();
      if (s.shard >= s.shards.size() || s.offset > s.shards[s.shard]->size())
        usage_error("data cursor does not fit the shards", "resume", "resume with the same data");
    }
  } catch (const nlohmann::json::exception& e) {
    runtime_error(std::string("corrupt data cursor in checkpoint: ") + e.what(), "resume");
  }
}

}  // namespace nlm::train
