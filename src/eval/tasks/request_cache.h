// What lets an interrupted `eval run --output DIR` resume without scoring finished requests
// again: each scored chunk of requests is appended to DIR/requests_cache.jsonl (one line per
// request: its key, a hash of the request's text, and its result) and flushed, and a rerun with
// the same model and scoring settings (the fingerprint on the file's first line) reads them back.
// A line torn by a kill is dropped; a file made by another model or other settings is started
// over. Requests are scored in fixed chunks of the request list whether or not a cache exists,
// so a resumed run batches exactly as an uninterrupted one and gives identical numbers.
#pragma once
#include <cstdint>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace nlm::eval::tasks {

class RequestCache {
 public:
  // Opens (or starts) `path` for `fingerprint`; an empty path makes a cache that holds nothing.
  RequestCache(const std::string& path, const std::string& fingerprint);
  // The stored result of the request with this text, or null.
  const nlohmann::json* find(const std::string& request) const;
  // Stores and appends; flushed by flush() (after each chunk).
  void put(const std::string& request, const nlohmann::json& result);
  void flush();
  size_t loaded() const { return loaded_; }  // results read back when opened

 private:
  std::string path_;
  std::map<std::string, nlohmann::json> results_;  // key: hash of the request text
  std::ofstream out_;
  size_t loaded_ = 0;
};

// The fingerprint of a model folder and scoring settings: the folder's config.json and the size
// and modification time of each weight file, plus `settings`.
std::string model_fingerprint(const std::string& model_dir, const std::string& settings);

}  // namespace nlm::eval::tasks
