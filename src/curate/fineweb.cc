// FineWeb line statistics over the shared DocContext lines.
#include "curate/fineweb.h"

#include <algorithm>
#include <cstring>

#include "core/options.h"
#include "curate/doc_context.h"
#include "curate/text_util.h"

namespace nlm::curate {

const std::vector<std::string>& default_terminal_punctuation() {
  static const std::vector<std::string> marks = {
      ".", "!", "?", "\"", "'", "”", "’", "»", ")", "…", "‼", "⁇", "⁈", "⁉",
      "。", "！", "？", "．", "」", "』", "）", "｡", "؟", "۔", "।", "॥", "።", "፧",
      "၊", "။", "។", "៕", "։", "״", ";", "·"};
  return marks;
}

void declare(opt::Schema& s, FineWebOptions& o) {
  s.add("min_line_punct_ratio", o.min_line_punct_ratio, "Share of lines ending in terminal punctuation, lower bound")
      .range(0, 1);
  s.add("line_punct_exclude_zero", o.line_punct_exclude_zero, "Skip that rule when no line is punctuated");
  s.add("max_short_line_ratio", o.max_short_line_ratio, "Share of short lines, upper bound").range(0, 1);
  s.add("short_line_length", o.short_line_length, "A line this long (code points) or shorter is short").min(0);
  s.add("max_char_dup_ratio", o.max_char_dup_ratio, "Characters in repeated lines / all characters").range(0, 1);
  s.add("max_newline_ratio", o.max_newline_ratio, "Newlines per word, upper bound").min(0);
  s.add("terminal_punctuation", o.terminal_punctuation, "Line endings that count as punctuated");
}

void FineWeb::PunctIndex::build(const std::vector<std::string>& marks) {
  source = marks;
  std::fill(std::begin(ascii), std::end(ascii), false);
  wide.clear();
  any = false;
  for (const auto& m : source) {
    if (m.empty()) any = true;  // ends_with("") holds for every line
    else if (m.size() == 1 && static_cast<unsigned char>(m[0]) < 0x80) ascii[static_cast<unsigned char>(m[0])] = true;
    else wide.push_back(m);
  }
}

bool FineWeb::PunctIndex::ends(std::string_view line) const {
  if (any) return true;
  auto last = static_cast<unsigned char>(line.back());
  if (last < 0x80) return ascii[last];
  for (const auto& m : wide)
    if (ends_with(line, m)) return true;
  return false;
}

std::optional<Rejection> FineWeb::check(DocContext& ctx, const FineWebOptions& o) {
  uint64_t punct = 0, short_lines = 0, dup_chars = 0;
  if (marks_.source != o.terminal_punctuation) marks_.build(o.terminal_punctuation);
  const auto& lines = ctx.nonblank_lines();
  seen_.reset(lines.size());
  for (const auto& line : lines) {
    if (marks_.ends(line.text)) ++punct;
    if (static_cast<int64_t>(line.chars) <= o.short_line_length) ++short_lines;
    if (!seen_.insert(line.hash)) dup_chars += line.chars;
  }
  std::string_view text = ctx.text();
  uint64_t newlines = 0;
  for (const char* p = text.data(), *end = p + text.size();
       (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)))) != nullptr; ++p)
    ++newlines;
  uint64_t chars = ctx.chars() - newlines;
  if (lines.empty()) return Rejection{"fineweb.empty", 0};
  double n_lines = static_cast<double>(lines.size());
  double lp = static_cast<double>(punct) / n_lines;
  if (lp < o.min_line_punct_ratio && !(o.line_punct_exclude_zero && punct == 0))
    return Rejection{"fineweb.min_line_punct_ratio", lp};
  double sl = static_cast<double>(short_lines) / n_lines;
  if (sl > o.max_short_line_ratio) return Rejection{"fineweb.max_short_line_ratio", sl};
  double cd = chars ? static_cast<double>(dup_chars) / static_cast<double>(chars) : 0;
  if (cd > o.max_char_dup_ratio) return Rejection{"fineweb.max_char_dup_ratio", cd};
  size_t words = ctx.words().size();
  double nl = words ? static_cast<double>(newlines) / static_cast<double>(words) : static_cast<double>(newlines);
  if (nl > o.max_newline_ratio) return Rejection{"fineweb.max_newline_ratio", nl};
  return std::nullopt;
}

std::optional<Rejection> fineweb_check(DocContext& ctx, const FineWebOptions& o) {
  FineWeb f;
  return f.check(ctx, o);
}

}  // namespace nlm::curate
