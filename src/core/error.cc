// Formatting and throwing of nativelm's two error kinds.
#include "core/error.h"

#include <cstring>

namespace nlm {

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
  return s;
}

void usage_error(std::string_view what, std::string_view where, std::string_view fix) {
  throw Error(ErrorKind::Usage, format_error(what, where, fix));
}

void runtime_error(std::string_view what, std::string_view where, std::string_view fix) {
  throw Error(ErrorKind::Runtime, format_error(what, where, fix));
}

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace nlm
