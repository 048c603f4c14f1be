// C4 line rules. Words per line come from the document's ICU words (found by offset), so the
// min-words rule also holds for unspaced scripts.
#include "curate/c4.h"

#include <algorithm>

#include "core/options.h"
#include "curate/doc_context.h"
#include "curate/text_util.h"

namespace nlm::curate {

void declare(opt::Schema& s, C4Options& o) {
  s.add("filter_no_terminal_punct", o.filter_no_terminal_punct, "Drop lines without terminal punctuation");
  s.add("terminal_punctuation", o.terminal_punctuation, "What counts as terminal punctuation");
  s.add("min_words_per_line", o.min_words_per_line, "Drop lines with fewer words").min(0);
  s.add("max_word_length", o.max_word_length, "Drop lines holding a longer token (code points)").min(1);
  s.add("min_sentences", o.min_sentences, "Reject documents with fewer sentences left").min(0);
  s.add("remove_citations", o.remove_citations, "Remove [1], [edit] and [citation needed]");
  s.add("filter_lorem_ipsum", o.filter_lorem_ipsum, "Reject documents containing lorem ipsum");
  s.add("filter_javascript", o.filter_javascript, "Drop lines mentioning javascript");
  s.add("filter_curly_bracket", o.filter_curly_bracket, "Reject documents containing '{'");
  s.add("filter_policy", o.filter_policy, "Drop terms-of-use, privacy and cookie policy lines");
}

namespace {
const std::string_view kPolicy[] = {"terms of use", "privacy policy", "cookie policy",
                                    "uses cookies", "use of cookies", "use cookies"};

// Removes [digits], [edit] and [citation needed] from `line` into `out`.
void remove_citations(std::string_view line, std::string& out) {
  out.clear();
  for (size_t i = 0; i < line.size();) {
    if (line[i] == '[') {
      size_t j = i + 1;
      while (j < line.size() && line[j] >= '0' && line[j] <= '9') ++j;
      size_t len = 0;
      if (j < line.size() && line[j] == ']') len = j + 1 - i;
      else if (line.substr(i, 6) == "[edit]") len = 6;
      else if (line.substr(i, 17) == "[citation needed]") len = 17;
      if (len) {
        i += len;
        continue;
      }
    }
    out.push_back(line[i++]);
  }
}

bool long_token(std::string_view line, int64_t max_len) {
  size_t start = 0;
  while (start < line.size()) {
    size_t end = line.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = line.size();
    if (end - start > static_cast<size_t>(max_len) &&
        static_cast<int64_t>(utf8_chars(line.substr(start, end - start))) > max_len)
      return true;
    start = end + 1;
  }
  return false;
}

// Sentence ends: a terminal mark followed by whitespace or the end of the line.
int64_t count_sentences(std::string_view line, const std::vector<std::string>& marks) {
  int64_t n = 0;
  for (const auto& m : marks) {
    for (size_t p = line.find(m); p != std::string_view::npos; p = line.find(m, p + m.size())) {
      size_t after = p + m.size();
      if (after == line.size() || is_space_byte(line[after])) ++n;
    }
  }
  return std::max<int64_t>(n, 1);
}
}  // namespace

std::optional<Rejection> C4Filter::apply(corpus::Document& doc, DocContext& ctx, const C4Options& o) {
  const auto& words = ctx.words();
  std::string_view text = ctx.text();
  out_.clear();
  int64_t sentences = 0;
  size_t wi = 0;
  bool changed = false;
  for (std::string_view raw : ctx.lines()) {
    size_t line_begin = static_cast<size_t>(raw.data() - text.data());
    size_t line_end = line_begin + raw.size();
    while (wi < words.size() && words[wi].begin < line_begin) ++wi;
    size_t wj = wi;
    while (wj < words.size() && words[wj].begin + words[wj].size <= line_end) ++wj;
    int64_t line_words = static_cast<int64_t>(wj - wi);
    wi = wj;

    std::string_view line = trim(raw);
    if (line.empty()) {
      changed |= !raw.empty();
      continue;
    }
    auto drop = [&] { changed = true; };
    if (o.max_word_length > 0 && long_token(line, o.max_word_length)) { drop(); continue; }
    if (o.remove_citations && line.find('[') != std::string_view::npos) {
      remove_citations(line, line_);
      if (line_.size() != line.size()) changed = true;
      line = trim(line_);
    }
    if (o.filter_no_terminal_punct &&
        (!ends_with_any(line, o.terminal_punctuation) || ends_with(line, "...") || ends_with(line, "…"))) {
      drop();
      continue;
    }
    if (line_words < o.min_words_per_line) { drop(); continue; }
    lower_.assign(line);
    ascii_lower_inplace(lower_);
    if (o.filter_lorem_ipsum && lower_.find("lorem ipsum") != std::string::npos)
      return Rejection{"c4.lorem_ipsum", 1};
    if (o.filter_javascript && lower_.find("javascript") != std::string::npos) { drop(); continue; }
    if (o.filter_curly_bracket && line.find('{') != std::string_view::npos)
      return Rejection{"c4.curly_bracket", 1};
    if (o.filter_policy &&
        std::any_of(std::begin(kPolicy), std::end(kPolicy),
                    [&](std::string_view p) { return lower_.find(p) != std::string::npos; })) {
      drop();
      continue;
    }
    sentences += count_sentences(line, o.terminal_punctuation);
    if (!out_.empty()) out_.push_back('\n');
    if (line.size() != raw.size()) changed = true;
    out_.append(line);
  }
  if (sentences < o.min_sentences) return Rejection{"c4.min_sentences", static_cast<double>(sentences)};
  if (changed) {
    ctx.count("c4", "docs_edited");
    doc.text.swap(out_);
    ctx.text_changed();
  }
  return std::nullopt;
}

}  // namespace nlm::curate
