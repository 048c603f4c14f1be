// Wall-clock timestamps in UTC for manifests and reports, so every file nativelm writes dates
// itself the same way.
#pragma once
#include <string>

namespace nlm {

// The current UTC time formatted with strftime, e.g. "%Y-%m-%dT%H:%M:%SZ" (ISO 8601, the default).
std::string utc_now(const char* format = "%Y-%m-%dT%H:%M:%SZ");

}  // namespace nlm
