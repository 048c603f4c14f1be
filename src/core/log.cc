// Serialises stderr writes so lines from worker threads never interleave; warnings get the same
// cleaning as error messages (escaped control characters, capped echoes and length).
#include "core/log.h"

#include <cstdio>
#include <mutex>
#include <string>

#include "core/error.h"
#include "core/message_check.h"
#include "core/runtime.h"

namespace nlm::log {
namespace {
std::mutex g_mutex;
void write_line(std::string_view prefix, std::string_view message) {
  std::string line;
  line.reserve(prefix.size() + message.size() + 1);
  line.append(prefix).append(message).push_back('\n');
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}
}  // namespace

void info(std::string_view message) {
  if (!runtime_options().quiet) write_line("nativelm: ", escape_message(message));  // paths may hold escapes
}
void warn(std::string_view message) {
  std::string line = escape_message(message);
  notify_message(line);
  write_line("nativelm: warning: ", clean_message(line));
}
void raw(std::string_view text) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace nlm::log
