// One left-to-right pass with explicit depth counters for {{ }}, {| |} and [[ ]].
#include "curate/wikitext.h"

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

std::string inline_pass(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  // A construct that filled its line(s) takes its line break with it, so removed markup does not
  // leave blank lines that would read as paragraph breaks.
  auto eat_line_break = [&](size_t start) {
    if ((out.empty() || out.back() == '\n') && i < s.size() && s[i] == '\n' &&
        (start == 0 || s[start - 1] == '\n'))
      ++i;
  };
  while (i < s.size()) {
    char c = s[i];
    size_t start = i;
    if (c == '<') {
      if (s.compare(i, 4, "<!--") == 0) {
        size_t e = s.find("-->", i + 4);
        i = e == std::string_view::npos ? s.size() : e + 3;
        eat_line_break(start);
        continue;
      }
      // Elements whose content is not prose.
      bool dropped = false;
      for (std::string_view tag : {"ref", "gallery", "math", "timeline", "score", "syntaxhighlight",
                                   "source", "graph", "imagemap", "references"}) {
        if (istarts(s, i + 1, tag)) {
          char after = i + 1 + tag.size() < s.size() ? s[i + 1 + tag.size()] : '>';
          if (after != '>' && after != ' ' && after != '/') continue;
          size_t gt = s.find('>', i);
          if (gt == std::string_view::npos) return out;
          if (s[gt - 1] == '/') {
            i = gt + 1;
          } else {
            std::string close = "</" + std::string(tag);
            size_t e = i;
            while ((e = s.find('<', e + 1)) != std::string_view::npos && !istarts(s, e, close)) {
            }
            i = e == std::string_view::npos ? s.size() : s.find('>', e) + 1;
            if (i == 0) i = s.size();
          }
          dropped = true;
          break;
        }
      }
      if (dropped) continue;
      // Any other tag (<b>, <br />, <span …>): drop the tag, keep the content.
      size_t gt = s.find('>', i);
      if (gt != std::string_view::npos && gt - i < 200 &&
          (std::isalpha(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '/')) {
        if (istarts(s, i + 1, "br")) out.push_back('\n');
        i = gt + 1;
        continue;
      }
    }
    if (c == '{' && i + 1 < s.size() && s[i + 1] == '{') {
      i = skip_balanced(s, i, "{{", "}}");
      eat_line_break(start);
      continue;
    }
    if (c == '{' && i + 1 < s.size() && s[i + 1] == '|') {
      i = skip_balanced(s, i, "{|", "|}");
      eat_line_break(start);
      continue;
    }
    if (c == '[' && i + 1 < s.size() && s[i + 1] == '[') {
      size_t end = skip_balanced(s, i, "[[", "]]");
      std::string_view inner = s.substr(i + 2, end >= i + 4 ? end - i - 4 : 0);
      i = end;
      size_t bar = inner.rfind('|');
      std::string_view target = inner.substr(0, inner.find('|'));
      if (non_text_link(target)) {
        eat_line_break(start);
        continue;
      }
      if (target.find(':') != std::string_view::npos && target.size() < 40 &&
          target.find(' ') == std::string_view::npos && bar == std::string_view::npos)
        continue;  // interlanguage link such as [[de:Paris]]
      std::string_view label = bar == std::string_view::npos ? inner : inner.substr(bar + 1);
      out += inline_pass(label);
      continue;
    }
    if (c == '[' && (istarts(s, i + 1, "http://") || istarts(s, i + 1, "https://") || istarts(s, i + 1, "//"))) {
      size_t end = s.find(']', i);
      if (end == std::string_view::npos) end = s.size();
      std::string_view inner = s.substr(i + 1, end - i - 1);
      size_t sp = inner.find(' ');
      if (sp != std::string_view::npos) out += inline_pass(inner.substr(sp + 1));
      i = end + 1;
      continue;
    }
    if (c == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
      while (i < s.size() && s[i] == '\'') ++i;  // '' italic, ''' bold, ''''' both
      continue;
    }
    if (c == '_' && s.compare(i, 2, "__") == 0) {  // magic words like __TOC__
      size_t e = s.find("__", i + 2);
      if (e != std::string_view::npos && e - i < 30) {
        i = e + 2;
        continue;
      }
    }
    if (c == '&' && s.compare(i, 6, "&nbsp;") == 0) {
      out.push_back(' ');
      i += 6;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}
}  // namespace

std::string strip_wikitext(std::string_view wikitext) {
  std::string text = inline_pass(wikitext);
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
