// Jinja2's lexer rules, as described in lexer.h.
#include "data/chat_template/lexer.h"

#include <cstring>

#include "core/error.h"
#include "data/chat_template/strings.h"
#include "text/utf8.h"

namespace nlm::data::chat_template {

void template_error(int line, const std::string& what) {
  nlm::usage_error("chat template: " + what, "template line " + std::to_string(line),
                   "fix the template, or see docs/chat_template.md for the supported subset");
}

namespace {

// Python's \s (str.isspace), which Jinja2's lexer uses: Unicode whitespace such as U+3000 too.
// Returns the byte length of the whitespace character at s[i], or 0.
size_t ws_len(const std::string& s, size_t i) {
  if (i >= s.size()) return 0;
  size_t j = i;
  uint32_t cp = text::utf8_next(s, j);
  return py_isspace(cp) && j <= s.size() ? j - i : 0;
}

size_t skip_ws_from(const std::string& s, size_t i) {
  while (size_t n = ws_len(s, i)) i += n;
  return i;
}

// Start of the whitespace run that ends at `end`.
size_t ws_run_start(const std::string& s, size_t end) {
  while (end > 0) {
    size_t b = end - 1;
    while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
    if (ws_len(s, b) != end - b) break;
    end = b;
  }
  return end;
}

std::string normalize(const std::string& src) {
  std::string out;
  out.reserve(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\r') {
      out += '\n';
      if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
    } else out += src[i];
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

int count_lines(const std::string& s, size_t from, size_t to) {
  int n = 0;
  for (size_t i = from; i < to && i < s.size(); ++i) n += s[i] == '\n';
  return n;
}

// Python's unicode-escape decoding of a Jinja string literal body.
std::string unescape(const std::string& body, int line) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 == body.size()) {
      out += c;
      continue;
    }
    char e = body[++i];
    auto hex = [&](int n) {
      uint32_t cp = 0;
      for (int k = 1; k <= n; ++k) {
        char h = i + k < body.size() ? body[i + k] : 'x';
        int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
        if (d < 0) template_error(line, "bad \\x, \\u or \\U escape in string");
        cp = cp * 16 + static_cast<uint32_t>(d);
      }
      i += static_cast<size_t>(n);
      text::utf8_append(out, cp);
    };
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case '\n': break;
      case 'x': hex(2); break;
      case 'u': hex(4); break;
      case 'U': hex(8); break;
      default:
        if (e >= '0' && e <= '7') {
          uint32_t cp = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k)
            cp = cp * 8 + static_cast<uint32_t>(body[++i] - '0');
          text::utf8_append(out, cp);
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

class Lexer {
 public:
  Lexer(const std::string& src, const LexSettings& s) : src_(normalize(src)), set_(s) {}

  std::vector<Token> run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      size_t t = find_tag(pos_);
      std::string text = src_.substr(pos_, (t == std::string::npos ? src_.size() : t) - pos_);
      if (t == std::string::npos) {
        emit_text(text);
        break;
      }
      char kind = src_[t + 1];
      char sign = t + 2 < src_.size() && (src_[t + 2] == '-' || src_[t + 2] == '+') ? src_[t + 2] : 0;
      bool raw = kind == '%' && is_raw_begin(t);
      if (sign == '-') {
        size_t e = ws_run_start(text, text.size());
        line_ += count_lines(text, e, text.size());
        text.resize(e);
      } else if (sign != '+' && set_.lstrip_blocks && kind != '{') {
        size_t l_pos = text.rfind('\n');
        l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
        if ((l_pos > 0 || line_starting) && l_pos < text.size()) {
          if (skip_ws_from(text, l_pos) == text.size()) text.resize(l_pos);
        }
      }
      emit_text(text);
      pos_ = t + 2 + (sign ? 1 : 0);
      if (kind == '#') line_starting = comment();
      else if (raw) line_starting = raw_block();
      else line_starting = tag(kind);
    }
    out_.push_back({Tok::End, "", line_});
    return std::move(out_);
  }

 private:
  size_t find_tag(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1))
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    return std::string::npos;
  }

  void emit_text(const std::string& text) {
    if (!text.empty()) out_.push_back({Tok::Text, text, line_});
    line_ += count_lines(text, 0, text.size());
  }

  size_t skip_ws(size_t i) const {
    return skip_ws_from(src_, i);
  }

  bool word_at(size_t i, const char* w) const { return i <= src_.size() && src_.compare(i, std::strlen(w), w) == 0; }

  bool is_raw_begin(size_t t) const {
    size_t i = t + 2;
    if (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) ++i;
    i = skip_ws(i);
    if (!word_at(i, "raw")) return false;
    i = skip_ws(i + 3);
    if (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) ++i;
    return word_at(i, "%}");
  }

  // After a tag's closing delimiter at `i` with sign `sign`: applies `-` or trim_blocks and
  // returns whether what was consumed ends a line (for lstrip_blocks of the next tag).
  bool close(size_t i, char sign, bool block) {
    size_t start = i;
    if (sign == '-') i = skip_ws(i);
    else if (sign != '+' && block && set_.trim_blocks && i < src_.size() && src_[i] == '\n') ++i;
    line_ += count_lines(src_, start, i);
    pos_ = i;
    return i > start && src_[i - 1] == '\n';
  }

  bool comment() {
    int begin = line_;
    size_t e = src_.find("#}", pos_);
    if (e == std::string::npos) template_error(begin, "unclosed comment ('{#' without '#}')");
    char sign = e > pos_ && src_[e - 1] == '-' ? '-' : 0;
    line_ += count_lines(src_, pos_, e + 2);
    return close(e + 2, sign, true);
  }

  bool raw_block() {
    int begin = line_;
    size_t i = src_.find("%}", pos_);
    line_ += count_lines(src_, pos_, i + 2);
    char open_sign = src_[i - 1] == '-' ? '-' : 0;
    close(i + 2, open_sign, false);  // Jinja2 keeps the newline after `{% raw %}`
    // Find {% endraw %}.
    for (size_t t = src_.find("{%", pos_); t != std::string::npos; t = src_.find("{%", t + 1)) {
      size_t j = t + 2;
      char sign = j < src_.size() && (src_[j] == '-' || src_[j] == '+') ? src_[j] : 0;
      if (sign) ++j;
      j = skip_ws(j);
      if (!word_at(j, "endraw")) continue;
      j = skip_ws(j + 6);
      char end_sign = j < src_.size() && (src_[j] == '-' || src_[j] == '+') ? src_[j] : 0;
      if (end_sign) ++j;
      if (!word_at(j, "%}")) continue;
      std::string body = src_.substr(pos_, t - pos_);
      if (sign == '-') {
        body.resize(ws_run_start(body, body.size()));
      } else if (sign != '+' && set_.lstrip_blocks) {
        size_t l_pos = body.rfind('\n');
        l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
        if (l_pos > 0 && l_pos < body.size() && skip_ws_from(body, l_pos) == body.size()) body.resize(l_pos);
      }
      if (!body.empty()) out_.push_back({Tok::Text, body, line_});
      line_ += count_lines(src_, pos_, j + 2);
      return close(j + 2, end_sign, true);
    }
    template_error(begin, "unclosed raw block ('{% raw %}' without '{% endraw %}')");
  }

  // Expression tokens up to the closing delimiter of a '{{' or '{%' tag.
  bool tag(char kind) {
    int begin = line_;
    const char* end = kind == '{' ? "}}" : "%}";
    out_.push_back({kind == '{' ? Tok::VarBegin : Tok::BlockBegin, "", line_});
    int depth = 0;
    while (true) {
      size_t i = pos_;
      while (size_t n = ws_len(src_, i)) {
        line_ += src_[i] == '\n';
        i += n;
      }
      pos_ = i;
      if (i >= src_.size())
        template_error(begin, std::string("unclosed tag (no '") + end + "' before the end of the template)");
      if (depth == 0) {
        char sign = (src_[i] == '-' || src_[i] == '+') ? src_[i] : 0;
        if (word_at(i + (sign ? 1 : 0), end) && !(sign == '+' && kind == '{')) {
          out_.push_back({kind == '{' ? Tok::VarEnd : Tok::BlockEnd, "", line_});
          return close(i + (sign ? 1 : 0) + 2, sign, kind == '%');
        }
      }
      char c = src_[i];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i;
        while (j < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[j])) || src_[j] == '_')) ++j;
        out_.push_back({Tok::Name, src_.substr(i, j - i), line_});
        pos_ = j;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        size_t j = i;
        auto digits = [&] {
          while (j < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[j])) || src_[j] == '_')) ++j;
        };
        digits();
        bool is_float = false;
        if (j + 1 < src_.size() && src_[j] == '.' && std::isdigit(static_cast<unsigned char>(src_[j + 1]))) {
          ++j;
          digits();
          is_float = true;
        }
        if (j < src_.size() && (src_[j] == 'e' || src_[j] == 'E')) {
          size_t k = j + 1;
          if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
          if (k < src_.size() && std::isdigit(static_cast<unsigned char>(src_[k]))) {
            j = k;
            digits();
            is_float = true;
          }
        }
        std::string num;
        for (size_t k = i; k < j; ++k)
          if (src_[k] != '_') num += src_[k];
        out_.push_back({is_float ? Tok::Float : Tok::Int, num, line_});
        pos_ = j;
      } else if (c == '\'' || c == '"') {
        size_t j = i + 1;
        while (j < src_.size() && src_[j] != c) j += src_[j] == '\\' ? 2 : 1;
        if (j >= src_.size()) template_error(line_, "unterminated string literal");
        out_.push_back({Tok::String, unescape(src_.substr(i + 1, j - i - 1), line_), line_});
        line_ += count_lines(src_, i, j);
        pos_ = j + 1;
      } else {
        static const char* ops[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">",
                                    "=", ".", ",", ":", "|", "(", ")", "[", "]", "{", "}"};
        const char* op = nullptr;
        for (const char* o : ops)
          if (word_at(i, o)) {
            op = o;
            break;
          }
        if (!op) template_error(line_, std::string("unexpected character '") + c + "'");
        if (*op == '(' || *op == '[' || *op == '{') ++depth;
        if (*op == ')' || *op == ']' || *op == '}') --depth;
        out_.push_back({Tok::Op, op, line_});
        pos_ = i + std::strlen(op);
      }
    }
  }

  std::string src_;
  LexSettings set_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> out_;
};

}  // namespace

std::vector<Token> lex(const std::string& source, const LexSettings& settings) {
  // Jinja2 lexes Python str, so a template is always text; the lexer decodes it as valid UTF-8.
  if (!text::utf8_valid(source)) {
    std::string repaired;
    text::utf8_repair(source, repaired);
    const size_t bad = repaired.find("\xEF\xBF\xBD");
    int line = 1;
    for (size_t i = 0; i < bad && i < repaired.size(); ++i) line += repaired[i] == '\n';
    template_error(line, "the template is not valid UTF-8");
  }
  return Lexer(source, settings).run();
}

}  // namespace nlm::data::chat_template
