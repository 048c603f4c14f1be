// FineWeb line statistics over the shared DocContext lines.
#include "curate/fineweb.h"

#include <unordered_set>

#include "core/hash.h"
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

void FineWebOptions::visit(ParamVisitor& v) {
  v.on("min_line_punct_ratio", min_line_punct_ratio, "share of lines ending in terminal punctuation");
  v.on("line_punct_exclude_zero", line_punct_exclude_zero, "skip that rule when no line is punctuated");
  v.on("max_short_line_ratio", max_short_line_ratio, "share of short lines, upper bound");
  v.on("short_line_length", short_line_length, "a line this long (code points) or shorter is short");
  v.on("max_char_dup_ratio", max_char_dup_ratio, "characters in repeated lines / all characters");
  v.on("max_newline_ratio", max_newline_ratio, "newlines per word, upper bound");
  v.on("terminal_punctuation", terminal_punctuation, "line endings that count as punctuated");
}

std::optional<Rejection> fineweb_check(DocContext& ctx, const FineWebOptions& o) {
  uint64_t lines = 0, punct = 0, short_lines = 0, dup_chars = 0, newlines = 0, chars = 0;
  std::unordered_set<uint64_t> seen;
  for (std::string_view raw : ctx.lines()) {
    std::string_view line = trim(raw);
    if (line.empty()) continue;
    ++lines;
    uint64_t c = utf8_chars(line);
    if (ends_with_any(line, o.terminal_punctuation)) ++punct;
    if (static_cast<int64_t>(c) <= o.short_line_length) ++short_lines;
    if (!seen.insert(hash64(line)).second) dup_chars += c;
  }
  std::string_view text = ctx.text();
  for (char ch : text) newlines += ch == '\n';
  chars = ctx.chars() - newlines;
  if (lines == 0) return Rejection{"fineweb.empty", 0};
  double lp = static_cast<double>(punct) / static_cast<double>(lines);
  if (lp < o.min_line_punct_ratio && !(o.line_punct_exclude_zero && punct == 0))
    return Rejection{"fineweb.min_line_punct_ratio", lp};
  double sl = static_cast<double>(short_lines) / static_cast<double>(lines);
  if (sl > o.max_short_line_ratio) return Rejection{"fineweb.max_short_line_ratio", sl};
  double cd = chars ? static_cast<double>(dup_chars) / static_cast<double>(chars) : 0;
  if (cd > o.max_char_dup_ratio) return Rejection{"fineweb.max_char_dup_ratio", cd};
  size_t words = ctx.words().size();
  double nl = words ? static_cast<double>(newlines) / static_cast<double>(words) : static_cast<double>(newlines);
  if (nl > o.max_newline_ratio) return Rejection{"fineweb.max_newline_ratio", nl};
  return std::nullopt;
}

}  // namespace nlm::curate
