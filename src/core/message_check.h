// The rule every line nativelm shows a user obeys — no control characters, at most
// kMaxMessageBytes — and a hook on the messages as they are formed (each nlm::Error text in
// format_error, each warning in log::warn), so the test suite can fail on any message that
// breaks the rule instead of trusting each call site to clean its own text.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace nlm {

// clean_message() shortens longer messages in the middle to fit.
inline constexpr size_t kMaxMessageBytes = 300;

// True when `message` has no C0/C1 control character or DEL, is valid UTF-8, and is at most
// kMaxMessageBytes long.
bool message_is_clean(std::string_view message);

// clean_message() without its last resort, the shortening in the middle: control characters
// escaped and overlong words cut, the length left as the caller made it.
std::string escape_message(std::string_view message);

// Called with every error message and warning line once it is formed, as escape_message()
// leaves it, so a message that only fits because clean_message() cut its middle out is seen at
// its full length; nullptr (the default) for none. Meant for tests: set it before any thread
// starts. Returns the previous observer.
using MessageObserver = void (*)(std::string_view message);
MessageObserver set_message_observer(MessageObserver observer);
// Passes `message` to the observer, if any (format_error and log::warn call it).
void notify_message(std::string_view message);

}  // namespace nlm
