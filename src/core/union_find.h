// Disjoint sets over document indices, with path halving and union by index (the smaller index
// becomes the root), so the structure a set ends in does not depend on the order of unions.
// 4 bytes per document.
#pragma once
#include <cstdint>
#include <numeric>
#include <vector>

namespace nlm {

class UnionFind {
 public:
  explicit UnionFind(size_t n = 0) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0u); }
  size_t size() const { return parent_.size(); }
  uint32_t find(uint32_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  // Returns true when the two were in different sets.
  bool unite(uint32_t a, uint32_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return false;
    if (b < a) std::swap(a, b);
    parent_[b] = a;
    return true;
  }

 private:
  std::vector<uint32_t> parent_;
};

}  // namespace nlm
