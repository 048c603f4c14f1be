// The byte-level JSON recogniser (see json_constraint.h); the schema compiler is json_schema.cc.
#include "serve/json_constraint.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>


namespace nlm::serve {

namespace {

using json = nlohmann::json;

bool is_ws(uint8_t c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Frame kinds and their states.
enum : uint8_t { kValue, kObject, kArray, kString, kNumber, kLiteral };
enum : uint8_t { kObjOpen, kObjKey, kObjValue, kObjComma };
enum : uint8_t { kArrOpen, kArrValue };
enum : uint8_t { kStrNormal, kStrEscape, kStrHex, kStrUtf8, kStrLowSlash, kStrLowU, kStrLowHex };
enum : uint8_t { kNumBegin, kNumMinus, kNumZero, kNumInt, kNumDot, kNumFrac, kNumE, kNumExpSign, kNumExp };
// Two exponent digits keep every number finite as a double (at most 15 digits times 1e99): with
// three, "12e519" fits the grammar but is out of range for strict parsers (nlohmann, Go, serde),
// and JavaScript reads it as Infinity.
constexpr uint32_t kMaxIntDigits = 15, kMaxFracDigits = 15, kMaxExpDigits = 2;

// Whether key i of a closed object is still free: not given yet, in its place when the object
// orders its keys, and its value (pushed at `height` frames) can be finished within the nesting
// bound.
bool key_fits(const SchemaNode& object, uint64_t seen, uint32_t i, size_t height) {
  if (seen >> i & 1) return false;
  if (!object.after.empty() && ((seen & object.after[i]) || (object.before_required[i] & ~seen))) return false;
  return height + object.values[i]->depth <= JsonSchema::kMaxNesting;
}

bool number_can_end(uint8_t st) { return st == kNumZero || st == kNumInt || st == kNumFrac || st == kNumExp; }

// Number ranges. A frame holds the sign (aux), the integer part's digits (seen, n of them until
// the point) and the fraction's (frac, n of them after the point).
using Frame = JsonConstraint::Frame;
constexpr int64_t kPow10[16] = {1,         10,         100,         1000,         10000,         100000,
                                1000000,   10000000,   100000000,   1000000000,   10000000000,   100000000000,
                                1000000000000, 10000000000000, 100000000000000, 1000000000000000};

// The value so far is within the node's range (the number may end here).
bool number_in_range(const SchemaNode& node, const Frame& f) {
  const bool neg = f.aux == 1;
  if (node.kind == SchemaNode::Integer) {
    const int64_t v = neg ? -int64_t(f.seen) : int64_t(f.seen);
    return v >= node.int_min && v <= node.int_max && (node.multiple == 0 || v % node.multiple == 0);
  }
  // As a validator sees it: the text parsed into a double.
  char text[64];
  if (f.st == kNumFrac)
    std::snprintf(text, sizeof text, "%s%llu.%0*llu", neg ? "-" : "", static_cast<unsigned long long>(f.seen),
                  int(f.n), static_cast<unsigned long long>(f.frac));
  else
    std::snprintf(text, sizeof text, "%s%llu", neg ? "-" : "", static_cast<unsigned long long>(f.seen));
  const double v = std::strtod(text, nullptr);
  return v >= node.num_min && v <= node.num_max;
}

// Some way to go on from this number prefix ends within the node's range. The values reachable
// from a prefix are a few intervals of magnitudes: k more integer digits give
// [m·10^k, (m+1)·10^k), a fraction so far gives [v, v + 10^-digits).
bool number_reachable(const SchemaNode& node, const Frame& f) {
  const bool neg = f.aux == 1;
  const bool started = f.st != kNumBegin && f.st != kNumMinus;
  if (node.kind == SchemaNode::Integer) {
    auto hit = [&](int64_t a, int64_t b) {  // magnitudes a..b, holding a multiple when one is asked for
      const int64_t lo = std::max(neg ? -b : a, node.int_min), hi = std::min(neg ? -a : b, node.int_max);
      if (lo > hi) return false;
      if (node.multiple == 0) return true;
      const int64_t k = node.multiple, below = hi / k - (hi % k < 0 ? 1 : 0);  // floor(hi / k)
      return below * k >= lo;
    };
    if (!started) return hit(0, kPow10[kMaxIntDigits] - 1);
    if (f.seen == 0) return hit(0, 0);  // nothing may follow a leading 0
    for (uint32_t k = 0; f.n + k <= kMaxIntDigits; ++k) {
      const int64_t a = int64_t(f.seen) * kPow10[k];
      if (hit(a, a + kPow10[k] - 1)) return true;
    }
    return false;
  }
  auto hit = [&](long double a, long double b) {  // magnitudes in [a, b)
    if (!neg) return a <= node.num_max && b > node.num_min;
    return -b < node.num_max && -a >= node.num_min;
  };
  if (!started) return hit(0, 1e15L);
  const long double m = static_cast<long double>(f.seen);
  if (f.st == kNumDot || f.st == kNumFrac) {
    const long double unit = 1 / static_cast<long double>(kPow10[f.st == kNumDot ? 0 : f.n]);
    const long double v = m + static_cast<long double>(f.frac) * unit;
    return hit(v, v + unit);
  }
  if (f.seen == 0) return hit(0, 1);
  for (uint32_t k = 0; f.n + k <= kMaxIntDigits; ++k)
    if (hit(m * kPow10[k], (m + 1) * kPow10[k])) return true;
  return false;
}

// String formats, one character at a time. A string frame with a format holds the automaton's
// state (pos), the year (lo), the month (hi), a tens digit (seen) and fraction digits (frac).
uint32_t days_in(uint32_t month, uint32_t year) {
  static const uint32_t days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return days[month - 1] + (month == 2 && leap ? 1 : 0);
}

// YYYY-MM-DD, position j: years 0001-9999, real months and days (29 February in leap years).
bool date_char(uint32_t j, uint8_t c, Frame& f) {
  const bool digit = c >= '0' && c <= '9';
  const uint32_t d = c - '0';
  switch (j) {
    case 0: case 1: case 2: case 3:
      if (!digit) return false;
      f.lo = f.lo * 10 + d;
      return j < 3 || f.lo != 0;
    case 4: case 7:
      return c == '-';
    case 5:
      f.hi = d;
      return digit && d <= 1;
    case 6:
      f.hi = f.hi * 10 + d;
      return digit && f.hi >= 1 && f.hi <= 12;
    case 8:
      f.seen = d;
      return digit && (d < 3 || (d == 3 && days_in(f.hi, f.lo) >= 30));
    case 9: {
      const uint32_t day = uint32_t(f.seen) * 10 + d;
      return digit && day >= 1 && day <= days_in(f.hi, f.lo);
    }
  }
  return false;
}

// The states of HH:MM:SS[.fraction](Z|+HH:MM|-HH:MM) (RFC 3339's full-time; no leap second, at
// most 9 fraction digits), and the state after the last character.
constexpr uint32_t kTimeDone = 16, kTimeAt = 11;  // a date-time's time starts after "YYYY-MM-DDT"

bool time_char(uint32_t& st, uint8_t c, Frame& f) {
  const bool digit = c >= '0' && c <= '9';
  const uint32_t d = c - '0';
  switch (st) {
    case 0: case 11:  // hour tens
      f.seen = d;
      return digit && d <= 2 && (++st, true);
    case 1: case 12:  // hour units
      return digit && (f.seen < 2 || d <= 3) && (++st, true);
    case 2: case 5: case 13:
      return c == ':' && (++st, true);
    case 3: case 6: case 14:  // minute or second tens
      return digit && d <= 5 && (++st, true);
    case 4: case 7: case 15:
      return digit && (++st, true);
    case 8:  // after the seconds
    case 10:  // in the fraction
      if (st == 10 && digit && f.frac < 9) return ++f.frac, true;
      if (st == 8 && c == '.') return st = 9, true;
      if (c == 'Z') return st = kTimeDone, true;
      if (c == '+' || c == '-') return st = 11, true;
      return false;
    case 9:
      f.frac = 1;
      return digit && (st = 10, true);
  }
  return false;
}

bool format_char(SchemaNode::Format fmt, Frame& f, uint8_t c) {
  if (fmt == SchemaNode::Uuid) {
    if (f.pos >= 36) return false;
    const uint32_t j = f.pos++;
    return j == 8 || j == 13 || j == 18 || j == 23 ? c == '-' : hex_value(c) >= 0;
  }
  if (fmt == SchemaNode::Date || fmt == SchemaNode::DateTime) {
    if (f.pos < 10) return date_char(f.pos++, c, f);
    if (fmt == SchemaNode::Date) return false;
    if (f.pos == 10) return c == 'T' && (++f.pos, true);
  }
  const uint32_t base = fmt == SchemaNode::DateTime ? kTimeAt : 0;
  uint32_t st = f.pos - base;
  if (!time_char(st, c, f)) return false;
  f.pos = base + st;
  return true;
}

bool format_done(SchemaNode::Format fmt, const Frame& f) {
  switch (fmt) {
    case SchemaNode::Uuid: return f.pos == 36;
    case SchemaNode::Date: return f.pos == 10;
    case SchemaNode::Time: return f.pos == kTimeDone;
    case SchemaNode::DateTime: return f.pos == kTimeAt + kTimeDone;
    default: return true;
  }
}

// Narrows the sorted literal range [lo, hi) to those with byte c at pos.
void narrow(const std::vector<std::string>& lits, uint32_t& lo, uint32_t& hi, uint32_t pos, uint8_t c) {
  auto key = [pos](const std::string& s) { return s.size() > pos ? int(uint8_t(s[pos])) : -1; };
  auto b = lits.begin();
  auto l = std::partition_point(b + lo, b + hi, [&](const std::string& s) { return key(s) < int(c); });
  auto h = std::partition_point(l, b + hi, [&](const std::string& s) { return key(s) <= int(c); });
  lo = static_cast<uint32_t>(l - b);
  hi = static_cast<uint32_t>(h - b);
}

}  // namespace

// ---- recogniser ------------------------------------------------------------------------------

JsonConstraint::JsonConstraint(const JsonSchema* schema) : schema_(schema) {
  Stack s;
  Frame f;
  f.kind = kValue;
  f.node = schema->root();
  s.frames.push_back(f);
  threads_.push_back(std::move(s));
  live_ = 1;
}

bool JsonConstraint::accepts(std::string_view bytes) const {
  JsonConstraint scratch(*this);
  return scratch.advance(bytes);
}

bool JsonConstraint::accepts(std::string_view bytes, JsonConstraint& scratch) const {
  // Copies only the live stacks, into storage the scratch already has.
  scratch.schema_ = schema_;
  if (scratch.threads_.size() < live_) scratch.threads_.resize(live_);
  for (size_t i = 0; i < live_; ++i) scratch.threads_[i] = threads_[i];
  scratch.live_ = live_;
  return scratch.advance(bytes);
}

bool JsonConstraint::advance(std::string_view bytes) {
  for (char ch : bytes) {
    forks_.clear();
    size_t w = 0;
    for (size_t i = 0; i < live_; ++i)
      if (step(threads_[i], static_cast<uint8_t>(ch), forks_)) {
        if (w != i) std::swap(threads_[w], threads_[i]);
        ++w;
      }
    live_ = w;
    for (auto& f : forks_) {
      if (live_ >= kMaxThreads) break;
      if (threads_.size() <= live_) threads_.emplace_back();
      threads_[live_++] = std::move(f);
    }
    // Alternatives that reached the same state are one (else anyOf in a list would multiply).
    for (size_t i = 1; i < live_;) {
      if (std::find(threads_.begin(), threads_.begin() + long(i), threads_[i]) != threads_.begin() + long(i)) {
        std::swap(threads_[i], threads_[live_ - 1]);
        --live_;
      } else {
        ++i;
      }
    }
    if (live_ == 0) return false;
  }
  return live_ > 0;
}

bool JsonConstraint::complete() const {
  if (live_ == 0) return false;
  for (size_t i = 0; i < live_; ++i)
    if (!threads_[i].frames.empty()) return false;
  return true;
}

bool JsonConstraint::can_end() const {
  for (size_t i = 0; i < live_; ++i) {
    const Stack& t = threads_[i];
    if (t.frames.empty()) return true;
    if (t.frames.size() != 1) continue;
    const Frame& f = t.frames[0];
    if (f.kind == kNumber && number_can_end(f.st) && (!f.node->bounded || number_in_range(*f.node, f))) return true;
    if (f.kind == kLiteral && f.node->literals[f.lo].size() == f.pos) return true;
  }
  return false;
}

bool JsonConstraint::step(Stack& s, uint8_t c, std::vector<Stack>& forks) const {
  auto count_ws = [&] {
    if (s.ws >= kMaxWhitespace) return false;
    ++s.ws;
    return true;
  };
  // Ends the top frame; its parent's state was set when it was pushed.
  // An array whose items must differ (uniqueItems): its frame's `seen` holds the values written.
  auto unique_array = [](const Frame& a) { return a.kind == kArray && a.node->unique; };
  auto pop = [&] {
    Frame child = s.frames.back();
    s.frames.pop_back();
    if (child.kind != kLiteral || s.frames.empty()) return;
    Frame& up = s.frames.back();
    if (child.is_key) {
      up.seen |= uint64_t(1) << child.lo;
      up.pos = child.lo;
    } else if (unique_array(up)) {
      up.seen |= uint64_t(1) << child.lo;  // this value is taken
    }
  };
  auto push_value = [&](const SchemaNode* node) {
    Frame f;
    f.kind = kValue;
    f.node = node;
    s.frames.push_back(f);
  };
  for (;;) {
    if (s.frames.empty()) return false;  // nothing may follow the complete value
    Frame& f = s.frames.back();
    const SchemaNode* node = f.node;
    switch (f.kind) {
      case kValue: {
        if (is_ws(c)) return count_ws();
        if (node->kind == SchemaNode::AnyOf) {
          // Alternatives after the first that fits run as forks; that one continues in place.
          // One that could not be finished within the nesting bound is not entered (the parent
          // made sure that one of them can).
          const size_t height = s.frames.size() - 1;
          const SchemaNode* first = nullptr;
          for (const SchemaNode* alt : node->alternatives) {
            if (height + alt->depth > JsonSchema::kMaxNesting) continue;
            if (!first) {
              first = alt;
              continue;
            }
            Stack t = s;
            t.frames.back().node = alt;
            std::vector<Stack> more;
            if (step(t, c, more) && forks.size() < kMaxThreads) forks.push_back(std::move(t));
            for (auto& m : more)
              if (forks.size() < kMaxThreads) forks.push_back(std::move(m));
          }
          if (!first) return false;
          f.node = first;
          continue;
        }
        s.ws = 0;
        const bool any = node->kind == SchemaNode::Any;
        const bool room = s.frames.size() < size_t(kMaxFreeDepth);
        if ((any && room && c == '{') || (node->kind == SchemaNode::Object && c == '{')) {
          f = Frame{};
          f.kind = kObject;
          f.node = node;
          f.st = kObjOpen;
          return true;
        }
        if ((any && room && c == '[') || (node->kind == SchemaNode::Array && c == '[')) {
          f = Frame{};
          f.kind = kArray;
          f.node = node;
          f.st = kArrOpen;
          return true;
        }
        if ((any || node->kind == SchemaNode::String) && c == '"') {
          f = Frame{};
          f.kind = kString;
          f.node = node;
          if (!any && node->pattern) f.seen = Pattern::kStart;
          return true;
        }
        if ((any || node->kind == SchemaNode::Number || node->kind == SchemaNode::Integer) &&
            (c == '-' || (c >= '0' && c <= '9'))) {
          f = Frame{};
          f.kind = kNumber;
          f.node = node;
          f.st = kNumBegin;
          continue;
        }
        if (any || node->kind == SchemaNode::Literal) {
          const SchemaNode* lit = any ? schema_->scalar_words() : node;
          f = Frame{};
          f.kind = kLiteral;
          f.node = lit;
          f.hi = static_cast<uint32_t>(lit->literals.size());
          continue;
        }
        return false;
      }
      case kObject: {
        if (is_ws(c)) return count_ws();
        s.ws = 0;
        const bool closed = node->kind == SchemaNode::Object && node->closed;
        const uint32_t nkeys = closed ? static_cast<uint32_t>(node->keys.size()) : 0;
        const SchemaNode* extra = !closed && node->kind == SchemaNode::Object ? node->extra : nullptr;
        // a key that may still come (not given yet, and its value fits)
        bool unseen_left = !closed && (!extra || s.frames.size() + extra->depth <= JsonSchema::kMaxNesting);
        for (uint32_t i = 0; i < nkeys && !unseen_left; ++i)
          unseen_left = key_fits(*node, f.seen, i, s.frames.size());
        const bool may_close = node->kind != SchemaNode::Object || (node->required & ~f.seen) == 0;
        auto start_key = [&] {
          if (!unseen_left) return;
          f.st = kObjKey;
          Frame k;
          k.is_key = true;
          if (closed) {
            k.kind = kLiteral;
            k.node = node;
            k.hi = nkeys;
          } else {
            k.kind = kString;
            k.node = schema_->any();
          }
          s.frames.push_back(k);
        };
        if ((f.st == kObjOpen || f.st == kObjValue) && c == '}') {
          if (!may_close) return false;
          pop();
          return true;
        }
        if ((f.st == kObjOpen || f.st == kObjComma) && c == '"') {
          start_key();
          if (s.frames.back().kind == kString && s.frames.back().is_key) return true;
          if (s.frames.back().kind == kLiteral) continue;  // the literal takes the quote
          return false;
        }
        if (f.st == kObjKey && c == ':') {
          f.st = kObjValue;
          push_value(closed ? node->values[f.pos] : extra ? extra : schema_->any());
          return true;
        }
        if (f.st == kObjValue && c == ',') {
          if (!unseen_left) return false;
          f.st = kObjComma;
          return true;
        }
        return false;
      }
      case kArray: {
        if (is_ws(c)) return count_ws();
        s.ws = 0;
        const bool typed = node->kind == SchemaNode::Array;
        // The next item's schema (f.n items so far; 0 before the first).
        const SchemaNode* items = typed ? node->item(f.n) : schema_->any();
        const uint32_t min_items = typed ? node->min_items : 0;
        const uint32_t max_items = typed ? node->max_items : UINT32_MAX;
        const bool item_fits = s.frames.size() + items->depth <= JsonSchema::kMaxNesting;
        if (c == ']') {
          if (f.n < min_items) return false;
          pop();
          return true;
        }
        if (f.st == kArrOpen) {
          if (max_items == 0 || !item_fits) return false;
          f.st = kArrValue;
          f.n = 1;
          push_value(items);
          continue;
        }
        if (c == ',' && f.n < max_items && item_fits) {
          ++f.n;
          push_value(items);
          return true;
        }
        return false;
      }
      case kString: {
        s.ws = 0;
        const uint32_t max_len = node->kind == SchemaNode::String ? node->max_length : UINT32_MAX;
        const uint32_t min_len = node->kind == SchemaNode::String ? node->min_length : 0;
        const auto format = node->kind == SchemaNode::String ? node->format : SchemaNode::NoFormat;
        const Pattern* pattern = node->kind == SchemaNode::String ? node->pattern : nullptr;
        auto matches = [&](uint32_t cp) {  // the pattern can still match after code point cp
          if (!pattern) return true;
          const uint64_t next = pattern->step(f.seen, cp);
          f.seen = next;
          return next != 0;
        };
        // A code point begun (UTF-8 bytes, \u digits) must be one that the pattern can take next;
        // these are the code points it can still become.
        auto may_become = [&](uint32_t lo, uint32_t hi) { return !pattern || pattern->can_step(f.seen, lo, hi); };
        auto utf8_ok = [&] {  // pos: the bits so far; aux bytes to come, the next in [lo, hi]
          const uint32_t rest = 6 * (f.aux - 1u), head = f.pos << (6 * f.aux);
          return may_become(head | (f.lo & 0x3F) << rest, head | (f.hi & 0x3F) << rest | ((1u << rest) - 1));
        };
        auto pair_ok = [&](uint32_t high, uint32_t lo, uint32_t hi) {  // low surrogates in [lo, hi]
          const uint32_t base = 0x10000 + ((high - 0xD800) << 10);
          lo = std::max(lo, 0xDC00u), hi = std::min(hi, 0xDFFFu);
          return lo <= hi && may_become(base + lo - 0xDC00, base + hi - 0xDC00);
        };
        auto hex_ok = [&] {  // f.aux of 4 digits read, their value in pos
          const uint32_t shift = 4 * (4 - f.aux), a = f.pos << shift, b = a | ((1u << shift) - 1);
          if (f.st == kStrLowHex) return pair_ok(f.lo, a, b);
          bool ok = false;
          if (a <= 0xD7FF) ok = may_become(a, std::min(b, 0xD7FFu));
          if (!ok && b >= 0xE000) ok = may_become(std::max(a, 0xE000u), b);
          const uint32_t ha = std::max(a, 0xD800u), hb = std::min(b, 0xDBFFu);  // high surrogates: a pair
          if (!ok && ha <= hb) ok = may_become(0x10000 + ((ha - 0xD800) << 10), 0x10000 + ((hb - 0xD800) << 10) + 0x3FF);
          return ok;
        };
        if (format != SchemaNode::NoFormat) {  // plain ASCII characters, no escapes
          if (c == '"') {
            if (!format_done(format, f)) return false;
            pop();
            return true;
          }
          if (c < 0x20 || c >= 0x80 || c == '\\' || !format_char(format, f, c)) return false;
          ++f.n;
          return true;
        }
        switch (f.st) {
          case kStrNormal:
            if (c == '"') {
              if (f.n < min_len || (pattern && !pattern->accepts(f.seen))) return false;
              pop();
              return true;
            }
            if (c < 0x20 || f.n >= max_len) return false;
            if (c == '\\') {
              if (!may_become(0, 0x10FFFF)) return false;
              f.st = kStrEscape;
            } else if (c < 0x80) {
              if (!matches(c)) return false;
            } else {
              f.pos = c & (c >= 0xF0 ? 0x07 : c >= 0xE0 ? 0x0F : 0x1F);  // the code point's first bits
              if (c >= 0xC2 && c <= 0xDF) {
                f.aux = 1, f.lo = 0x80, f.hi = 0xBF;
              } else if (c >= 0xE0 && c <= 0xEF) {
                f.aux = 2, f.lo = c == 0xE0 ? 0xA0 : 0x80, f.hi = c == 0xED ? 0x9F : 0xBF;
              } else if (c >= 0xF0 && c <= 0xF4) {
                f.aux = 3, f.lo = c == 0xF0 ? 0x90 : 0x80, f.hi = c == 0xF4 ? 0x8F : 0xBF;
              } else {
                return false;
              }
              f.st = kStrUtf8;
              if (!utf8_ok()) return false;
            }
            ++f.n;
            return true;
          case kStrUtf8:
            if (c < f.lo || c > f.hi) return false;
            f.lo = 0x80, f.hi = 0xBF;
            f.pos = f.pos << 6 | (c & 0x3F);
            if (--f.aux == 0) {
              f.st = kStrNormal;
              return matches(f.pos);
            }
            return utf8_ok();
          case kStrEscape: {
            if (c == 'u') {
              f.st = kStrHex, f.aux = 0, f.pos = 0;
              return true;
            }
            static const std::string_view from = "\"\\/bfnrt", to = "\"\\/\b\f\n\r\t";
            const size_t k = from.find(char(c));
            if (k == std::string_view::npos) return false;
            f.st = kStrNormal;
            return matches(uint8_t(to[k]));
          }
          case kStrHex:
          case kStrLowHex: {
            const int v = hex_value(c);
            if (v < 0) return false;
            f.pos = f.pos * 16 + uint32_t(v);
            ++f.aux;
            if (f.st == kStrHex) {
              if (f.aux == 2 && f.pos >= 0xDC && f.pos <= 0xDF) return false;  // a lone low surrogate
              if (f.aux == 4) {
                const bool high = f.pos >= 0xD800 && f.pos <= 0xDBFF;
                f.st = high ? kStrLowSlash : kStrNormal;
                if (!high) return matches(f.pos);
                f.lo = f.pos;  // kept for the pair's code point
                return pair_ok(f.lo, 0xDC00, 0xDFFF);
              }
              return hex_ok();
            } else {
              if (f.aux == 1 && f.pos != 0xD) return false;  // a high surrogate needs a low one
              if (f.aux == 2 && (f.pos < 0xDC || f.pos > 0xDF)) return false;
              if (f.aux == 4) {
                f.st = kStrNormal;
                return matches(0x10000 + ((f.lo - 0xD800) << 10) + (f.pos - 0xDC00));
              }
              return hex_ok();
            }
          }
          case kStrLowSlash:
            if (c != '\\') return false;
            f.st = kStrLowU;
            return true;
          case kStrLowU:
            if (c != 'u') return false;
            f.st = kStrLowHex, f.aux = 0, f.pos = 0;
            return true;
        }
        return false;
      }
      case kNumber: {
        const bool integer = node->kind == SchemaNode::Integer;
        const bool digit = c >= '0' && c <= '9';
        const uint8_t st = f.st;
        Frame g = f;  // the frame after this byte, if the number takes it
        bool took = true;
        if (st == kNumBegin && c == '-') {
          g.st = kNumMinus;
          g.aux = 1;
        } else if ((st == kNumBegin || st == kNumMinus) && digit) {
          g.st = c == '0' ? kNumZero : kNumInt;
          g.n = 1;
          g.seen = uint64_t(c - '0');
        } else if (st == kNumInt && digit && f.n < kMaxIntDigits) {
          ++g.n;
          g.seen = g.seen * 10 + uint64_t(c - '0');
        } else if ((st == kNumZero || st == kNumInt) && c == '.' && !integer) {
          g.st = kNumDot;
          g.n = 0;
        } else if ((st == kNumZero || st == kNumInt || st == kNumFrac) && (c == 'e' || c == 'E') && !integer &&
                   !node->bounded) {
          g.st = kNumE;
        } else if ((st == kNumDot || st == kNumFrac) && digit && f.n < kMaxFracDigits) {
          g.st = kNumFrac;
          ++g.n;
          g.frac = g.frac * 10 + uint64_t(c - '0');
        } else if (st == kNumE && (c == '+' || c == '-')) {
          g.st = kNumExpSign;
        } else if ((st == kNumE || st == kNumExpSign) && digit) {
          g.st = kNumExp;
          g.n = 1;
        } else if (st == kNumExp && digit && f.n < kMaxExpDigits) {
          ++g.n;
        } else {
          took = false;
        }
        if (took) {
          if (node->bounded && !number_reachable(*node, g)) return false;
          f = g;
          s.ws = 0;
          return true;
        }
        if (!number_can_end(st) || (node->bounded && !number_in_range(*node, f))) return false;
        pop();
        continue;  // the byte belongs to the parent
      }
      case kLiteral: {
        const auto& lits = f.is_key ? node->keys : node->literals;
        // Keys already present (or too deep) are not offered again, nor the values a uniqueItems
        // array has written.
        const Frame* up = s.frames.size() >= 2 ? &s.frames[s.frames.size() - 2] : nullptr;
        const bool unique = !f.is_key && up && unique_array(*up);
        uint32_t lo = f.lo, hi = f.hi;
        narrow(lits, lo, hi, f.pos, c);
        if (lo < hi && (f.is_key || unique)) {
          bool fresh = false;
          for (uint32_t i = lo; i < hi && !fresh; ++i)
            fresh = f.is_key ? key_fits(*node, up->seen, i, s.frames.size() - 1) : !(up->seen >> i & 1);
          if (!fresh) hi = lo;
        }
        if (lo < hi) {
          f.lo = lo, f.hi = hi, ++f.pos;
          s.ws = 0;
          if (hi - lo == 1 && lits[lo].size() == f.pos) pop();
          return true;
        }
        if (lits[f.lo].size() != f.pos) return false;
        if (unique && (up->seen >> f.lo & 1)) return false;  // it ends as a value already written
        pop();
        continue;
      }
    }
    return false;
  }
}

}  // namespace nlm::serve
