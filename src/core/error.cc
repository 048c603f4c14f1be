// Formatting and throwing of nativelm's two error kinds, and the cleaning every error line gets:
// escaped control characters, capped echoes, library exception text in nativelm's words.
#include "core/error.h"

#include <atomic>
#include <cstdio>
#include <cstring>

#include "core/message_check.h"

namespace nlm {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when the byte there does not start one.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  if (b < 0x80) return 1;
  size_t n = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  unsigned char b1 = byte(i + 1);
  if ((b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 >= 0xA0) || (b == 0xF0 && b1 < 0x90) ||
      (b == 0xF4 && b1 >= 0x90))
    return 0;  // overlong, surrogate or beyond U+10FFFF
  return n;
}

// Appends the escaped form of s[i..] one character at a time while the output stays within
// `limit`; returns the index of the first character not appended.
size_t append_escaped(std::string& out, std::string_view s, size_t i, size_t limit) {
  char buf[8];
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = utf8_sequence(s, i);
    std::string_view piece;
    if (c == '\n') piece = "\\n";
    else if (c == '\r') piece = "\\r";
    else if (c == '\t') piece = "\\t";
    else if (n == 0 || c < 0x20 || c == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
      piece = buf;
      n = 1;
    } else if (n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {  // C1 controls
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(s[i + 1])));
      piece = buf;
    } else {
      piece = s.substr(i, n);
    }
    if (out.size() + piece.size() > limit) return i;
    out += piece;
    i += n;
  }
  return i;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// nlohmann::json's what() is "[json.exception.<kind>.<id>] <text>"; the tag means nothing to a
// user, and parse errors read better as "syntax error at line 3, column 7: <detail>".
std::string translate_json_exceptions(std::string_view m) {
  static constexpr std::string_view kTag = "[json.exception.";
  std::string out;
  for (;;) {
    size_t at = m.find(kTag);
    if (at == std::string_view::npos) break;
    size_t close = m.find("] ", at);
    if (close == std::string_view::npos) break;
    out.append(m.substr(0, at));
    std::string_view kind = m.substr(at + kTag.size(), close - at - kTag.size());
    m.remove_prefix(close + 2);
    if (starts_with(kind, "parse_error") && starts_with(m, "parse error")) {
      m.remove_prefix(std::string_view("parse error").size());
      std::string_view location;
      if (starts_with(m, " at ")) {
        size_t colon = m.find(": ");
        if (colon != std::string_view::npos) {
          location = m.substr(4, colon - 4);
          m.remove_prefix(colon);
        }
      }
      if (starts_with(m, ": ")) m.remove_prefix(2);
      if (starts_with(m, "syntax error while parsing ")) {
        size_t dash = m.find(" - ");
        if (dash != std::string_view::npos) m.remove_prefix(dash + 3);
      }
      out += location.empty() ? "syntax error: " : "syntax error at " + std::string(location) + ": ";
    } else if (starts_with(kind, "type_error") && starts_with(m, "type must be ")) {
      m.remove_prefix(std::string_view("type must be ").size());
      out += "a value has the wrong type: it must be ";
    }
  }
  out.append(m);
  return out;
}

// Cuts every run of non-space bytes longer than `max_bytes` (an echoed value or path that
// another library put in its message, say) to that length plus an ellipsis.
std::string cap_words(std::string_view s, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t end = s.find(' ', i);
    if (end == std::string_view::npos) end = s.size();
    std::string_view word = s.substr(i, end - i);
    if (word.size() > max_bytes) {
      size_t cut = max_bytes;
      while (cut > 0 && (static_cast<unsigned char>(word[cut]) & 0xC0) == 0x80) --cut;
      out.append(word.substr(0, cut));
      out += "\xE2\x80\xA6";
    } else {
      out.append(word);
    }
    if (end < s.size()) out += ' ';
    i = end + 1;
  }
  return out;
}

}  // namespace

std::string printable(std::string_view text, size_t max_bytes) {
  std::string out;
  size_t stop = append_escaped(out, text, 0, max_bytes);
  if (stop < text.size()) out += "\xE2\x80\xA6";  // …
  return out;
}

std::string echoed(std::string_view text, size_t max_bytes) {
  return "'" + printable(text, max_bytes) + "'";
}

std::string escape_message(std::string_view message) {
  constexpr size_t kWord = 200;  // leaves room for a whole echo (160 bytes, quotes, punctuation)
  std::string escaped;
  append_escaped(escaped, translate_json_exceptions(message), 0, static_cast<size_t>(-1));
  return cap_words(escaped, kWord);
}

std::string clean_message(std::string_view message) {
  // kHead + " … " + kTail stays within kMaxMessageBytes.
  constexpr size_t kMax = kMaxMessageBytes, kHead = 190, kTail = 100;
  static_assert(kHead + 5 + kTail <= kMax);
  std::string text = escape_message(message);
  if (text.size() <= kMax) return text;
  // Too long: keep the head (what went wrong) and the tail (usually the fix). The text is all
  // escaped now, so the only multi-byte sequences are whole UTF-8 characters.
  auto boundary = [&text](size_t i) {
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
    return i;
  };
  size_t head_end = kHead;
  while (head_end > 0 && (static_cast<unsigned char>(text[head_end]) & 0xC0) == 0x80) --head_end;
  return text.substr(0, head_end) + " \xE2\x80\xA6 " + text.substr(boundary(text.size() - kTail));
}

std::string format_error(std::string_view what, std::string_view where, std::string_view fix) {
  std::string s(what);
  if (!where.empty()) {
    s += " (";
    s += where;
    s += ")";
  }
  if (!fix.empty()) {
    s += "; ";
    s += fix;
  }
  std::string message = escape_message(s);
  notify_message(message);
  return clean_message(message);
}

void usage_error(std::string_view what, std::string_view where, std::string_view fix) {
  throw Error(ErrorKind::Usage, format_error(what, where, fix));
}

void runtime_error(std::string_view what, std::string_view where, std::string_view fix) {
  throw Error(ErrorKind::Runtime, format_error(what, where, fix));
}

std::string errno_text(int err) { return std::strerror(err); }

namespace {
std::atomic<MessageObserver> g_observer{nullptr};
}  // namespace

bool message_is_clean(std::string_view message) {
  if (message.size() > kMaxMessageBytes) return false;
  for (size_t i = 0; i < message.size();) {
    unsigned char c = static_cast<unsigned char>(message[i]);
    size_t n = utf8_sequence(message, i);
    if (n == 0 || c < 0x20 || c == 0x7F) return false;
    if (n == 2 && c == 0xC2 && static_cast<unsigned char>(message[i + 1]) < 0xA0) return false;  // C1
    i += n;
  }
  return true;
}

MessageObserver set_message_observer(MessageObserver observer) { return g_observer.exchange(observer); }

void notify_message(std::string_view message) {
  if (MessageObserver observer = g_observer.load()) observer(message);
}

}  // namespace nlm
