// A counting hash table for 64-bit hashes (n-grams, lines, paragraphs), reused from document to
// document so that the filters' hot loops allocate nothing: open addressing with linear probing,
// sized per document, and emptied by resetting only the slots in use.
#pragma once
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <vector>

namespace nlm::curate {

class HashCounter {
 public:
  HashCounter() : slots_(16) {}
  // Empties the table and sizes it for up to `n` distinct keys. The slot array only grows (up to
  // a limit), and a small table uses its front, so documents of mixed sizes do not reallocate.
  void reset(size_t n) {
    clear();
    size_t cap = 16;
    unsigned bits = 4;
    while (cap < 2 * n) {
      cap <<= 1;
      ++bits;
    }
    if (slots_.size() < cap || slots_.size() > std::max<size_t>(cap * 64, size_t{1} << 16))
      slots_.assign(cap, Slot{});
    cap_ = cap;
    bits_ = bits;
  }
  // The count stored for `key` (a new key starts at 0). Key 0 is stored as another fixed key.
  // The reference stays valid until the table holds more keys than reset() was told of.
  [[gnu::always_inline]] uint32_t& operator[](uint64_t key) {
    if (key == 0) key = kZeroKey;
    size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> (64 - bits_));
    for (;;) {
      Slot& s = slots_[i];
      if (s.key == key) return s.count;
      if (s.key == 0) return claim(i, key);
      i = (i + 1) & (cap_ - 1);
    }
  }
  // Inserts `key`; returns false if it was there already.
  bool insert(uint64_t key) { return (*this)[key]++ == 0; }

 private:
  [[gnu::noinline]] uint32_t& claim(size_t i, uint64_t key) {
    if (2 * (used_.size() + 1) > cap_) {
      grow();
      return (*this)[key];
    }
    slots_[i].key = key;
    used_.push_back(static_cast<uint32_t>(i));
    return slots_[i].count;
  }
  void grow() {
    std::vector<Slot> old;
    old.reserve(used_.size());
    for (uint32_t i : used_) old.push_back(slots_[i]);
    reset(cap_);  // twice the capacity: reset() sizes for 2x the keys
    for (const Slot& s : old) (*this)[s.key] = s.count;
  }
  void clear() {
    for (uint32_t i : used_) slots_[i] = Slot{};
    used_.clear();
  }
  static constexpr uint64_t kZeroKey = 0x2545F4914F6CDD1Dull;
  struct Slot {
    uint64_t key = 0;
    uint32_t count = 0;
  };
  std::vector<Slot> slots_;
  std::vector<uint32_t> used_;
  size_t cap_ = 16;  // slots in use: slots_[0, cap_)
  unsigned bits_ = 4;
};

}  // namespace nlm::curate
