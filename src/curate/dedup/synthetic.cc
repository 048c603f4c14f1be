// Pseudo-words are base-26 spellings of random vocabulary indices, so texts are plain ASCII and
// every tokenizer (ours, whitespace split) sees the same words.
#include "curate/dedup/synthetic.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace nlm::dedup {
namespace {

std::string word(uint64_t index) {
  std::string w = "w";
  do {
    w.push_back(static_cast<char>('a' + index % 26));
    index /= 26;
  } while (index);
  return w;
}

std::string join(const std::vector<uint64_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s.push_back(' ');
    s += word(ids[i]);
  }
  return s;
}

}  // namespace

std::vector<SyntheticDoc> make_synthetic_corpus(const SyntheticOptions& o) {
  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<uint64_t> pick(0, o.vocab - 1);
  const size_t n = static_cast<size_t>(o.ngram);
  const size_t shingles = o.words >= n ? o.words - n + 1 : 1;
  const size_t spacing = n + 1;           // edits this far apart never share an n-gram
  const size_t slots = o.words / (2 * spacing);
  std::vector<SyntheticDoc> out;
  std::vector<uint64_t> ids(o.words), edited;
  std::vector<size_t> slot_ids(slots);
  for (size_t b = 0; b < o.bases; ++b) {
    for (auto& id : ids) id = pick(rng);
    SyntheticDoc base;
    base.id = "b" + std::to_string(b);
    base.text = join(ids);
    out.push_back(base);
    if (o.levels.empty()) continue;
    const double target = o.levels[b % o.levels.size()];
    // J = (S - n m) / (S + n m)  =>  m = S (1 - J) / (n (1 + J)).
    size_t m = static_cast<size_t>(std::llround(static_cast<double>(shingles) * (1 - target) / (static_cast<double>(n) * (1 + target))));
    m = std::min(std::max<size_t>(m, 1), slots);
    for (size_t s = 0; s < slots; ++s) slot_ids[s] = s;
    std::shuffle(slot_ids.begin(), slot_ids.end(), rng);
    edited = ids;
    for (size_t k = 0; k < m; ++k) {
      size_t pos = slot_ids[k] * 2 * spacing + rng() % spacing;
      uint64_t w;
      do w = pick(rng);
      while (w == ids[pos]);
      edited[pos] = w;
    }
    // An edit near an end touches fewer than n shingles; count exactly.
    size_t changed = 0;
    for (size_t i = 0; i + n <= o.words; ++i)
      changed += !std::equal(ids.begin() + static_cast<long>(i), ids.begin() + static_cast<long>(i + n), edited.begin() + static_cast<long>(i));
    SyntheticDoc v;
    v.id = "v" + std::to_string(b);
    v.text = join(edited);
    v.base = static_cast<int64_t>(out.size() - 1);
    v.jaccard = static_cast<double>(shingles - changed) / static_cast<double>(shingles + changed);
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace nlm::dedup
