// The request cache of `eval run` (see request_cache.h).
#include "eval/tasks/request_cache.h"

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "model/hf_checkpoint.h"

namespace nlm::eval::tasks {

namespace fs = std::filesystem;
using json = nlohmann::json;

RequestCache::RequestCache(const std::string& path, const std::string& fingerprint) : path_(path) {
  if (path.empty()) return;
  bool keep = false;
  std::string text;
  if (fs::is_regular_file(path)) {
    text = read_file(path);
    // A kill can tear the last line; everything up to the last newline is whole.
    text.resize(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
    size_t first_end = text.find('\n');
    if (first_end != std::string::npos) {
      json head = json::parse(text.substr(0, first_end), nullptr, false);
      keep = head.is_object() && head.contains("fingerprint") && head["fingerprint"] == fingerprint;
    }
    if (!keep && !text.empty())
      log::info("eval: " + path + " was made by another model or other settings; scoring from scratch");
  }
  if (keep) {
    size_t pos = text.find('\n') + 1;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      json line = json::parse(text.substr(pos, end - pos), nullptr, false);
      pos = end + 1;
      if (!line.is_object() || !line.contains("k") || !line["k"].is_string() || !line.contains("v")) continue;
      results_[line["k"].get<std::string>()] = line["v"];
    }
    loaded_ = results_.size();
    // Rewrite without a torn tail, so appended lines start on a line of their own.
    write_file_atomic(path, text);
  } else {
    make_dirs(fs::path(path).parent_path().string());
    write_file_atomic(path, json({{"fingerprint", fingerprint}}).dump() + "\n");
  }
  out_.open(path, std::ios::app | std::ios::binary);
  if (!out_) runtime_error("cannot append to the request cache", path);
}

const json* RequestCache::find(const std::string& request) const {
  auto it = results_.find(hash128(request).hex());
  return it == results_.end() ? nullptr : &it->second;
}

void RequestCache::put(const std::string& request, const json& result) {
  const std::string key = hash128(request).hex();
  results_[key] = result;
  if (out_.is_open()) out_ << json({{"k", key}, {"v", result}}).dump() << '\n';
}

void RequestCache::flush() {
  if (!out_.is_open()) return;
  out_.flush();
  if (!out_) runtime_error("cannot write the request cache (disk full?)", path_);
}

std::string model_fingerprint(const std::string& model_dir, const std::string& settings) {
  std::string f = settings + "\n" + read_file(model_dir + "/config.json");
  for (const auto& w : model::hf_weight_files(model_dir)) {
    std::error_code ec;
    auto size = fs::file_size(w, ec);
    auto time = fs::last_write_time(w, ec).time_since_epoch().count();
    f += "\n" + fs::path(w).filename().string() + " " + std::to_string(size) + " " + std::to_string(time);
  }
  return hash128(f).hex();
}

}  // namespace nlm::eval::tasks
