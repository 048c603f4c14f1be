// Minimal stderr logging. Messages are prefixed "nativelm: " so they stand apart from a command's
// stdout; info() is silenced by --quiet, warn() never is. Thread-safe: each call writes one line.
#pragma once
#include <string_view>

namespace nlm::log {

void info(std::string_view message);
void warn(std::string_view message);
// Writes a raw line to stderr under the same lock (used by the progress line).
void raw(std::string_view text);

}  // namespace nlm::log
