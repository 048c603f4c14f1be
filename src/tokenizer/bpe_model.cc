// HF-compatible BPE word encoding (tokenizers' Word::merge_all): a min-heap of candidate merges
// ordered by (rank, position); stale entries are skipped when popped.
#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <cstdio>
#include <queue>

#include "core/error.h"

namespace nlm::tokenizer {

std::string byte_fallback_token(uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "<0x%02X>", b);
  return buf;
}

int byte_fallback_byte(std::string_view t) {
  auto hex = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  if (t.size() != 6 || !t.starts_with("<0x") || t[5] != '>' || hex(t[3]) < 0 || hex(t[4]) < 0) return -1;
  return hex(t[3]) * 16 + hex(t[4]);
}

uint32_t BpeModel::add_token(std::string token) {
  auto it = ids.find(token);
  if (it != ids.end()) return it->second;
  uint32_t id = size();
  ids.emplace(token, id);
  tokens.push_back(std::move(token));
  present.push_back(1);
  return id;
}

void BpeModel::finalize(const std::string& where) {
  present.resize(tokens.size(), 1);
  ids.clear();
  ids.reserve(tokens.size() * 2);
  for (uint32_t i = 0; i < tokens.size(); ++i)
    if (present[i]) ids.emplace(tokens[i], i);
  byte_ids.fill(kNoToken);
  fallback_ids.fill(kNoToken);
  for (int b = 0; b < 256; ++b) {
    byte_ids[b] = id_of(std::string(1, static_cast<char>(b)));
    fallback_ids[b] = id_of(byte_fallback_token(static_cast<uint8_t>(b)));
  }
  (void)where;  // vocabularies trained by HF may lack bytes never seen (0xC0, 0xF5..): see below
  merge_index_.clear();
  merge_index_.reserve(merges.size() * 2);
  for (uint32_t r = 0; r < merges.size(); ++r) {
    const Merge& m = merges[r];
    merge_index_.emplace((uint64_t(m.left) << 32) | m.right, MergeInfo{r, m.merged});
  }
}

uint32_t BpeModel::id_of(std::string_view token) const {
  auto it = ids.find(std::string(token));
  return it == ids.end() ? kNoToken : it->second;
}

void BpeModel::initial_symbols(std::string_view word, std::vector<uint32_t>& out,
                               std::vector<uint32_t>& lens) const {
  if (byte_level) {
    for (unsigned char b : word) {
      if (byte_ids[b] != kNoToken) {
        out.push_back(byte_ids[b]);
      } else if (unk != kNoToken) {  // a byte missing from the vocab: <unk>, or dropped as HF does
        out.push_back(unk);
      } else {
        continue;
      }
      lens.push_back(1);
    }
    return;
  }
  bool last_unk = false;
  for (size_t i = 0; i < word.size();) {
    unsigned char c = static_cast<unsigned char>(word[i]);
    size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    n = std::min(n, word.size() - i);
    std::string_view ch = word.substr(i, n);
    i += n;
    uint32_t id = id_of(ch);
    if (id != kNoToken) {
      out.push_back(id);
      lens.push_back(static_cast<uint32_t>(n));
      last_unk = false;
      continue;
    }
    if (byte_fallback) {
      bool all = true;
      for (unsigned char b : ch) all = all && fallback_ids[b] != kNoToken;
      if (all) {
        for (unsigned char b : ch) {
          out.push_back(fallback_ids[b]);
          lens.push_back(1);
        }
        last_unk = false;
        continue;
      }
    }
    if (unk == kNoToken) continue;  // HF drops characters it cannot represent
    if (fuse_unk && last_unk) {
      lens.back() += static_cast<uint32_t>(n);
    } else {
      out.push_back(unk);
      lens.push_back(static_cast<uint32_t>(n));
    }
    last_unk = true;
  }
}

void BpeModel::encode_word(std::string_view word, std::vector<uint32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges) {
    uint32_t id = id_of(word);
    if (id != kNoToken) {
      out.push_back(id);
      return;
    }
  }
  thread_local std::vector<uint32_t> sym, lens;
  sym.clear();
  lens.clear();
  initial_symbols(word, sym, lens);
  const size_t n = sym.size();
  if (n <= 1 || merges.empty()) {
    out.insert(out.end(), sym.begin(), sym.end());
    return;
  }
  thread_local std::vector<int32_t> prev, next;
  prev.resize(n);
  next.resize(n);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  struct Cand {
    uint32_t rank;
    uint32_t pos;
    uint32_t merged;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  thread_local std::vector<Cand> heap_storage;
  heap_storage.clear();
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap(std::greater<Cand>(),
                                                                      std::move(heap_storage));
  for (size_t i = 0; i + 1 < n; ++i)
    if (auto* m = find_merge(sym[i], sym[i + 1])) heap.push({m->rank, uint32_t(i), m->merged});
  thread_local std::vector<uint8_t> alive;
  alive.assign(n, 1);
  while (!heap.empty()) {
    Cand c = heap.top();
    heap.pop();
    if (!alive[c.pos] || next[c.pos] < 0) continue;
    int32_t r = next[c.pos];
    auto* m = find_merge(sym[c.pos], sym[r]);
    if (!m || m->merged != c.merged) continue;
    sym[c.pos] = c.merged;
    alive[r] = 0;
    next[c.pos] = next[r];
    if (next[r] >= 0) prev[next[r]] = static_cast<int32_t>(c.pos);
    if (prev[c.pos] >= 0) {
      int32_t p = prev[c.pos];
      if (auto* pm = find_merge(sym[p], sym[c.pos])) heap.push({pm->rank, uint32_t(p), pm->merged});
    }
    if (next[c.pos] >= 0) {
      if (auto* nm = find_merge(sym[c.pos], sym[next[c.pos]]))
        heap.push({nm->rank, c.pos, nm->merged});
    }
  }
  for (int32_t i = 0; i >= 0; i = next[i]) out.push_back(sym[i]);
}

}  // namespace nlm::tokenizer
