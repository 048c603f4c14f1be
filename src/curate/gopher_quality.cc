// Gopher quality rules over the shared DocContext analysis.
#include "curate/gopher_quality.h"

#include "core/options.h"
#include "curate/doc_context.h"
#include "curate/text_util.h"

namespace nlm::curate {

void declare(opt::Schema& s, GopherQualityOptions& o) {
  s.add("min_words", o.min_words, "Fewer words: rejected").min(0);
  s.add("max_words", o.max_words, "More words: rejected").min(0);
  s.add("min_avg_word_length", o.min_avg_word_length, "Mean word length in code points, lower bound").min(0);
  s.add("max_avg_word_length", o.max_avg_word_length, "Mean word length in code points, upper bound").min(0);
  s.add("max_symbol_word_ratio", o.max_symbol_word_ratio, "(#, ..., …) per word, upper bound").min(0);
  s.add("max_bullet_lines_ratio", o.max_bullet_lines_ratio, "Share of lines starting with a bullet, upper bound")
      .range(0, 1);
  s.add("max_ellipsis_lines_ratio", o.max_ellipsis_lines_ratio, "Share of lines ending in an ellipsis, upper bound")
      .range(0, 1);
  s.add("min_alpha_words_ratio", o.min_alpha_words_ratio, "Share of words holding a letter, lower bound").range(0, 1);
  s.add("min_stop_words", o.min_stop_words, "Fewer stop words: rejected").min(0);
  s.add("stop_words", o.stop_words, "The stop word list (compared ASCII-case-insensitively)");
}

const std::unordered_set<std::string>& GopherQuality::stop_set(const GopherQualityOptions& o) {
  if (cached_for_ != &o) {
    cached_.clear();
    max_stop_len_ = 0;
    for (const auto& w : o.stop_words) {
      cached_.insert(ascii_lower(w));
      max_stop_len_ = std::max(max_stop_len_, w.size());
    }
    cached_for_ = &o;
  }
  return cached_;
}

std::optional<Rejection> GopherQuality::check(DocContext& ctx, const GopherQualityOptions& o) {
  const auto& words = ctx.words();
  double n = static_cast<double>(words.size());
  if (static_cast<int64_t>(words.size()) < o.min_words) return Rejection{"gopher_quality.min_words", n};
  if (static_cast<int64_t>(words.size()) > o.max_words) return Rejection{"gopher_quality.max_words", n};

  uint64_t word_chars = 0, alpha_words = 0, stop_words = 0;
  const auto& stops = stop_set(o);
  for (const auto& w : words) {
    std::string_view s = ctx.word(w);
    word_chars += w.chars;
    if (w.kind != text::WordKind::Number) ++alpha_words;
    if (stop_words < static_cast<uint64_t>(o.min_stop_words) && s.size() <= max_stop_len_) {
      lower_.assign(s);
      ascii_lower_inplace(lower_);
      if (stops.count(lower_)) ++stop_words;
    }
  }
  double avg = n > 0 ? static_cast<double>(word_chars) / n : 0;
  if (avg < o.min_avg_word_length) return Rejection{"gopher_quality.min_avg_word_length", avg};
  if (avg > o.max_avg_word_length) return Rejection{"gopher_quality.max_avg_word_length", avg};

  std::string_view text = ctx.text();
  double symbols = static_cast<double>(count_substr(text, "#") + count_substr(text, "...") +
                                       count_substr(text, "…"));
  double symbol_ratio = n > 0 ? symbols / n : 0;
  if (symbol_ratio > o.max_symbol_word_ratio)
    return Rejection{"gopher_quality.max_symbol_word_ratio", symbol_ratio};

  uint64_t bullets = 0, ellipsis = 0;
  const auto& nonblank = ctx.nonblank_lines();
  const uint64_t lines = nonblank.size();
  for (const auto& line : nonblank) {
    std::string_view t = line.text;
    if (starts_with_any(t, {"•", "-", "*", "‣", "◦", "⁃"})) ++bullets;
    if (ends_with(t, "...") || ends_with(t, "…")) ++ellipsis;
  }
  if (lines) {
    double b = static_cast<double>(bullets) / static_cast<double>(lines);
    if (b > o.max_bullet_lines_ratio) return Rejection{"gopher_quality.max_bullet_lines_ratio", b};
    double e = static_cast<double>(ellipsis) / static_cast<double>(lines);
    if (e > o.max_ellipsis_lines_ratio) return Rejection{"gopher_quality.max_ellipsis_lines_ratio", e};
  }
  double alpha = n > 0 ? static_cast<double>(alpha_words) / n : 0;
  if (alpha < o.min_alpha_words_ratio) return Rejection{"gopher_quality.min_alpha_words_ratio", alpha};
  if (static_cast<int64_t>(stop_words) < o.min_stop_words)
    return Rejection{"gopher_quality.min_stop_words", static_cast<double>(stop_words)};
  return std::nullopt;
}

}  // namespace nlm::curate
