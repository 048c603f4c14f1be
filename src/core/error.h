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

// Joins the three parts; `where` and `fix` may be empty.
std::string format_error(std::string_view what, std::string_view where, std::string_view fix);

// A user error: the input or the invocation is wrong and the user can fix it.
[[noreturn]] void usage_error(std::string_view what, std::string_view where = {},
                              std::string_view fix = {});
// A runtime failure: I/O failed, data was corrupt under --strict, and so on.
[[noreturn]] void runtime_error(std::string_view what, std::string_view where = {},
                                std::string_view fix = {});
// errno as text, for I/O messages.
std::string errno_text(int err);

}  // namespace nlm
