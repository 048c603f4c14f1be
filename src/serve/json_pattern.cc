// The `pattern` automaton (see json_pattern.h): a recursive-descent parser for the ECMA-262
// subset (alternation, groups, classes, escapes, quantifiers) and the Glushkov construction,
// which gives each class occurrence its own state, with the states that may follow it.
#include "serve/json_pattern.h"

#include <algorithm>
#include <functional>
#include <stdexcept>

namespace nlm::serve {

bool Pattern::Class::has(uint32_t cp) const {
  if (ascii && cp >= 0x80) return false;
  bool in = false;
  for (auto& [a, b] : ranges) in = in || (cp >= a && cp <= b);
  return in != negated;
}

bool Pattern::Class::meets(uint32_t lo, uint32_t hi) const {
  if (ascii) {
    if (lo >= 0x80) return false;
    hi = std::min<uint32_t>(hi, 0x7F);
  }
  if (!negated) {
    for (auto& [a, b] : ranges)
      if (a <= hi && b >= lo) return true;
    return false;
  }
  // Negated: some point of [lo, hi] is outside every range.
  std::vector<std::pair<uint32_t, uint32_t>> sorted = ranges;
  std::sort(sorted.begin(), sorted.end());
  uint32_t from = lo;
  for (auto& [a, b] : sorted) {
    if (b < from) continue;
    if (a > from) return true;
    if (b >= hi) return false;
    from = b + 1;
  }
  return from <= hi;
}

namespace {

constexpr uint32_t kUnbounded = UINT32_MAX;

[[noreturn]] void fail(const std::string& why) { throw std::invalid_argument(why); }

// The expression as a tree; leaves are classes (indices into `classes`).
struct Ast {
  enum Kind { Empty, Leaf, Cat, Alt, Repeat } kind = Empty;
  size_t cls = 0;
  std::vector<Ast> kids;
  uint32_t min = 1, max = 1;  // Repeat
};

class Parser {
 public:
  explicit Parser(const std::string& s) {
    // Code points of the source (it came from JSON, so it is valid UTF-8).
    for (size_t i = 0; i < s.size();) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      const int n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
      if (n == 0 || i + size_t(n) > s.size()) fail("the pattern is not valid UTF-8");
      uint32_t cp = n == 1 ? c : c & (0x7F >> n);
      for (int k = 1; k < n; ++k) cp = cp << 6 | (static_cast<unsigned char>(s[i + size_t(k)]) & 0x3F);
      cps_.push_back(cp);
      i += size_t(n);
    }
  }
  std::vector<Pattern::Class> classes;
  bool anchored_start = false, anchored_end = false;

  Ast parse() {
    size_t end = cps_.size();
    if (end > 0 && cps_[0] == '^') anchored_start = true, pos_ = 1;
    if (end > pos_ && cps_[end - 1] == '$') {
      size_t slashes = 0;  // an escaped \$ is a character
      for (size_t i = end - 1; i > pos_ && cps_[i - 1] == '\\'; --i) ++slashes;
      if (slashes % 2 == 0) anchored_end = true, --end;
    }
    end_ = end;
    Ast a = alternation();
    if (pos_ != end_) fail(peek() == ')' ? "an unmatched ')'" : "'^' or '$' inside the expression (anchors are supported only at its ends)");
    return a;
  }

 private:
  std::vector<uint32_t> cps_;
  size_t pos_ = 0, end_ = 0;

  bool done() const { return pos_ >= end_; }
  uint32_t peek() const { return done() ? 0 : cps_[pos_]; }
  uint32_t next() {
    if (done()) fail("the pattern ends too early");
    return cps_[pos_++];
  }
  Ast leaf(Pattern::Class c) {
    classes.push_back(std::move(c));
    Ast a;
    a.kind = Ast::Leaf;
    a.cls = classes.size() - 1;
    return a;
  }
  static Pattern::Class single(uint32_t cp) { return Pattern::Class{{{cp, cp}}, false, false}; }

  Ast alternation() {
    Ast first = sequence();
    if (done() || peek() != '|') return first;
    Ast alt;
    alt.kind = Ast::Alt;
    alt.kids.push_back(std::move(first));
    while (!done() && peek() == '|') {
      ++pos_;
      alt.kids.push_back(sequence());
    }
    return alt;
  }

  Ast sequence() {
    Ast cat;
    cat.kind = Ast::Cat;
    while (!done() && peek() != '|' && peek() != ')') {
      Ast atom_ = atom();
      for (;;) {  // quantifiers
        uint32_t lo = 0, hi = 0;
        if (done()) break;
        const uint32_t q = peek();
        if (q == '*') {
          lo = 0, hi = kUnbounded, ++pos_;
        } else if (q == '+') {
          lo = 1, hi = kUnbounded, ++pos_;
        } else if (q == '?') {
          lo = 0, hi = 1, ++pos_;
        } else if (q == '{' && braces(lo, hi)) {
        } else {
          break;
        }
        if (!done() && peek() == '?') ++pos_;  // lazy: the same strings
        Ast r;
        r.kind = Ast::Repeat;
        r.min = lo, r.max = hi;
        r.kids.push_back(std::move(atom_));
        atom_ = std::move(r);
      }
      cat.kids.push_back(std::move(atom_));
    }
    return cat;
  }

  // {n}, {n,} or {n,m} at pos_; false (pos_ unchanged) when it is not one (then '{' is a character).
  bool braces(uint32_t& lo, uint32_t& hi) {
    size_t p = pos_ + 1;
    auto number = [&](uint32_t& v) {
      const size_t start = p;
      v = 0;
      while (p < end_ && cps_[p] >= '0' && cps_[p] <= '9') {
        if (v > 1000) fail("a repeat count above 1000");
        v = v * 10 + (cps_[p++] - '0');
      }
      return p > start;
    };
    if (!number(lo)) return false;
    hi = lo;
    if (p < end_ && cps_[p] == ',') {
      ++p;
      if (!number(hi)) hi = kUnbounded;
    }
    if (p >= end_ || cps_[p] != '}') return false;
    if (hi < lo) fail("a repeat {n,m} with n above m");
    pos_ = p + 1;
    return true;
  }

  Ast atom() {
    const uint32_t c = next();
    switch (c) {
      case '(': {
        if (peek() == '?') {
          ++pos_;
          const uint32_t k = next();
          if (k == '<' && peek() != '=' && peek() != '!') {
            while (next() != '>') {}  // a named group
          } else if (k != ':') {
            fail("lookahead and lookbehind are not supported");
          }
        }
        Ast inner = alternation();
        if (done() || next() != ')') fail("an unclosed '('");
        return inner;
      }
      case '[':
        return leaf(bracket());
      case '.':
        return leaf(Pattern::Class{{{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}, true, false});
      case '\\':
        return leaf(escape(false));
      case '*': case '+': case '?':
        fail("nothing to repeat before '" + std::string(1, char(c)) + "'");
      case '^': case '$':
        fail("'^' or '$' inside the expression (anchors are supported only at its ends)");
      default:
        return leaf(single(c));
    }
  }

  // After a backslash. \d \w \s are ASCII (as in ECMA-262); their negations and any class that
  // excludes them take ASCII characters only, which match under every engine's reading.
  Pattern::Class escape(bool in_class) {
    const uint32_t c = next();
    auto hex = [&](int n) {
      uint32_t v = 0;
      for (int i = 0; i < n; ++i) {
        const uint32_t h = next();
        const int d = h >= '0' && h <= '9' ? int(h - '0') : h >= 'a' && h <= 'f' ? int(h - 'a' + 10)
                      : h >= 'A' && h <= 'F' ? int(h - 'A' + 10) : -1;
        if (d < 0) fail("a bad \\x or \\u escape");
        v = v * 16 + uint32_t(d);
      }
      return v;
    };
    switch (c) {
      case 'd': return Pattern::Class{{{'0', '9'}}, false, false};
      case 'D': return Pattern::Class{{{'0', '9'}}, true, true};
      case 'w': return Pattern::Class{{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}, false, false};
      case 'W': return Pattern::Class{{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}, true, true};
      case 's': return Pattern::Class{{{'\t', '\r'}, {' ', ' '}}, false, false};
      case 'S': return Pattern::Class{{{'\t', '\r'}, {' ', ' '}}, true, true};
      case 't': return single('\t');
      case 'n': return single('\n');
      case 'r': return single('\r');
      case 'f': return single('\f');
      case 'v': return single('\v');
      case 'x': return single(hex(2));
      case 'u': {
        const uint32_t v = hex(4);
        if (v >= 0xD800 && v <= 0xDFFF) fail("a surrogate \\u escape");
        return single(v);
      }
      case '0':
        if (peek() >= '0' && peek() <= '9') fail("octal escapes are not supported");
        return single(0);
      case 'b':
        if (in_class) return single('\b');
        fail("word boundaries (\\b) are not supported");
      default:
        if (c >= '1' && c <= '9') fail("backreferences are not supported");
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80)
          fail("the escape \\" + std::string(1, char(c)) + " is not supported");
        return single(c);  // an escaped punctuation character
    }
  }

  Pattern::Class bracket() {
    Pattern::Class out;
    if (peek() == '^') out.negated = true, ++pos_;
    if (peek() == ']') fail("an empty class '[]' or '[^]' (engines read it differently)");
    bool shorthand = false;
    while (!done() && peek() != ']') {
      Pattern::Class item;
      uint32_t c = next();
      if (c == '\\') {
        item = escape(true);
      } else {
        item = single(c);
      }
      const bool one = !item.negated && item.ranges.size() == 1 && item.ranges[0].first == item.ranges[0].second;
      if (one && peek() == '-' && pos_ + 1 < end_ && cps_[pos_ + 1] != ']') {  // a range a-z
        ++pos_;
        uint32_t hi = next();
        if (hi == '\\') {
          Pattern::Class e = escape(true);
          if (e.negated || e.ranges.size() != 1 || e.ranges[0].first != e.ranges[0].second) fail("a class range ends in a class");
          hi = e.ranges[0].first;
        }
        if (hi < item.ranges[0].first) fail("a class range out of order");
        item.ranges[0].second = hi;
      }
      if (item.negated) {
        // [\D] and the like: the complement inside a class; kept exact for ASCII only.
        if (out.negated) fail("a negated shorthand (\\D, \\W, \\S) inside a negated class");
        uint32_t from = 0;
        std::vector<std::pair<uint32_t, uint32_t>> sorted = item.ranges;
        std::sort(sorted.begin(), sorted.end());
        for (auto& [a, b] : sorted) {
          if (a > from) out.ranges.push_back({from, a - 1});
          from = b + 1;
        }
        if (from < 0x80) out.ranges.push_back({from, 0x7F});
        shorthand = true;
      } else {
        if (c == '\\' && !one) shorthand = true;
        out.ranges.insert(out.ranges.end(), item.ranges.begin(), item.ranges.end());
      }
    }
    if (done()) fail("an unclosed '['");
    ++pos_;
    if (out.negated && shorthand) out.ascii = true;
    return out;
  }
};

}  // namespace

Pattern::Pattern(const std::string& source) {
  Parser p(source);
  Ast body = p.parse();
  std::vector<Pattern::Class> leaves = std::move(p.classes);
  // Unanchored ends match anything: .* before and after (any character, even a line break).
  const size_t any = leaves.size();
  leaves.push_back(Class{{}, true, false});
  Ast star_any;
  star_any.kind = Ast::Repeat;
  star_any.min = 0, star_any.max = kUnbounded;
  star_any.kids.push_back(Ast{Ast::Leaf, any, {}, 1, 1});
  Ast whole;
  whole.kind = Ast::Cat;
  if (!p.anchored_start) whole.kids.push_back(star_any);
  whole.kids.push_back(std::move(body));
  if (!p.anchored_end) whole.kids.push_back(star_any);

  // Glushkov: each evaluation of a leaf is a new position (so a{3} has three).
  classes_.push_back(Class{});  // position 0: the start
  follow_.push_back(0);
  struct Info {
    bool nullable = true;
    uint64_t first = 0, last = 0;
  };
  auto cat = [&](const Info& a, const Info& b) {
    for (size_t q = 0; q < follow_.size(); ++q)
      if (a.last >> q & 1) follow_[q] |= b.first;
    return Info{a.nullable && b.nullable, a.first | (a.nullable ? b.first : 0), b.last | (b.nullable ? a.last : 0)};
  };
  auto loop = [&](const Info& a) {  // a+ (its last may go back to its first)
    for (size_t q = 0; q < follow_.size(); ++q)
      if (a.last >> q & 1) follow_[q] |= a.first;
    return a;
  };
  size_t evaluations = 0;  // repeats of empty groups, ((){1000}){1000}, must not run away
  std::function<Info(const Ast&)> eval = [&](const Ast& n) -> Info {
    if (++evaluations > 100000) throw std::invalid_argument("the pattern repeats too much");
    switch (n.kind) {
      case Ast::Empty:
        return Info{};
      case Ast::Leaf: {
        if (classes_.size() >= 64) throw std::invalid_argument("the pattern needs more than 63 states (long repeats?)");
        classes_.push_back(leaves[n.cls]);
        follow_.push_back(0);
        const uint64_t bit = uint64_t(1) << (classes_.size() - 1);
        return Info{false, bit, bit};
      }
      case Ast::Cat: {
        Info r;
        for (auto& k : n.kids) r = cat(r, eval(k));
        return r;
      }
      case Ast::Alt: {
        Info r{false, 0, 0};
        for (auto& k : n.kids) {
          Info a = eval(k);
          r = Info{r.nullable || a.nullable, r.first | a.first, r.last | a.last};
        }
        return r;
      }
      case Ast::Repeat: {
        Info r;
        const Ast& k = n.kids[0];
        if (n.max == kUnbounded) {
          for (uint32_t i = 0; i + 1 < n.min; ++i) r = cat(r, eval(k));
          Info tail = loop(eval(k));
          if (n.min == 0) tail.nullable = true;
          return cat(r, tail);
        }
        for (uint32_t i = 0; i < n.min; ++i) r = cat(r, eval(k));
        for (uint32_t i = n.min; i < n.max; ++i) {
          Info opt = eval(k);
          opt.nullable = true;
          r = cat(r, opt);
        }
        return r;
      }
    }
    return Info{};
  };
  const Info all = eval(whole);
  follow_[0] = all.first;
  accepting_ = all.last | (all.nullable ? kStart : 0);
  // Live states: from them an accepting one can be reached through classes with a character.
  uint64_t enterable = kStart;
  for (size_t q = 1; q < classes_.size(); ++q) {
    const Class& c = classes_[q];
    bool some = c.negated;
    for (auto& [a, b] : c.ranges) some = some || (!c.ascii || a < 0x80);
    if (some) enterable |= uint64_t(1) << q;
  }
  live_ = accepting_ & enterable;
  for (bool grew = true; grew;) {
    grew = false;
    for (size_t q = 0; q < classes_.size(); ++q)
      if ((enterable >> q & 1) && !(live_ >> q & 1) && (follow_[q] & live_)) live_ |= uint64_t(1) << q, grew = true;
  }
  if (!(live_ & kStart)) throw std::invalid_argument("no string matches the pattern");
}

bool Pattern::can_step(uint64_t states, uint32_t lo, uint32_t hi) const {
  uint64_t next = 0;
  for (size_t q = 0; q < follow_.size(); ++q)
    if (states >> q & 1) next |= follow_[q];
  next &= live_;
  for (size_t q = 1; q < classes_.size(); ++q)
    if ((next >> q & 1) && classes_[q].meets(lo, hi)) return true;
  return false;
}

uint64_t Pattern::step(uint64_t states, uint32_t cp) const {
  uint64_t next = 0;
  for (size_t q = 0; q < follow_.size(); ++q)
    if (states >> q & 1) next |= follow_[q];
  uint64_t out = 0;
  for (size_t q = 1; q < classes_.size(); ++q)
    if ((next >> q & 1) && classes_[q].has(cp)) out |= uint64_t(1) << q;
  return out & live_;
}

}  // namespace nlm::serve
