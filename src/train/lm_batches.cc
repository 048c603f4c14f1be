// Token-shard batching for LM training (see lm_batches.h).
#include "train/lm_batches.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/error.h"
#include "core/json_ints.h"
#include "core/rng.h"
#include "data/token_shard.h"

namespace nlm::train {

struct LmBatches::Source {
  std::vector<std::unique_ptr<data::TokShardReader>> shards;
  uint64_t tokens = 0;
  size_t shard = 0;     // cursor: current shard
  uint64_t offset = 0;  // cursor: next token in it
  uint64_t epoch = 0;
  // Shuffled reading: documents are numbered across the shards (doc_base[k] = first number of
  // shard k); the cursor is document `pos` of the epoch's order, token `doc_offset` inside it.
  std::vector<uint64_t> doc_base;
  uint64_t docs = 0;
  uint64_t pos = 0, doc_offset = 0;
  std::vector<uint64_t> order;  // the permutation of epoch order_epoch
  uint64_t order_epoch = UINT64_MAX;
};

LmBatches::LmBatches(const std::vector<DataSource>& sources, int B, int T, bool doc_masking,
                     uint64_t seed, int64_t model_vocab, bool shuffle_documents)
    : B_(B), T_(T), doc_masking_(doc_masking), shuffle_(shuffle_documents), seed_(seed), rng_(seed) {
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
      if (r->size() > 0) {
        src->doc_base.push_back(src->docs);
        src->docs += r->docs();
        src->shards.push_back(std::move(r));
      }
    }
    if (shuffle_ && src->tokens >= 2 && src->docs == 0)
      usage_error("shuffling documents needs document offsets, and these shards have none", s.shards.front(),
                  "re-run tokenize, or turn shuffle_documents off");
    if (src->tokens < 2)
      usage_error("data source has " + std::to_string(src->tokens) + " tokens", s.shards.front(),
                  "the shards are empty; re-run tokenize on non-empty input");
    total_w += s.weight;
    cumulative_.push_back(total_w);
    sources_.push_back(std::move(src));
  }
  for (double& c : cumulative_) c /= total_w;
}

const std::vector<uint64_t>& LmBatches::order(Source& s, size_t index, uint64_t epoch) {
  if (s.order_epoch != epoch) {
    s.order.resize(s.docs);
    for (uint64_t d = 0; d < s.docs; ++d) s.order[d] = d;
    uint64_t r = seed_ ^ (0x9e3779b97f4a7c15ull * (index + 1)) ^ (0xd1b54a32d192ed03ull * (epoch + 1));
    for (uint64_t i = s.docs; i > 1; --i) std::swap(s.order[i - 1], s.order[splitmix64(r) % i]);
    s.order_epoch = epoch;
  }
  return s.order;
}

// Reads T+1 tokens from the source's cursor, in shard order; the next row starts T tokens later
// (the last token is shared).
void LmBatches::read_row(Source& s, std::vector<uint32_t>& tok, std::vector<int32_t>& doc_start) {
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
}

// The same in the shuffled document order.
void LmBatches::read_shuffled_row(size_t source, std::vector<uint32_t>& tok, std::vector<int32_t>& doc_start) {
  Source& s = *sources_[source];
  uint64_t epoch = s.epoch, pos = s.pos, off = s.doc_offset;
  for (int i = 0; i <= T_; ++i) {
    bool starts = false;
    tok[i] = shuffled_token(source, epoch, pos, off, starts);
    doc_start[i] = starts || i == 0 ? 1 : 0;
    if (i == T_ - 1) {
      s.epoch = epoch;
      s.pos = pos;
      s.doc_offset = off;
    }
  }
}

uint32_t LmBatches::shuffled_token(size_t source, uint64_t& epoch, uint64_t& pos, uint64_t& off,
                                   bool& doc_start) {
  Source& s = *sources_[source];
  for (;;) {  // skips finished (and empty) documents; ends because the source holds tokens
    const uint64_t d = order(s, source, epoch)[pos];
    const size_t k = static_cast<size_t>(std::upper_bound(s.doc_base.begin(), s.doc_base.end(), d) -
                                         s.doc_base.begin()) - 1;
    const auto& sh = *s.shards[k];
    const auto offs = sh.doc_offsets();
    const uint64_t begin = offs[d - s.doc_base[k]], end = offs[d - s.doc_base[k] + 1];
    if (begin + off < end) {
      doc_start = off == 0;
      return sh.token(begin + off++);
    }
    off = 0;
    if (++pos == s.docs) {
      pos = 0;
      ++epoch;
    }
  }
}

LmBatches::~LmBatches() = default;

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
    if (shuffle_) read_shuffled_row(which, tok, doc_start);
    else read_row(*sources_[which], tok, doc_start);
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
  if (shuffle_) j["shuffle_seed"] = seed_;  // the permutations follow the run's seed, not this one
  j["sources"] = nlohmann::json::array();
  for (auto& s : sources_)
    if (shuffle_)
      j["sources"].push_back({{"pos", s->pos}, {"doc_offset", s->doc_offset}, {"epoch", s->epoch}});
    else
      j["sources"].push_back({{"shard", s->shard}, {"offset", s->offset}, {"epoch", s->epoch}});
  return j.dump();
}

void LmBatches::restore(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
    rng_ = json_uint(j.at("rng"), "rng", "data cursor");
    if (j.contains("shuffle_seed") != shuffle_)
      usage_error(std::string("checkpoint was made with document shuffling ") + (shuffle_ ? "off" : "on"),
                  "resume", "resume with the same shuffle_documents setting");
    if (shuffle_) seed_ = json_uint(j.at("shuffle_seed"), "shuffle_seed", "data cursor");
    const auto& arr = j.at("sources");
    if (arr.size() != sources_.size())
      usage_error("checkpoint was made with " + std::to_string(arr.size()) + " data sources, config has " +
                      std::to_string(sources_.size()),
                  "resume", "resume with the same data configuration");
    for (size_t i = 0; i < sources_.size(); ++i) {
      Source& s = *sources_[i];
      if (shuffle_) {
        s.order_epoch = UINT64_MAX;  // rebuilt from the restored seed
        s.pos = json_uint(arr[i].at("pos"), "pos", "data cursor");
        s.doc_offset = json_uint(arr[i].at("doc_offset"), "doc_offset", "data cursor");
        s.epoch = json_uint(arr[i].at("epoch"), "epoch", "data cursor");
        if (s.pos >= s.docs || s.doc_offset > s.tokens)
          usage_error("data cursor does not fit the shards", "resume", "resume with the same data");
        continue;
      }
      s.shard = static_cast<size_t>(json_uint(arr[i].at("shard"), "shard", "data cursor"));
      s.offset = json_uint(arr[i].at("offset"), "offset", "data cursor");
      s.epoch = json_uint(arr[i].at("epoch"), "epoch", "data cursor");
      if (s.shard >= s.shards.size() || s.offset > s.shards[s.shard]->size())
        usage_error("data cursor does not fit the shards", "resume", "resume with the same data");
    }
  } catch (const nlohmann::json::exception& e) {
    runtime_error(std::string("corrupt data cursor in checkpoint: ") + e.what(), "resume");
  }
}

}  // namespace nlm::train
