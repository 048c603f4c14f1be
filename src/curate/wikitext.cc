// Wikitext to plain text: an inline pass (a cursor that steps over templates, tables, links and
// tags, with explicit depth counters for {{ }}, {| |} and [[ ]]), then a line pass. The only
// recursion, into link labels, stops at max_nesting levels, and every search for a closing
// token either consumes what it scanned or is capped, so a page costs at most
// O(max_nesting × size) whatever it nests.
#include "curate/wikitext.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "corpus/mediawiki_reader.h"
#include "curate/text_util.h"

namespace nlm::curate {

namespace {
bool istarts(std::string_view s, size_t i, std::string_view p) {
  if (s.size() - i < p.size()) return false;
  for (size_t k = 0; k < p.size(); ++k)
    if ((s[i + k] | 0x20) != (p[k] | 0x20)) return false;
  return true;
}

// End of a balanced open..close region starting at i (which holds `open`); s.size() if none.
size_t skip_balanced(std::string_view s, size_t i, std::string_view open, std::string_view close) {
  int depth = 0;
  while (i < s.size()) {
    if (s.compare(i, open.size(), open) == 0) {
      ++depth;
      i += open.size();
    } else if (s.compare(i, close.size(), close) == 0) {
      --depth;
      i += close.size();
      if (depth == 0) return i;
    } else {
      ++i;
    }
  }
  return s.size();
}

// Namespaces whose links are not text: files, images, categories (English and common
// localisations), and interlanguage prefixes are handled by the colon rule below.
bool non_text_link(std::string_view target) {
  std::string t = ascii_lower(trim(target));
  for (std::string_view p : {"file:", "image:", "category:", "media:", "datei:", "bild:", "kategorie:",
                             "fichier:", "catégorie:", "archivo:", "categoría:", "文件:", "分类:",
                             "分類:", "圖像:", "图像:", "檔案:"})
    if (t.rfind(p, 0) == 0) return true;
  return false;
}

std::string inline_pass(std::string_view s, int depth, int max_nesting);

// The inline pass over wikitext: one left-to-right scan with a cursor. Each step handles one
// construct at the cursor (and returns true), or returns false when the cursor is not at one;
// anything no step takes is copied as is.
class InlinePass {
 public:
  // `depth`: how many link labels enclose `s`; past `max_nesting` labels are kept as they are.
  InlinePass(std::string_view s, int depth, int max_nesting) : s_(s), depth_(depth), max_nesting_(max_nesting) {
    out_.reserve(s.size());
  }

  std::string run() {
    while (i_ < s_.size()) {
      if (comment() || dropped_element() || tag() || template_or_table() || wiki_link() || external_link() ||
          bold_italic() || magic_word() || nbsp())
        continue;
      out_.push_back(s_[i_]);
      ++i_;
    }
    return std::move(out_);
  }

 private:
  bool at(char a, char b) const { return s_[i_] == a && i_ + 1 < s_.size() && s_[i_ + 1] == b; }

  // A construct that filled its line(s) takes its line break with it, so removed markup does not
  // leave blank lines that would read as paragraph breaks.
  void eat_line_break(size_t start) {
    if ((out_.empty() || out_.back() == '\n') && i_ < s_.size() && s_[i_] == '\n' &&
        (start == 0 || s_[start - 1] == '\n'))
      ++i_;
  }

  // <!-- ... -->
  bool comment() {
    if (s_.compare(i_, 4, "<!--") != 0) return false;
    const size_t start = i_;
    size_t e = s_.find("-->", i_ + 4);
    i_ = e == std::string_view::npos ? s_.size() : e + 3;
    eat_line_break(start);
    return true;
  }

  // Elements whose content is not prose, dropped with their content. An unclosed start tag ends
  // the pass.
  bool dropped_element() {
    if (s_[i_] != '<') return false;
    for (std::string_view tag : {"ref", "gallery", "math", "timeline", "score", "syntaxhighlight",
                                 "source", "graph", "imagemap", "references"}) {
      if (!istarts(s_, i_ + 1, tag)) continue;
      char after = i_ + 1 + tag.size() < s_.size() ? s_[i_ + 1 + tag.size()] : '>';
      if (after != '>' && after != ' ' && after != '/') continue;
      size_t gt = s_.find('>', i_);
      if (gt == std::string_view::npos) {
        i_ = s_.size();
        return true;
      }
      if (s_[gt - 1] == '/') {
        i_ = gt + 1;
      } else {
        std::string close = "</" + std::string(tag);
        size_t e = i_;
        while ((e = s_.find('<', e + 1)) != std::string_view::npos && !istarts(s_, e, close)) {
        }
        i_ = e == std::string_view::npos ? s_.size() : s_.find('>', e) + 1;
        if (i_ == 0) i_ = s_.size();
      }
      return true;
    }
    return false;
  }

  // Any other tag (<b>, <br />, <span …>): drop the tag, keep the content. The '>' is looked
  // for within 200 bytes only, so a page of '<' without '>' is not scanned once per '<'.
  bool tag() {
    if (s_[i_] != '<') return false;
    size_t gt = s_.substr(0, std::min(s_.size(), i_ + 200)).find('>', i_);
    if (gt == std::string_view::npos ||
        !(std::isalpha(static_cast<unsigned char>(s_[i_ + 1])) || s_[i_ + 1] == '/'))
      return false;
    if (istarts(s_, i_ + 1, "br")) out_.push_back('\n');
    i_ = gt + 1;
    return true;
  }

  // {{template}} and {| table |}, dropped.
  bool template_or_table() {
    const size_t start = i_;
    if (at('{', '{')) i_ = skip_balanced(s_, i_, "{{", "}}");
    else if (at('{', '|')) i_ = skip_balanced(s_, i_, "{|", "|}");
    else return false;
    eat_line_break(start);
    return true;
  }

  // [[target|label]]: the label (or the target) as text; files, categories and interlanguage
  // links are dropped.
  bool wiki_link() {
    if (!at('[', '[')) return false;
    const size_t start = i_;
    size_t end = skip_balanced(s_, i_, "[[", "]]");
    // An unclosed link runs to the end of the page and has no "]]" to cut off (cutting two bytes
    // anyway split a UTF-8 character; found by fuzz_mediawiki).
    const bool closed = end >= i_ + 4 && s_.compare(end - 2, 2, "]]") == 0;
    std::string_view inner = s_.substr(i_ + 2, closed ? end - i_ - 4 : end - i_ - 2);
    i_ = end;
    size_t bar = inner.rfind('|');
    std::string_view target = inner.substr(0, inner.find('|'));
    if (non_text_link(target)) {
      eat_line_break(start);
      return true;
    }
    if (target.find(':') != std::string_view::npos && target.size() < 40 &&
        target.find(' ') == std::string_view::npos && bar == std::string_view::npos)
      return true;  // interlanguage link such as [[de:Paris]]
    std::string_view label = bar == std::string_view::npos ? inner : inner.substr(bar + 1);
    nested(label);
    return true;
  }

  // [http://url label]: the label.
  bool external_link() {
    if (s_[i_] != '[' ||
        !(istarts(s_, i_ + 1, "http://") || istarts(s_, i_ + 1, "https://") || istarts(s_, i_ + 1, "//")))
      return false;
    size_t end = s_.find(']', i_);
    if (end == std::string_view::npos) end = s_.size();
    std::string_view inner = s_.substr(i_ + 1, end - i_ - 1);
    size_t sp = inner.find(' ');
    if (sp != std::string_view::npos) nested(inner.substr(sp + 1));
    i_ = end + 1;
    return true;
  }

  // A link's label: stripped like the page, or kept as it is when nested past max_nesting.
  void nested(std::string_view label) {
    if (depth_ >= max_nesting_) out_ += label;
    else out_ += inline_pass(label, depth_ + 1, max_nesting_);
  }

  // '' italic, ''' bold, ''''' both: the quotes go.
  bool bold_italic() {
    if (!at('\'', '\'')) return false;
    while (i_ < s_.size() && s_[i_] == '\'') ++i_;
    return true;
  }

  // Magic words such as __TOC__.
  bool magic_word() {
    if (s_.compare(i_, 2, "__") != 0) return false;
    size_t e = s_.find("__", i_ + 2);
    if (e == std::string_view::npos || e - i_ >= 30) return false;
    i_ = e + 2;
    return true;
  }

  bool nbsp() {
    if (s_.compare(i_, 6, "&nbsp;") != 0) return false;
    out_.push_back(' ');
    i_ += 6;
    return true;
  }

  std::string_view s_;
  std::string out_;
  size_t i_ = 0;
  int depth_, max_nesting_;
};

std::string inline_pass(std::string_view s, int depth, int max_nesting) {
  return InlinePass(s, depth, max_nesting).run();
}
}  // namespace

std::string strip_wikitext(std::string_view wikitext, int max_nesting) {
  std::string text = inline_pass(wikitext, 0, max_nesting);
  // Line pass: headings, list markers, horizontal rules, blank-line runs.
  std::string out;
  size_t pos = 0;
  int blank = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line = trim(std::string_view(text).substr(pos, nl - pos));
    pos = nl + 1;
    if (line.rfind("----", 0) == 0) line = {};
    if (line.size() >= 2 && line.front() == '=' && line.back() == '=') {
      while (!line.empty() && line.front() == '=') line.remove_prefix(1);
      while (!line.empty() && line.back() == '=') line.remove_suffix(1);
      line = trim(line);
    }
    while (!line.empty() && (line.front() == '*' || line.front() == '#' || line.front() == ':' || line.front() == ';'))
      line.remove_prefix(1);
    line = trim(line);
    if (line.empty()) {
      ++blank;
      continue;
    }
    if (!out.empty()) out += blank ? "\n\n" : "\n";
    blank = 0;
    out += corpus::xml_unescape(line);  // wikitext's own entities: &amp; &lt; &#160; ...
  }
  return out;
}

}  // namespace nlm::curate
