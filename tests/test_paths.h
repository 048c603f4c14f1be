// Where tests and benchmarks find the nativelm binary and the source tree. The values live in a
// file CMake generates per build folder (generated/test_paths.cc) instead of -D flags, so that no
// compile line carries the checkout's absolute path: ccache (with CCACHE_BASEDIR set by
// CMakeLists.txt) then reuses objects between checkouts in different folders, which is what
// keeps CI's fresh clone within its time.
#pragma once

namespace nlm::test_paths {
extern const char* const kNativelmBin;
extern const char* const kSourceDir;
}  // namespace nlm::test_paths

#define NATIVELM_BIN (::nlm::test_paths::kNativelmBin)
#define NATIVELM_SOURCE_DIR (::nlm::test_paths::kSourceDir)
