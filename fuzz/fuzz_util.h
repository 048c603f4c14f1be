// Shared by the libFuzzer harnesses in fuzz/: the readers under test take file paths, so each
// harness writes the fuzzed bytes to a file in a per-process scratch folder and calls the real
// entry point on it. nlm::Error is the documented answer to bad input and is caught by the
// harness; anything else escaping (another exception, a crash, a sanitizer report) is a finding.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"
#include "corpus/document.h"
#include "text/utf8.h"

namespace nlm::fuzz {

// A scratch folder for this process, removed at exit. The name is never freed, so the exit
// handler can still use it after static destructors have run.
inline const std::string& scratch_dir() {
  static const std::string* const dir = [] {
    auto* d = new std::string((std::filesystem::temp_directory_path() /
                               ("nativelm-fuzz-" + std::to_string(getpid())))
                                  .string());
    std::filesystem::create_directories(*d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return d;
  }();
  return *dir;
}

// Writes `bytes` to scratch_dir()/name and returns the path.
inline std::string write_input(const std::string& name, std::string_view bytes) {
  std::string path = scratch_dir() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
  std::fclose(f);
  return path;
}

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `body`; nlm::Error (rejected input) is the expected way out, everything else escapes.
template <class F>
void expect_only_nlm_errors(F&& body) {
  try {
    body();
  } catch (const nlm::Error&) {
  }
}

// What every reader promises about the documents it yields, whatever the input: the text, the
// id and every field are valid UTF-8 (damage is repaired to U+FFFD), so writers emit valid JSON.
inline void check_document(const nlm::corpus::Document& doc) {
  auto fail = [](const std::string& what) {
    std::fprintf(stderr, "fuzz: document %s is not valid UTF-8\n", what.c_str());
    std::abort();
  };
  if (!nlm::text::utf8_valid(doc.text)) fail("text");
  if (!nlm::text::utf8_valid(doc.id)) fail("id");
  for (const auto& [key, raw] : doc.fields)
    if (!nlm::text::utf8_valid(key) || !nlm::text::utf8_valid(raw)) fail("field " + key);
}

}  // namespace nlm::fuzz
