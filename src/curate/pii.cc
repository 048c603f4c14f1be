// PII patterns and validators. RE2 has no look-around, so word boundaries and context (a "v"
// before "1.2.3.4" makes it a version) are checked in code on each candidate.
#include "curate/pii.h"

#include <arpa/inet.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>

#include "core/error.h"
#include "core/options.h"
#include "curate/doc_context.h"
#include "curate/text_util.h"

namespace nlm::curate {

void declare(opt::Schema& s, PiiOptions& o) {
  s.add("types", o.types,
        "Built-in types to redact: EMAIL PHONE IP CREDIT_CARD IBAN CREDENTIALS ES_ID HK_ID CN_ID");
  s.add("custom", o.custom, "Extra patterns as NAME=regex (RE2); a match becomes <NAME>");
  s.check([&o] {
    static const char* known[] = {"EMAIL", "PHONE", "IP",    "CREDIT_CARD", "IBAN",
                                  "CREDENTIALS", "ES_ID", "HK_ID", "CN_ID"};
    for (const auto& t : o.types)
      if (std::find(std::begin(known), std::end(known), t) == std::end(known))
        opt::fail("types", "has unknown type '" + t + "'",
                  "use EMAIL, PHONE, IP, CREDIT_CARD, IBAN, CREDENTIALS, ES_ID, HK_ID or CN_ID");
    for (const auto& c : o.custom)
      if (c.find('=') == std::string::npos || c.front() == '=')
        opt::fail("custom", "must hold NAME=regex patterns, got " + echoed(c));
  });
}

bool luhn_valid(std::string_view digits) {
  int sum = 0;
  bool dbl = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (d < 0 || d > 9) return false;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return !digits.empty() && sum % 10 == 0;
}

bool iban_valid(std::string_view raw) {
  std::string s;
  for (char c : raw)
    if (c != ' ') s.push_back(c);
  if (s.size() < 15 || s.size() > 34) return false;
  std::string r = s.substr(4) + s.substr(0, 4);
  int mod = 0;
  for (char c : r) {
    if (c >= '0' && c <= '9') {
      mod = (mod * 10 + (c - '0')) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      int v = c - 'A' + 10;
      mod = (mod * 100 + v) % 97;
    } else {
      return false;
    }
  }
  return mod == 1;
}

namespace {
enum class Kind { Email, Phone, Ipv4, Ipv6, Card, Iban, Credentials, EsId, HkId, CnId, Custom };

struct Pattern {
  Kind kind;
  std::string tag;
  std::unique_ptr<RE2> re;
  // On an exact tie of spans the lower rank wins: an 18-digit Chinese ID can also pass as a
  // UnionPay card, and its check digit is the stronger evidence.
  int rank() const {
    return kind == Kind::EsId || kind == Kind::HkId || kind == Kind::CnId ? 0 : 1;
  }
};

struct Candidate {
  size_t begin, end;
  const Pattern* pattern;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); }
bool is_hex(char c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
char at(std::string_view s, size_t i) { return i < s.size() ? s[i] : '\0'; }
char before(std::string_view s, size_t i) { return i > 0 ? s[i - 1] : '\0'; }

std::string digits_of(std::string_view s) {
  std::string d;
  for (char c : s)
    if (is_digit(c)) d.push_back(c);
  return d;
}

// The word right before `pos` (skipping spaces), lower-cased ASCII.
std::string word_before(std::string_view s, size_t pos) {
  size_t end = pos;
  while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t')) --end;
  size_t begin = end;
  while (begin > 0 && is_alnum(s[begin - 1]) && end - begin < 12) --begin;
  return ascii_lower(s.substr(begin, end - begin));
}

bool looks_like_version(std::string_view s, size_t begin) {
  char p = before(s, begin);
  if (p == 'v' || p == 'V') return true;
  std::string w = word_before(s, begin);
  return w == "version" || w == "ver" || w == "v" || w == "release" || w == "build" ||
         w == "rev" || w == "revision" || w == "versions" || w == "versão" || w == "versión";
}

bool ipv4_ok(std::string_view s, size_t b, size_t e) {
  if (is_alnum(before(s, b)) || before(s, b) == '.') return false;
  if (is_alnum(at(s, e)) || (at(s, e) == '.' && is_digit(at(s, e + 1)))) return false;
  std::string_view ip = s.substr(b, e - b);
  size_t pos = 0;
  for (int k = 0; k < 4; ++k) {
    size_t dot = ip.find('.', pos);
    std::string_view oct = ip.substr(pos, dot == std::string_view::npos ? ip.size() - pos : dot - pos);
    if (oct.empty() || oct.size() > 3 || (oct.size() > 1 && oct[0] == '0')) return false;
    if (std::stoi(std::string(oct)) > 255) return false;
    pos = dot + 1;
  }
  return !looks_like_version(s, b);
}

bool ipv6_ok(std::string_view s, size_t b, size_t e) {
  if (is_alnum(before(s, b)) || before(s, b) == ':') return false;
  if (is_alnum(at(s, e)) || at(s, e) == ':') return false;
  std::string ip(s.substr(b, e - b));
  int colons = 0, hex = 0;
  for (char c : ip) colons += c == ':', hex += is_hex(c);
  if (colons < 2 || hex < 4) return false;
  unsigned char buf[16];
  return inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

// A number goes on to the left of `b`: a letter or digit, or a decimal/thousands/range separator
// right after a digit ("0.389...", "1,5", "12-").
bool continues_left(std::string_view s, size_t b) {
  char p = before(s, b);
  if (is_alnum(p)) return true;
  return (p == '.' || p == ',' || p == '-' || p == '/') && is_digit(before(s, b - 1));
}

// The same to the right of `e` ("...477,5807", "...741.5").
bool continues_right(std::string_view s, size_t e) {
  char n = at(s, e);
  if (is_alnum(n)) return true;
  return (n == '.' || n == ',' || n == '-' || n == '/') && is_digit(at(s, e + 1));
}

bool id_ok(Kind kind, std::string_view s, size_t b, size_t e) {
  if (continues_left(s, b) || continues_right(s, e)) return false;
  std::string_view m = s.substr(b, e - b);
  switch (kind) {
    case Kind::EsId: return es_id_valid(m);
    case Kind::HkId: return hkid_valid(m);
    case Kind::CnId: return cn_id_valid(m);
    default: return false;
  }
}

bool card_ok(std::string_view s, size_t b, size_t e) {
  if (continues_left(s, b) || continues_right(s, e)) return false;
  std::string_view m = s.substr(b, e - b);
  char sep = 0;
  for (char c : m)
    if (!is_digit(c)) {
      if (sep && c != sep) return false;
      sep = c;
    }
  std::string d = digits_of(m);
  if (d.size() < 13 || d.size() > 19) return false;
  // Printed cards group digits as 4-4-4-4(-3), or 4-6-5 / 4-6-4 (Amex, Diners).
  if (sep) {
    std::string groups;
    size_t run = 0;
    for (char c : m) {
      if (c == sep) {
        groups += std::to_string(run) + ",";
        run = 0;
      } else {
        ++run;
      }
    }
    groups += std::to_string(run);
    if (groups != "4,4,4,4" && groups != "4,4,4,4,3" && groups != "4,6,5" && groups != "4,6,4")
      return false;
  }
  int p2 = std::stoi(d.substr(0, 2)), p4 = std::stoi(d.substr(0, 4));
  size_t n = d.size();
  bool brand = (d[0] == '4' && (n == 13 || n == 16 || n == 19)) ||                    // Visa
               (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n == 16) ||  // Mastercard
               ((p2 == 34 || p2 == 37) && n == 15) ||                                  // Amex
               ((p4 == 6011 || p2 == 65 || (p4 >= 6440 && p4 <= 6499)) && n >= 16) ||  // Discover
               ((p2 == 36 || p2 == 38 || p2 == 30) && n >= 14 && n <= 16) ||           // Diners
               ((p2 == 35 || p2 == 62) && n >= 16);                                    // JCB, UnionPay
  return brand && luhn_valid(d);
}

bool is_year(std::string_view g) {
  if (g.size() != 4) return false;
  bool y18_19 = g[0] == '1' && (g[1] == '8' || g[1] == '9');
  bool y20_21 = g[0] == '2' && (g[1] == '0' || g[1] == '1');
  return y18_19 || y20_21;
}

bool phone_ok(std::string_view s, size_t b, size_t e) {
  char p = before(s, b);
  if (is_alnum(p) || p == '+' || p == '.' || p == '/' || p == '-') return false;
  if (p == ',' && is_digit(before(s, b - 1))) return false;  // "1,2345 6789"
  if (continues_right(s, e)) return false;                     // "+922337203685477,5807"
  // Part of a longer run of digit groups (an account number, a table row): not a phone. A number
  // that starts with '+' starts afresh, so "+852 9123 4567 +852 9876 5432" is two phones.
  bool plus = s[b] == '+';
  if (!plus && p == ' ' && is_digit(before(s, b - 1))) return false;
  if (at(s, e) == ' ' && is_digit(at(s, e + 1))) return false;
  std::string_view m = s.substr(b, e - b);
  std::string d = digits_of(m);
  // E.164: at most 15 digits after '+', country code included.
  if (d.size() < 8 || d.size() > 15) return false;
  // "2010-2020" is a span of years, not a Hong Kong number.
  if (m.size() == 9 && m[4] == '-' && is_year(m.substr(0, 4)) && is_year(m.substr(5))) return false;
  return !looks_like_version(s, b);
}

bool email_ok(std::string_view s, size_t b, size_t) {
  char p = before(s, b);
  return !(p == '@' || p == '.');
}

}  // namespace

struct PiiRedactor::Impl {
  std::vector<Pattern> patterns;
  std::unique_ptr<RE2::Set> set;
  // The patterns each entry of the set stands for. The phone patterns share one loose trigger
  // there: a union of a dozen digit patterns with optional separators makes the set's DFA grow
  // so many states on digit-heavy text that it slowed 30-fold; each runs alone once triggered.
  std::vector<std::vector<size_t>> members;
  std::unique_ptr<RE2> phone_trigger;
  // Stretches of the text that can hold a phone: each trigger match, 4 bytes before and 40 after
  // (a phone starts at most 2 bytes before its first digit, which no trigger match starts after,
  // and spans fewer than 40 bytes), merged when under 256 bytes apart (fewer, longer scans).
  std::vector<std::pair<size_t, size_t>> phone_windows;
  std::vector<std::pair<size_t, size_t>> whole;  // the one stretch the other patterns scan
  std::vector<int> hits;
  std::vector<size_t> todo;
  std::vector<Candidate> found;
  std::string out;

  void add(Kind kind, const std::string& tag, const std::string& regex) {
    RE2::Options o;
    o.set_log_errors(false);
    auto re = std::make_unique<RE2>(regex, o);
    if (!re->ok())
      usage_error("PII pattern does not compile: " + re->error(), tag, "fix the regex (RE2 syntax)");
    patterns.push_back({kind, tag, std::move(re)});
  }
};

PiiRedactor::PiiRedactor(const PiiOptions& options) : impl_(std::make_unique<Impl>()) {
  auto& I = *impl_;
  for (const auto& t : options.types) {
    if (t == "EMAIL") {
      I.add(Kind::Email, "EMAIL", R"([A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24})");
    } else if (t == "PHONE") {
      I.add(Kind::Phone, "PHONE", R"(\+\d{1,3}[ .\-]?(?:\(\d{1,4}\)[ .\-]?)?\d{1,4}(?:[ .\-]?\d{2,4}){1,4})");
      // North American numbers: area code and exchange start with 2-9.
      I.add(Kind::Phone, "PHONE", R"(\([2-9]\d{2}\)[ .\-]?[2-9]\d{2}[ .\-]\d{4})");
      I.add(Kind::Phone, "PHONE", R"([2-9]\d{2}[.\-][2-9]\d{2}[.\-]\d{4})");
      I.add(Kind::Phone, "PHONE", R"(0\d{1,4}[ \-/]\d{3,4}[ \-]?\d{3,4})");
      I.add(Kind::Phone, "PHONE", R"(0[1-9](?:[ .]\d{2}){4})");
      // A country code in parentheses: (+852) 9123 4567, (852) 2345 6789 for Hong Kong.
      I.add(Kind::Phone, "PHONE", R"(\(\+\d{1,3}\) ?\d{1,4}(?:[ .\-]?\d{2,4}){1,4})");
      I.add(Kind::Phone, "PHONE", R"(\(852\) ?[2-35-9]\d{3}[ \-]?\d{4})");
      // Mainland China: mobiles 1[3-9]X XXXX XXXX, landlines with an area code (010-12345678).
      I.add(Kind::Phone, "PHONE", R"(1[3-9]\d(?:[ \-]?\d{4}){2})");
      I.add(Kind::Phone, "PHONE", R"(0\d{2,3}[ \-]\d{7,8})");
      // Hong Kong: eight digits written XXXX XXXX or XXXX-XXXX (bare eight-digit runs are too
      // often counts and order numbers).
      I.add(Kind::Phone, "PHONE", R"([2-35-9]\d{3}[ \-]\d{4})");
      // Taiwan: mobiles 09XX-XXX-XXX, landlines (02) XXXX-XXXX.
      I.add(Kind::Phone, "PHONE", R"(09\d{2}[ \-]?\d{3}[ \-]?\d{3})");
      I.add(Kind::Phone, "PHONE", R"(\(0\d{1,2}\) ?\d{3,4}[ \-]?\d{4})");
      // Spain: nine digits from 6-9, as 612 345 678, 612 34 56 78 or 91 123 45 67.
      // Not with dots: 612.345.678 is how Spanish writes a count.
      I.add(Kind::Phone, "PHONE", R"([6-9]\d{2}[ \-]\d{3}[ \-]\d{3})");
      I.add(Kind::Phone, "PHONE", R"([6-9]\d{2}(?:[ \-]\d{2}){3})");
      I.add(Kind::Phone, "PHONE", R"([89]\d[ \-]\d{3}(?:[ \-]\d{2}){2})");
    } else if (t == "IP") {
      I.add(Kind::Ipv4, "IP", R"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})");
      I.add(Kind::Ipv6, "IP", R"((?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})?)");
    } else if (t == "CREDIT_CARD") {
      I.add(Kind::Card, "CREDIT_CARD", R"(\d(?:[ \-]?\d){12,18})");
    } else if (t == "IBAN") {
      I.add(Kind::Iban, "IBAN", R"([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)");
    } else if (t == "CREDENTIALS") {
      I.add(Kind::Credentials, "CREDENTIALS", R"([A-Za-z][A-Za-z0-9+.\-]*://([^\s/:@]+:[^\s/@]+)@)");
    } else if (t == "ES_ID") {
      I.add(Kind::EsId, "ES_ID", R"((?:[XYZ][ \-]?\d{7}|\d{8})[ \-]?[A-Z])");
    } else if (t == "HK_ID") {
      I.add(Kind::HkId, "HK_ID", R"([A-Z]{1,2}\d{6}(?: ?\([0-9A]\)|[0-9A]))");
    } else if (t == "CN_ID") {
      I.add(Kind::CnId, "CN_ID", R"(\d{17}[\dXx])");
    } else {
      usage_error("unknown PII type '" + t + "'", "pii.types",
                  "use EMAIL, PHONE, IP, CREDIT_CARD, IBAN, CREDENTIALS, ES_ID, HK_ID, CN_ID or a "
                  "custom NAME=regex");
    }
  }
  for (const auto& c : options.custom) {
    size_t eq = c.find('=');
    if (eq == std::string::npos || eq == 0)
      usage_error("custom PII pattern must be NAME=regex: '" + c + "'", "pii.custom");
    I.add(Kind::Custom, c.substr(0, eq), c.substr(eq + 1));
  }
  RE2::Options o;
  o.set_log_errors(false);
  I.set = std::make_unique<RE2::Set>(o, RE2::UNANCHORED);
  int phone_trigger = -1;
  for (size_t i = 0; i < I.patterns.size(); ++i) {
    const Pattern& p = I.patterns[i];
    if (p.kind == Kind::Phone && phone_trigger >= 0) {
      I.members[static_cast<size_t>(phone_trigger)].push_back(i);
      continue;
    }
    // Every phone pattern spells eight or more digits with at most two of " -./()" between two.
    static const char* trigger = R"(\d(?:[ \-./()]{0,2}\d){7})";
    std::string regex = p.kind == Kind::Phone ? trigger : p.re->pattern();
    if (p.kind == Kind::Phone) I.phone_trigger = std::make_unique<RE2>(trigger);
    std::string error;
    int at = I.set->Add(regex, &error);
    if (at < 0) usage_error("PII pattern rejected: " + error, p.tag);
    if (p.kind == Kind::Phone) phone_trigger = at;
    I.members.push_back({i});
  }
  if (!I.set->Compile()) runtime_error("cannot compile the PII pattern set", "pii");
}

PiiRedactor::~PiiRedactor() = default;

size_t PiiRedactor::redact(std::string& text, std::map<std::string, uint64_t>* counts) {
  auto& I = *impl_;
  if (I.patterns.empty()) return 0;
  I.hits.clear();
  RE2::Set::ErrorInfo error;
  if (!I.set->Match(text, &I.hits, &error)) {
    if (error.kind != RE2::Set::kOutOfMemory) return 0;
    // The set's DFA gave up on this text (many states, little progress): try every pattern
    // rather than let PII through.
    I.hits.clear();
    for (size_t i = 0; i < I.members.size(); ++i) I.hits.push_back(static_cast<int>(i));
  }
  I.todo.clear();
  for (int hit : I.hits) {
    const auto& m = I.members[static_cast<size_t>(hit)];
    I.todo.insert(I.todo.end(), m.begin(), m.end());
  }
  std::string_view s = text;
  I.found.clear();
  I.phone_windows.clear();
  if (I.phone_trigger) {
    re2::StringPiece t;
    for (size_t pos = 0;
         pos < s.size() && I.phone_trigger->Match(s, pos, s.size(), RE2::UNANCHORED, &t, 1);) {
      size_t b = static_cast<size_t>(t.data() - s.data()), e = b + t.size();
      size_t wb = b < 4 ? 0 : b - 4, we = std::min(s.size(), e + 40);
      if (!I.phone_windows.empty() && wb <= I.phone_windows.back().second + 256)
        I.phone_windows.back().second = we;
      else
        I.phone_windows.emplace_back(wb, we);
      pos = e;
    }
  }
  I.whole.assign(1, {0, s.size()});
  for (size_t idx : I.todo) {
    const Pattern& p = I.patterns[idx];
    int groups = std::min(1, p.re->NumberOfCapturingGroups());
    re2::StringPiece m[2];
    for (auto [from, to] : p.kind == Kind::Phone ? I.phone_windows : I.whole) {
      size_t pos = from;
      while (pos < to &&
             p.re->Match(s, pos, to, RE2::UNANCHORED, m, groups + 1)) {
        size_t b = static_cast<size_t>(m[0].data() - s.data()), e = b + m[0].size();
        if (e == b) {
          pos = b + 1;
          continue;
        }
        size_t rb = b, re = e;
        if (groups == 1 && m[1].data()) {
          rb = static_cast<size_t>(m[1].data() - s.data());
          re = rb + m[1].size();
        }
        bool ok = true;
        switch (p.kind) {
          case Kind::Email: ok = email_ok(s, b, e); break;
          case Kind::Phone: ok = phone_ok(s, b, e); break;
          case Kind::Ipv4: ok = ipv4_ok(s, b, e); break;
          case Kind::Ipv6: ok = ipv6_ok(s, b, e); break;
          case Kind::Card: ok = card_ok(s, b, e); break;
          case Kind::Iban: {
            // Drop trailing groups until the checksum holds (the pattern may take a following word),
            // but never stop before a group of digits: a number that goes on is not this IBAN.
            ok = false;
            while (re > rb + 14) {
              if (!is_alnum(at(s, re)) && !(at(s, re) == ' ' && is_digit(at(s, re + 1))) &&
                  iban_valid(s.substr(rb, re - rb))) {
                ok = !is_alnum(before(s, rb));
                break;
              }
              size_t sp = s.substr(rb, re - rb).rfind(' ');
              if (sp == std::string_view::npos) break;
              re = rb + sp;
            }
            break;
          }
          case Kind::EsId:
          case Kind::HkId:
          case Kind::CnId: ok = id_ok(p.kind, s, b, e); break;
          case Kind::Credentials:
          case Kind::Custom: break;
        }
        if (ok) {
          I.found.push_back({rb, re, &p});
          pos = e;
        } else {
          pos = b + 1;
          // Number, ID and IBAN candidates are rejected when a letter or digit comes right before
          // them, so a retry inside the same run of letters and digits can only fail again: skip
          // it (this keeps digit-heavy text, tables and long decimals, linear).
          if (p.kind != Kind::Email && p.kind != Kind::Custom)
            while (pos < to && is_alnum(s[pos - 1])) ++pos;
        }
      }
    }
  }
  if (I.found.empty()) return 0;
  std::sort(I.found.begin(), I.found.end(), [](const Candidate& a, const Candidate& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end > b.end;
    return a.pattern->rank() < b.pattern->rank();
  });
  I.out.clear();
  size_t last = 0, n = 0;
  for (const auto& c : I.found) {
    if (c.begin < last) continue;  // overlaps a longer or earlier match
    I.out.append(s.substr(last, c.begin - last));
    I.out += "<" + c.pattern->tag + ">";
    last = c.end;
    ++n;
    if (counts) ++(*counts)[c.pattern->tag];
  }
  I.out.append(s.substr(last));
  text.swap(I.out);
  return n;
}

std::optional<Rejection> PiiStep::apply(corpus::Document& doc, DocContext& ctx) {
  counts_.clear();
  if (redactor_.redact(doc.text, &counts_)) {
    for (const auto& [k, v] : counts_) ctx.count("pii", k, v);
    ctx.count("pii_docs", "documents");
    ctx.text_changed();
  }
  return std::nullopt;
}

}  // namespace nlm::curate
