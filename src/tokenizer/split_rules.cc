// Scanners for the GPT-2, cl100k/Llama 3, Qwen2 and o200k split regexes. Each alternative of a
// regex is one block below, tried in order at the current position, as a backtracking regex
// engine would (see the comments on the two places where backtracking changes the result).
#include "tokenizer/split_rules.h"

#include <cstdint>

#include "core/error.h"
#include "text/utf8.h"
#include "tokenizer/char_class.h"

namespace nlm::tokenizer {

namespace {

constexpr std::string_view kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kO200k =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// The text decoded once into code points and classes; offsets has n+1 entries.
struct Decoded {
  std::vector<uint32_t> cp;
  std::vector<uint8_t> cls;
  std::vector<size_t> off;
  size_t n = 0;
  void load(std::string_view s) {
    cp.clear();
    cls.clear();
    off.clear();
    for (size_t i = 0; i < s.size();) {
      off.push_back(i);
      uint32_t c = text::utf8_next(s, i);
      cp.push_back(c);
      cls.push_back(char_class(c));
    }
    off.push_back(s.size());
    n = cp.size();
  }
};

bool is_nl(uint32_t c) { return c == '\r' || c == '\n'; }

// Length in code points of a contraction ('s 't 're 've 'm 'll 'd) at k, or 0. `fold` matches
// case-insensitively as Unicode case folding does (so U+017F LONG S matches s).
size_t contraction(const Decoded& d, size_t k, bool fold) {
  if (d.cp[k] != '\'' || k + 1 >= d.n) return 0;
  auto lower = [&](size_t i) -> uint32_t {
    uint32_t c = d.cp[i];
    if (!fold) return c;
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c == 0x17F) return 's';
    return c;
  };
  uint32_t a = lower(k + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (k + 2 >= d.n) return 0;
  uint32_t b = lower(k + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// \s*[\r\n]+ | \s+(?!\S) | \s+ at a whitespace code point k; returns the end.
size_t whitespace_run(const Decoded& d, size_t k, bool newline_alt) {
  size_t j = k;
  while (j < d.n && (d.cls[j] & kSpace)) ++j;
  if (newline_alt) {
    // \s* backtracks from the longest run until [\r\n]+ matches: the piece ends after the last
    // newline of the run.
    for (size_t p = j; p > k; --p)
      if (is_nl(d.cp[p - 1])) return p;
  }
  // \s+(?!\S): the run minus its last space when a non-space follows; else plain \s+.
  if (j == d.n) return j;
  if (j - 1 > k) return j - 1;
  return j;
}

constexpr uint8_t kLN = kLetter | kNumber;
constexpr uint8_t kSLN = kSpace | kLetter | kNumber;

size_t next_gpt2(const Decoded& d, size_t k) {
  if (size_t m = contraction(d, k, false)) return k + m;
  size_t s = (d.cp[k] == ' ' && k + 1 < d.n) ? k + 1 : k;
  for (uint8_t want : {uint8_t(kLetter), uint8_t(kNumber)}) {
    for (size_t start : {s, k}) {
      if (d.cls[start] & want) {
        size_t j = start;
        while (j < d.n && (d.cls[j] & want)) ++j;
        return j;
      }
      if (start == k) break;
    }
  }
  for (size_t start : {s, k}) {
    if (!(d.cls[start] & kSLN)) {
      size_t j = start;
      while (j < d.n && !(d.cls[j] & kSLN)) ++j;
      return j;
    }
    if (start == k) break;
  }
  if (d.cls[k] & kSpace) return whitespace_run(d, k, false);
  return k + 1;
}

size_t punct_run(const Decoded& d, size_t k, bool slash) {
  size_t s = (d.cp[k] == ' ' && k + 1 < d.n && !(d.cls[k + 1] & kSLN)) ? k + 1 : k;
  if (d.cls[s] & kSLN) return 0;
  size_t j = s;
  while (j < d.n && !(d.cls[j] & kSLN)) ++j;
  while (j < d.n && (is_nl(d.cp[j]) || (slash && d.cp[j] == '/'))) ++j;
  return j;
}

size_t next_cl100k(const Decoded& d, size_t k, size_t max_digits) {
  if (size_t m = contraction(d, k, true)) return k + m;
  // [^\r\n\p{L}\p{N}]?\p{L}+ : with the optional char first, then without.
  size_t start = k;
  if (!(d.cls[k] & kLN) && !is_nl(d.cp[k]) && k + 1 < d.n && (d.cls[k + 1] & kLetter)) start = k + 1;
  if (d.cls[start] & kLetter) {
    size_t j = start;
    while (j < d.n && (d.cls[j] & kLetter)) ++j;
    return j;
  }
  if (d.cls[k] & kNumber) {
    size_t j = k;
    while (j < d.n && j - k < max_digits && (d.cls[j] & kNumber)) ++j;
    return j;
  }
  if (size_t j = punct_run(d, k, false)) return j;
  if (d.cls[k] & kSpace) return whitespace_run(d, k, true);
  return k + 1;
}

// [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+ from s, or 0 when it cannot match.
size_t upper_star_lower_plus(const Decoded& d, size_t s) {
  size_t u = s;
  while (u < d.n && (d.cls[u] & kUpperish)) ++u;
  // Greedy U* backtracks until Lw+ can start: the largest q <= u with a lowerish char at q.
  for (size_t q = u + 1; q > s; --q) {
    size_t p = q - 1;
    if (p < d.n && (d.cls[p] & kLowerish)) {
      size_t e = p;
      while (e < d.n && (d.cls[e] & kLowerish)) ++e;
      return e;
    }
  }
  return 0;
}

size_t upper_plus_lower_star(const Decoded& d, size_t s) {
  size_t u = s;
  while (u < d.n && (d.cls[u] & kUpperish)) ++u;
  if (u == s) return 0;
  while (u < d.n && (d.cls[u] & kLowerish)) ++u;
  return u;
}

size_t next_o200k(const Decoded& d, size_t k) {
  bool prefix_ok = !(d.cls[k] & kLN) && !is_nl(d.cp[k]) && k + 1 < d.n;
  for (auto* alt : {&upper_star_lower_plus, &upper_plus_lower_star}) {
    size_t e = 0;
    if (prefix_ok) e = alt(d, k + 1);
    if (!e) e = alt(d, k);
    if (e) {
      if (e < d.n) e += contraction(d, e, true);
      return e;
    }
  }
  if (d.cls[k] & kNumber) {
    size_t j = k;
    while (j < d.n && j - k < 3 && (d.cls[j] & kNumber)) ++j;
    return j;
  }
  if (size_t j = punct_run(d, k, true)) return j;
  if (d.cls[k] & kSpace) return whitespace_run(d, k, true);
  return k + 1;
}

}  // namespace

std::string_view split_rule_regex(SplitRule rule) {
  switch (rule) {
    case SplitRule::Gpt2: return kGpt2;
    case SplitRule::Llama3: return kLlama3;
    case SplitRule::Qwen2: return kQwen2;
    case SplitRule::O200k: return kO200k;
    case SplitRule::None: break;
  }
  return {};
}

bool split_rule_from_regex(std::string_view regex, SplitRule& rule) {
  for (SplitRule r : {SplitRule::Gpt2, SplitRule::Llama3, SplitRule::Qwen2, SplitRule::O200k}) {
    if (regex == split_rule_regex(r)) {
      rule = r;
      return true;
    }
  }
  return false;
}

const char* split_rule_name(SplitRule rule) {
  switch (rule) {
    case SplitRule::Gpt2: return "gpt2";
    case SplitRule::Llama3: return "llama3";
    case SplitRule::Qwen2: return "qwen2";
    case SplitRule::O200k: return "o200k";
    case SplitRule::None: break;
  }
  return "none";
}

void split_pieces(std::string_view text, SplitRule rule, std::vector<std::pair<size_t, size_t>>& out) {
  if (text.empty()) return;
  if (rule == SplitRule::None) {
    out.emplace_back(0, text.size());
    return;
  }
  thread_local Decoded d;
  d.load(text);
  size_t k = 0;
  while (k < d.n) {
    size_t e;
    switch (rule) {
      case SplitRule::Gpt2: e = next_gpt2(d, k); break;
      case SplitRule::Llama3: e = next_cl100k(d, k, 3); break;
      case SplitRule::Qwen2: e = next_cl100k(d, k, 1); break;
      default: e = next_o200k(d, k); break;
    }
    out.emplace_back(d.off[k], d.off[e]);
    k = e;
  }
}

}  // namespace nlm::tokenizer
