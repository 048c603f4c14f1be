// One pass over the code points for the ratio rules; paragraphs for the boilerplate rule.
#include "curate/nemo.h"

#include <unicode/uchar.h>

#include "core/options.h"
#include "curate/doc_context.h"
#include "curate/text_util.h"

namespace nlm::curate {

void declare(opt::Schema& s, NemoOptions& o) {
  s.add("max_non_alnum_ratio", o.max_non_alnum_ratio, "Non-alphanumeric, non-space characters / characters")
      .range(0, 1);
  s.add("max_number_ratio", o.max_number_ratio, "Digits / characters").range(0, 1);
  s.add("max_url_ratio", o.max_url_ratio, "URL characters / characters").range(0, 1);
  s.add("max_whitespace_ratio", o.max_whitespace_ratio, "Whitespace / characters").range(0, 1);
  s.add("max_parentheses_ratio", o.max_parentheses_ratio, "()[]{} / characters").range(0, 1);
  s.add("max_word_length", o.max_word_length, "Longest word allowed (code points)").min(1);
  s.add("max_boilerplate_ratio", o.max_boilerplate_ratio, "Share of boilerplate paragraphs").range(0, 1);
  s.add("boilerplate_at_top_or_bottom", o.boilerplate_at_top_or_bottom,
        "Only boilerplate paragraphs at the top or bottom count");
}

namespace {
bool boilerplate(std::string_view para) {
  std::string l = ascii_lower(para);
  for (std::string_view p : {"terms of use", "privacy policy", "cookie policy", "uses cookies",
                             "use of cookies", "use cookies"})
    if (l.find(p) != std::string::npos) return true;
  return false;
}

uint64_t url_chars(std::string_view t) {
  uint64_t n = 0;
  for (size_t p = 0; p < t.size();) {
    size_t a = std::min({t.find("http://", p), t.find("https://", p), t.find("www.", p)});
    if (a == std::string_view::npos) break;
    size_t e = a;
    while (e < t.size() && !is_space_byte(t[e])) ++e;
    n += e - a;
    p = e;
  }
  return n;
}
}  // namespace

std::optional<Rejection> nemo_check(DocContext& ctx, const NemoOptions& o) {
  std::string_view t = ctx.text();
  double chars = static_cast<double>(ctx.chars());
  if (chars == 0) return Rejection{"nemo.empty", 0};
  uint64_t non_alnum = 0, digits = 0, spaces = 0, parens = 0;
  for (size_t i = 0; i < t.size();) {
    unsigned char c = static_cast<unsigned char>(t[i]);
    if (c < 0x80) {
      ++i;
      bool alnum = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
      bool digit = c >= '0' && c <= '9';
      bool space = is_space_byte(static_cast<char>(c));
      digits += digit;
      spaces += space;
      parens += c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}';
      non_alnum += !(alnum || digit || space);
      continue;
    }
    uint32_t cp = text::utf8_next(t, i);
    if (u_isdigit(static_cast<UChar32>(cp))) ++digits;
    if (u_isUWhiteSpace(static_cast<UChar32>(cp))) ++spaces;
    else if (!u_isalnum(static_cast<UChar32>(cp)) && !u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_ALPHABETIC))
      ++non_alnum;
  }
  auto ratio = [&](uint64_t n) { return static_cast<double>(n) / chars; };
  if (ratio(non_alnum) > o.max_non_alnum_ratio) return Rejection{"nemo.max_non_alnum_ratio", ratio(non_alnum)};
  if (ratio(digits) > o.max_number_ratio) return Rejection{"nemo.max_number_ratio", ratio(digits)};
  double urls = ratio(url_chars(t));
  if (urls > o.max_url_ratio) return Rejection{"nemo.max_url_ratio", urls};
  if (ratio(spaces) > o.max_whitespace_ratio) return Rejection{"nemo.max_whitespace_ratio", ratio(spaces)};
  if (ratio(parens) > o.max_parentheses_ratio) return Rejection{"nemo.max_parentheses_ratio", ratio(parens)};
  for (const auto& w : ctx.words()) {
    if (static_cast<int64_t>(w.size) > o.max_word_length) {
      double len = static_cast<double>(utf8_chars(ctx.word(w)));
      if (len > static_cast<double>(o.max_word_length)) return Rejection{"nemo.max_word_length", len};
    }
  }
  std::vector<std::string_view> paras;
  for (size_t p = 0; p < t.size();) {
    size_t e = t.find("\n\n", p);
    if (e == std::string_view::npos) e = t.size();
    if (!trim(t.substr(p, e - p)).empty()) paras.push_back(t.substr(p, e - p));
    p = e + 2;
  }
  if (!paras.empty()) {
    size_t bp = 0;
    for (size_t i = 0; i < paras.size(); ++i) {
      bool edge = i == 0 || i + 1 == paras.size();
      if ((!o.boilerplate_at_top_or_bottom || edge) && boilerplate(paras[i])) ++bp;
    }
    double r = static_cast<double>(bp) / static_cast<double>(paras.size());
    if (r > o.max_boilerplate_ratio) return Rejection{"nemo.max_boilerplate_ratio", r};
  }
  return std::nullopt;
}

}  // namespace nlm::curate
