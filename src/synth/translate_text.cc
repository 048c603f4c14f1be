// Code masking and placeholder extraction for `synth translate` (translate_text.h).
#include "synth/translate_text.h"

#include <algorithm>
#include <cctype>

namespace nlm::synth {

namespace {

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// The fence at the start of `line` (after at most three spaces): its character and length, or 0.
std::pair<char, size_t> fence_of(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  if (i >= line.size() || (line[i] != '`' && line[i] != '~')) return {0, 0};
  const char c = line[i];
  size_t n = 0;
  while (i + n < line.size() && line[i + n] == c) ++n;
  if (n < 3) return {0, 0};
  // A backtick fence's info string has no backtick (CommonMark), else it is inline code.
  if (c == '`' && line.find('`', i + n) != std::string_view::npos) return {0, 0};
  return {c, n};
}

// Whether `line` closes a fence of `c` × `n`: the fence alone (trailing spaces allowed).
bool closes(std::string_view line, char c, size_t n) {
  size_t i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  size_t k = 0;
  while (i + k < line.size() && line[i + k] == c) ++k;
  if (k < n) return false;
  for (size_t j = i + k; j < line.size(); ++j)
    if (line[j] != ' ' && line[j] != '\t' && line[j] != '\r') return false;
  return true;
}

// Inline code spans of `prose` (a piece outside fenced blocks) masked into `m`.
void mask_inline(std::string_view prose, MaskedText& m) {
  size_t i = 0;
  while (i < prose.size()) {
    if (prose[i] != '`') {
      const size_t next = prose.find('`', i);
      const size_t end = next == std::string_view::npos ? prose.size() : next;
      m.text.append(prose.substr(i, end - i));
      i = end;
      continue;
    }
    size_t n = 0;
    while (i + n < prose.size() && prose[i + n] == '`') ++n;
    // The closing run: the next run of exactly n backticks.
    size_t j = i + n, close = std::string_view::npos;
    while (j < prose.size()) {
      if (prose[j] != '`') {
        ++j;
        continue;
      }
      size_t k = 0;
      while (j + k < prose.size() && prose[j + k] == '`') ++k;
      if (k == n) {
        close = j;
        break;
      }
      j += k;
    }
    if (close == std::string_view::npos) {  // an unmatched run is literal text
      m.text.append(prose.substr(i, n));
      i += n;
      continue;
    }
    m.spans.emplace_back(prose.substr(i, close + n - i));
    m.text += m.marker(m.spans.size() - 1);
    i = close + n;
  }
}

}  // namespace

MaskedText mask_code(std::string_view text) {
  MaskedText m;
  for (int k = 0; text.find("[[" + m.stem) != std::string_view::npos; ++k) m.stem = "CODE" + std::to_string(k) + "_";
  std::string prose;  // the lines since the last fenced block
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    const size_t line_end = end == std::string_view::npos ? text.size() : end;
    const std::string_view line = text.substr(pos, line_end - pos);
    const auto [c, n] = fence_of(line);
    if (!c) {
      prose.append(text.substr(pos, (end == std::string_view::npos ? text.size() : end + 1) - pos));
      pos = end == std::string_view::npos ? text.size() : end + 1;
      continue;
    }
    // A fenced block: from this line through its closing fence (or the end of the text).
    size_t q = end == std::string_view::npos ? text.size() : end + 1, block_end = text.size();
    while (q < text.size()) {
      size_t e = text.find('\n', q);
      const size_t le = e == std::string_view::npos ? text.size() : e;
      if (closes(text.substr(q, le - q), c, n)) {
        block_end = le;
        break;
      }
      q = e == std::string_view::npos ? text.size() : e + 1;
    }
    mask_inline(prose, m);
    prose.clear();
    m.spans.emplace_back(text.substr(pos, block_end - pos));
    m.text += m.marker(m.spans.size() - 1);
    pos = block_end;  // the newline after the closing fence stays prose
  }
  mask_inline(prose, m);
  return m;
}

std::optional<std::string> unmask(std::string_view translated, const MaskedText& m) {
  std::string out;
  std::vector<int> used(m.spans.size(), 0);
  const std::string open = "[[" + m.stem;
  size_t pos = 0;
  while (pos < translated.size()) {
    const size_t at = translated.find(open, pos);
    if (at == std::string_view::npos) {
      out.append(translated.substr(pos));
      break;
    }
    out.append(translated.substr(pos, at - pos));
    size_t i = at + open.size(), num = 0, digits = 0;
    while (i < translated.size() && std::isdigit(static_cast<unsigned char>(translated[i])) && digits < 6)
      num = num * 10 + size_t(translated[i++] - '0'), ++digits;
    if (!digits || translated.substr(i, 2) != "]]" || num == 0 || num > m.spans.size()) return std::nullopt;
    if (used[num - 1]++) return std::nullopt;
    out += m.spans[num - 1];
    pos = i + 2;
  }
  for (int u : used)
    if (u != 1) return std::nullopt;
  return out;
}

std::string strip_markers(std::string_view text, const MaskedText& m) {
  std::string out(text);
  for (size_t k = 0; k < m.spans.size(); ++k) {
    const std::string mk = m.marker(k);
    for (size_t at = out.find(mk); at != std::string::npos; at = out.find(mk, at)) out.replace(at, mk.size(), " ");
  }
  return out;
}

bool has_prose(const MaskedText& m) {
  const std::string rest = strip_markers(m.text, m);
  for (char c : rest)
    if (alnum(c) || static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}

std::vector<std::string> placeholders(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0, printf_seq = 0;  // printf conversions without a position, so far
  auto starts = [&](size_t at, std::string_view p) { return s.substr(at, p.size()) == p; };
  while (i < s.size()) {
    const char c = s[i];
    // URLs.
    if ((c == 'h' || c == 'f' || c == 'w') && (i == 0 || !alnum(s[i - 1])) &&
        (starts(i, "http://") || starts(i, "https://") || starts(i, "ftp://") || starts(i, "www."))) {
      size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '<' && s[j] != '>' &&
             s[j] != '"')
        ++j;
      while (j > i && std::string_view(".,;:!?)]}'\"").find(s[j - 1]) != std::string_view::npos) --j;
      out.emplace_back(s.substr(i, j - i));
      i = j;
      continue;
    }
    // {{ ... }}: a template variable.
    if (starts(i, "{{")) {
      const size_t close = s.find("}}", i + 2);
      if (close != std::string_view::npos && close - i <= 80 &&
          s.substr(i + 2, close - i - 2).find_first_of("{}\n") == std::string_view::npos) {
        out.emplace_back(s.substr(i, close + 2 - i));
        i = close + 2;
        continue;
      }
      i += 2;
      continue;
    }
    // {name}, {0}, {}, {name.attr}, {0:>8}, {name!r}.
    if (c == '{') {
      size_t j = i + 1;
      while (j < s.size() && (alnum(s[j]) || s[j] == '_' || s[j] == '.' || s[j] == '[' || s[j] == ']')) ++j;
      if (j < s.size() && s[j] == '!' && j + 1 < s.size() && std::isalpha(static_cast<unsigned char>(s[j + 1]))) j += 2;
      if (j < s.size() && s[j] == ':') {
        ++j;
        while (j < s.size() && j - i < 40 && s[j] != '}' && s[j] != '{' && s[j] != '\n' && s[j] != ' ') ++j;
      }
      if (j < s.size() && s[j] == '}') {
        out.emplace_back(s.substr(i, j + 1 - i));
        i = j + 1;
        continue;
      }
      ++i;
      continue;
    }
    // printf conversions.
    if (c == '%') {
      if (starts(i, "%%")) {
        out.emplace_back("%%");
        i += 2;
        continue;
      }
      size_t j = i + 1;
      if (j < s.size() && s[j] == '(') {  // %(name)s
        const size_t close = s.find(')', j);
        if (close != std::string_view::npos && close - j <= 40 && close + 1 < s.size() &&
            std::string_view("sdifrxXeEgGc").find(s[close + 1]) != std::string_view::npos) {
          out.emplace_back(s.substr(i, close + 2 - i));
          i = close + 2;
          continue;
        }
        ++i;
        continue;
      }
      size_t k = j;
      while (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
      const bool positional = k > j && k < s.size() && s[k] == '$';  // %1$d
      if (positional) j = k + 1;
      const size_t spec = j;  // the flags, width, precision and conversion
      while (j < s.size() && std::string_view("-+#0").find(s[j]) != std::string_view::npos) ++j;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '*')) ++j;
      if (j < s.size() && s[j] == '.') {
        ++j;
        while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '*')) ++j;
      }
      while (j < s.size() && std::string_view("hlLqjzt").find(s[j]) != std::string_view::npos) ++j;
      if (j < s.size() && std::string_view("diouxXeEfFgGaAcspn@").find(s[j]) != std::string_view::npos &&
          (j + 1 >= s.size() || !alnum(s[j + 1]))) {  // "%50eko" (Basque for 50%) is prose
        // Numbered by position, so a translation may reorder "%s ... %s" as "%2$s ... %1$s".
        const std::string pos =
            positional ? std::string(s.substr(i + 1, spec - 1 - (i + 1))) : std::to_string(++printf_seq);
        out.push_back("%" + pos + "$" + std::string(s.substr(spec, j + 1 - spec)));
        i = j + 1;
        continue;
      }
      ++i;
      continue;
    }
    ++i;
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace nlm::synth
