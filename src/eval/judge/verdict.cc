// Rating and verdict parsing after MT-Bench's rules (verdict.h).
#include "eval/judge/verdict.h"

#include <cctype>
#include <cstdlib>
#include <string>

namespace nlm::eval::judge {

namespace {

bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// The number of the first `open` digits [. digits] `close` in text, or nullopt.
std::optional<double> first_bracketed(std::string_view text, std::string_view open, std::string_view close) {
  for (size_t at = text.find(open); at != std::string_view::npos; at = text.find(open, at + 1)) {
    size_t i = at + open.size();
    const size_t start = i;
    while (i < text.size() && digit(text[i])) ++i;
    if (i == start) continue;
    if (i < text.size() && text[i] == '.') {
      ++i;
      while (i < text.size() && digit(text[i])) ++i;
    }
    if (text.substr(i, close.size()) != close) continue;
    // strtod, not stod: a judge that answers [[1000…0]] with 400 digits gets HUGE_VAL (out of
    // the 1–10 range, so unparsed) instead of an std::out_of_range that would end the run.
    return std::strtod(std::string(text.substr(start, i - start)).c_str(), nullptr);
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> parse_rating(std::string_view text) {
  auto r = first_bracketed(text, "[[", "]]");
  if (!r) r = first_bracketed(text, "[", "]");
  if (!r || *r < 1 || *r > 10) return std::nullopt;
  return r;
}

std::optional<Verdict> parse_verdict(std::string_view text) {
  if (text.find("[[A]]") != std::string_view::npos) return Verdict::A;
  if (text.find("[[B]]") != std::string_view::npos) return Verdict::B;
  if (text.find("[[C]]") != std::string_view::npos) return Verdict::Tie;
  return std::nullopt;
}

Verdict unswap(Verdict swapped) {
  return swapped == Verdict::A ? Verdict::B : swapped == Verdict::B ? Verdict::A : Verdict::Tie;
}

Verdict combine(Verdict first, Verdict second_unswapped) { return first == second_unswapped ? first : Verdict::Tie; }

const char* verdict_name(Verdict v) { return v == Verdict::A ? "A" : v == Verdict::B ? "B" : "tie"; }

}  // namespace nlm::eval::judge
