// sacreBLEU's 13a, intl, zh, char and none tokenizers (see bleu_tokenize.h). Each regex of the
// reference is a left-to-right scan with the same non-overlapping match semantics as Python's
// re.sub: a two-character pattern consumes both characters when it matches, so "a.." splits the
// first '.' only by the first rule.
#include "eval/metrics/bleu_tokenize.h"

#include <unicode/uchar.h>


#include "core/options.h"
#include "eval/metrics/pystr.h"

namespace nlm::eval::metrics {

namespace {

using Pred = bool (*)(char32_t);

bool is_digit(char32_t c) { return c >= U'0' && c <= U'9'; }
bool not_digit(char32_t c) { return !is_digit(c); }
bool is_dot_comma(char32_t c) { return c == U'.' || c == U','; }
bool is_dash(char32_t c) { return c == U'-'; }

// 13a's first class: [\{-\~\[-\` -\&\(-\+\:-\@\/] (ASCII punctuation and symbols, space
// included, but not '\'', ',', '-', '.' or digits).
bool is_13a_symbol(char32_t c) {
  return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
         (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == 0x2F;
}

int8_t category_group(char32_t c) {
  const int8_t t = u_charType(static_cast<UChar32>(c));
  switch (t) {
    case U_DECIMAL_DIGIT_NUMBER: case U_LETTER_NUMBER: case U_OTHER_NUMBER:
      return 'N';
    case U_CONNECTOR_PUNCTUATION: case U_DASH_PUNCTUATION: case U_START_PUNCTUATION:
    case U_END_PUNCTUATION: case U_INITIAL_PUNCTUATION: case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
      return 'P';
    case U_MATH_SYMBOL: case U_CURRENCY_SYMBOL: case U_MODIFIER_SYMBOL: case U_OTHER_SYMBOL:
      return 'S';
    default:
      return 0;
  }
}
bool uni_not_number(char32_t c) { return category_group(c) != 'N'; }
bool uni_punct(char32_t c) { return category_group(c) == 'P'; }
bool uni_symbol(char32_t c) { return category_group(c) == 'S'; }

// re.sub(r'(A)', r' \1 ', s)
std::u32string pad_each(const std::u32string& s, Pred a) {
  std::u32string out;
  out.reserve(s.size() + 8);
  for (char32_t c : s) {
    if (a(c)) {
      out.push_back(U' ');
      out.push_back(c);
      out.push_back(U' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// re.sub(r'(A)(B)', r'\1 \2 ', s) when space_before is false, r' \1 \2' when true.
std::u32string split_pairs(const std::u32string& s, Pred a, Pred b, bool space_before) {
  std::u32string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && a(s[i]) && b(s[i + 1])) {
      if (space_before) {
        out += U' ';
        out += s[i];
        out += U' ';
        out += s[i + 1];
      } else {
        out += s[i];
        out += U' ';
        out += s[i + 1];
        out += U' ';
      }
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// sacreBLEU's TokenizerRegexp: the rules 13a and zh share.
std::vector<std::u32string> regexp_rules(std::u32string s) {
  s = pad_each(s, is_13a_symbol);
  s = split_pairs(s, not_digit, is_dot_comma, false);  // period and comma unless after a digit
  s = split_pairs(s, is_dot_comma, not_digit, true);   // ... unless before a digit
  s = split_pairs(s, is_digit, is_dash, false);        // dash after a digit
  return py_split(s);
}

void replace_all(std::u32string& s, std::u32string_view from, std::u32string_view to) {
  if (s.find(from) == std::u32string::npos) return;
  std::u32string out;
  size_t i = 0;
  for (size_t j; (j = s.find(from, i)) != std::u32string::npos; i = j + from.size()) {
    out.append(s, i, j - i);
    out.append(to);
  }
  out.append(s, i);
  s.swap(out);
}

}  // namespace

bool zh_is_chinese_char(char32_t c) {
  // sacreBLEU's _UCODE_RANGES. Two of its entries are written '\u20000'..'\u2a6d6' and
  // '\u2f800'..'\u2fa1d', which Python reads as two-character strings ('\u2000' + '0', ...);
  // a one-character string compares inside them exactly when it lies in U+2001..U+2A6D and
  // U+2F81..U+2FA1. That is what sacreBLEU does (general punctuation such as '“' and '—',
  // arrows and math symbols are split off; CJK Extension B is not), so it is what we do.
  static constexpr char32_t kRanges[][2] = {
      {0x3400, 0x4DB5}, {0x4E00, 0x9FA5}, {0x9FA6, 0x9FBB}, {0xF900, 0xFA2D}, {0xFA30, 0xFA6A},
      {0xFA70, 0xFAD9}, {0x2001, 0x2A6D}, {0x2F81, 0x2FA1}, {0xFF00, 0xFFEF}, {0x2E80, 0x2EFF},
      {0x3000, 0x303F}, {0x31C0, 0x31EF}, {0x2F00, 0x2FDF}, {0x2FF0, 0x2FFF}, {0x3100, 0x312F},
      {0x31A0, 0x31BF}, {0xFE10, 0xFE1F}, {0xFE30, 0xFE4F}, {0x2600, 0x26FF}, {0x2700, 0x27BF},
      {0x3200, 0x32FF}, {0x3300, 0x33FF}};
  for (const auto& r : kRanges)
    if (c >= r[0] && c <= r[1]) return true;
  return false;
}

std::vector<std::u32string> bleu_tokenize(std::u32string_view line, BleuTokenize tokenizer) {
  switch (tokenizer) {
    case BleuTokenize::None:
      return py_split(line);
    case BleuTokenize::Char: {
      std::vector<std::u32string> out;
      for (char32_t c : line)
        if (!py_isspace(c)) out.emplace_back(1, c);
      return out;
    }
    case BleuTokenize::T13a: {
      std::u32string s(line);
      replace_all(s, U"<skipped>", U"");
      replace_all(s, U"-\n", U"");
      replace_all(s, U"\n", U" ");
      replace_all(s, U"&quot;", U"\"");
      replace_all(s, U"&amp;", U"&");
      replace_all(s, U"&lt;", U"<");
      replace_all(s, U"&gt;", U">");
      return regexp_rules(U" " + s + U" ");
    }
    case BleuTokenize::Zh: {
      std::u32string s;
      for (char32_t c : py_strip(line)) {
        if (zh_is_chinese_char(c)) {
          s += U' ';
          s += c;
          s += U' ';
        } else {
          s += c;
        }
      }
      return regexp_rules(std::move(s));
    }
    case BleuTokenize::Intl: {
      std::u32string s(line);
      s = split_pairs(s, uni_not_number, uni_punct, false);
      s = split_pairs(s, uni_punct, uni_not_number, true);
      s = pad_each(s, uni_symbol);
      return py_split(s);
    }
  }
  return {};
}

const char* bleu_tokenize_name(BleuTokenize t) {
  switch (t) {
    case BleuTokenize::T13a: return "13a";
    case BleuTokenize::Intl: return "intl";
    case BleuTokenize::Zh: return "zh";
    case BleuTokenize::Char: return "char";
    case BleuTokenize::None: return "none";
  }
  return "?";
}

BleuTokenize parse_bleu_tokenize(const std::string& name, const std::string& key) {
  for (auto t : {BleuTokenize::T13a, BleuTokenize::Intl, BleuTokenize::Zh, BleuTokenize::Char, BleuTokenize::None})
    if (name == bleu_tokenize_name(t)) return t;
  if (name == "spm" || name == "flores101" || name == "flores200")
    opt::fail(key, "'" + name + "' needs sacreBLEU's SentencePiece model, which nativelm does not ship",
              "use 'char' for a script without spaces, or 'intl' / '13a'");
  if (name == "ja-mecab" || name == "ko-mecab")
    opt::fail(key, "'" + name + "' needs MeCab, which nativelm does not use", "use 'char' or 'intl'");
  opt::fail(key, "must be one of 13a, intl, zh, char, none (got '" + name + "')");
}

}  // namespace nlm::eval::metrics
