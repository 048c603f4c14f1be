// Test helper for the dedup suites: the concatenated bytes of an output folder's .jsonl shards.
#pragma once
#include <cstdio>
#include <filesystem>
#include <string>

#include "test_util.h"

namespace nlm::dedup::testing {

inline std::string concat_shards(const std::string& dir) {
  std::string all;
  for (int i = 0;; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/part-%05d.jsonl", i);
    if (!std::filesystem::exists(dir + name)) break;
    all += nlm::testing::read_text(dir + name);
  }
  return all;
}

}  // namespace nlm::dedup::testing
