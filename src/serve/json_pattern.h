// A JSON Schema `pattern` (an ECMA-262 regular expression, matched anywhere in the string unless
// anchored with ^ and $) compiled into a position automaton (Glushkov: one state per character
// class in the expression, no empty moves) of at most 63 positions, so a set of states fits one
// 64-bit word. The string recogniser steps it one code point at a time and only lets through a
// character after which the match can still be completed, so a sampled string always matches.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nlm::serve {

class Pattern {
 public:
  // Throws std::invalid_argument with the reason for what it does not support (backreferences,
  // lookaround, word boundaries, anchors inside the expression) or when it needs more than 63
  // positions.
  explicit Pattern(const std::string& source);

  static constexpr uint64_t kStart = 1;  // the state set before any character
  // The states after code point `cp`; 0 when no match can be completed from there.
  uint64_t step(uint64_t states, uint32_t cp) const;
  // Whether some code point in [lo, hi] can come next (so the bytes or escape digits read so far
  // of a code point do not lead into a dead end).
  bool can_step(uint64_t states, uint32_t lo, uint32_t hi) const;
  // Whether the string may end here (it matches).
  bool accepts(uint64_t states) const { return (states & accepting_) != 0; }
  size_t positions() const { return classes_.size(); }

  struct Class {  // code point ranges; `negated` takes all others (ASCII only when `ascii`)
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
    bool negated = false, ascii = false;
    bool has(uint32_t cp) const;
    bool meets(uint32_t lo, uint32_t hi) const;  // some code point in [lo, hi] is in the class
  };

 private:
  // Position 0 is the start; positions 1.. are the classes, each with the positions that may
  // follow it.
  std::vector<Class> classes_;
  std::vector<uint64_t> follow_;
  uint64_t accepting_ = 0, live_ = 0;
};

}  // namespace nlm::serve
