// File, directory and glob expansion for input specs.
#include "corpus/inputs.h"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/error.h"

namespace nlm::corpus {
namespace fs = std::filesystem;

namespace {
bool skipped_name(const fs::path& p) {
  std::string name = p.filename().string();
  return name.empty() || name[0] == '.' || name == "manifest.json" || name == "report.json";
}
bool has_glob_chars(const std::string& s) { return s.find_first_of("*?[{") != std::string::npos; }

void add_path(const std::string& spec, const fs::path& p, std::vector<std::string>& out) {
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::follow_directory_symlink, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (skipped_name(it->path())) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file(ec)) found.push_back(it->path().string());
    }
    if (ec) runtime_error("cannot list directory: " + ec.message(), spec);
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  } else if (fs::exists(p, ec)) {
    out.push_back(p.string());
  } else {
    usage_error("input not found", spec, "check the path, or quote a glob pattern");
  }
}
}  // namespace

std::vector<std::string> expand_inputs(const std::vector<std::string>& specs) {
  std::vector<std::string> out;
  for (const auto& spec : specs) {
    if (spec == "-") {
      out.push_back(spec);
      continue;
    }
    std::error_code ec;
    if (!fs::exists(spec, ec) && has_glob_chars(spec)) {
      glob_t g{};
      int rc = ::glob(spec.c_str(), GLOB_BRACE | GLOB_TILDE, nullptr, &g);
      if (rc != 0 || g.gl_pathc == 0) {
        globfree(&g);
        usage_error("glob matched no files", spec, "check the pattern");
      }
      std::vector<std::string> matches(g.gl_pathv, g.gl_pathv + g.gl_pathc);
      globfree(&g);
      std::sort(matches.begin(), matches.end());
      for (const auto& m : matches)
        if (!skipped_name(m)) add_path(spec, m, out);
    } else {
      add_path(spec, spec, out);
    }
  }
  std::set<std::string> seen;
  std::vector<std::string> unique;
  for (auto& f : out)
    if (seen.insert(f).second) unique.push_back(std::move(f));
  if (unique.empty() && !specs.empty())
    usage_error("no input files found", specs.front(), "the directory is empty");
  return unique;
}

unsigned long long total_size(const std::vector<std::string>& files) {
  unsigned long long total = 0;
  for (const auto& f : files) {
    std::error_code ec;
    auto s = fs::file_size(f, ec);
    if (!ec) total += s;
  }
  return total;
}

}  // namespace nlm::corpus
