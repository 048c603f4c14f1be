// The two kinds of failure nativelm reports: a user error (bad flag, missing file, bad config
// value; exit 2) and a runtime failure (exit 1). Both carry a one-line message shaped as
// "<what> (<where>); <how to fix>" so every command reports errors the same way.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

namespace nlm {

enum class ErrorKind { Usage, Runtime };

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }
  int exit_code() const { return kind_ == ErrorKind::Usage ? 2 : 1; }

 private:
  ErrorKind kind_;
};

// Joins the three parts into one clean line (see clean_message); `where` and `fix` may be empty.
std::string format_error(std::string_view what, std::string_view where, std::string_view fix);

// User or input text made safe to echo in a message: control characters (C0, DEL, C1) and
// invalid UTF-8 bytes become escapes (\n, \r, \t, \x1b, \u009b), and past `max_bytes` of output
// the rest is cut off with an ellipsis (never inside a character).
std::string printable(std::string_view text, size_t max_bytes = 160);
// printable() in single quotes: how messages echo a value ("got '...'").
std::string echoed(std::string_view text, size_t max_bytes = 160);
// A whole message made fit for one error line: library exception text (nlohmann::json's
// "[json.exception.parse_error.101] parse error at ...") is put in nativelm's words, control
// characters are escaped, and a message over about 600 bytes is shortened in the middle.
// Idempotent, so every layer may apply it.
std::string clean_message(std::string_view message);

// A user error: the input or the invocation is wrong and the user can fix it.
[[noreturn]] void usage_error(std::string_view what, std::string_view where = {},
                              std::string_view fix = {});
// A runtime failure: I/O failed, data was corrupt under --strict, and so on.
[[noreturn]] void runtime_error(std::string_view what, std::string_view where = {},
                                std::string_view fix = {});
// errno as text, for I/O messages.
std::string errno_text(int err);

}  // namespace nlm
