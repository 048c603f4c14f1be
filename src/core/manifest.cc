// JSON (de)serialisation of manifests with nlohmann::json, kept out of the header.
#include "core/manifest.h"

#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/json_ints.h"
#include "core/json_depth.h"
#include "core/hash.h"

namespace nlm {
namespace fs = std::filesystem;
using nlohmann::json;

FileEntry describe_file(const std::string& path, const std::string& recorded_as) {
  FileEntry e;
  e.path = recorded_as.empty() ? path : recorded_as;
  std::error_code ec;
  e.bytes = fs::file_size(path, ec);
  if (ec) runtime_error("cannot stat file: " + ec.message(), path);
  e.hash = hash_file_hex(path);
  return e;
}

namespace {
json entries_to_json(const std::vector<FileEntry>& v) {
  json a = json::array();
  for (const auto& e : v)
    a.push_back({{"path", e.path}, {"bytes", e.bytes}, {"hash", e.hash}, {"records", e.records}});
  return a;
}
std::vector<FileEntry> entries_from_json(const json& a) {
  std::vector<FileEntry> v;
  for (const auto& o : a) {
    FileEntry e;
    e.path = o.at("path").get<std::string>();
    e.bytes = json_uint(o.at("bytes"), "bytes", "manifest entry " + e.path);  // get<uint64_t>() of a float is UB
    e.hash = o.value("hash", "");
    e.records = json_uint_at(o, "records", 0, "manifest entry " + e.path);
    v.push_back(std::move(e));
  }
  return v;
}
}  // namespace

std::string manifest_to_json(const Manifest& m) {
  json j;
  j["tool"] = m.tool;
  j["version"] = m.version.empty() ? std::string(NATIVELM_VERSION) : m.version;
  j["stage"] = m.stage;
  j["options"] = json::parse(m.options_json.empty() ? "{}" : m.options_json);
  j["inputs"] = entries_to_json(m.inputs);
  j["outputs"] = entries_to_json(m.outputs);
  j["seconds"] = m.seconds;
  j["finished_at"] = m.finished_at.empty() ? utc_now() : m.finished_at;
  j["stats"] = json::parse(m.stats_json.empty() ? "{}" : m.stats_json);
  // Paths are bytes on Linux and may not be UTF-8; replace invalid sequences rather than fail.
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Manifest manifest_from_json(const std::string& text, const std::string& where) {
  check_json_depth(text, where);
  try {
    json j = json::parse(text);
    Manifest m;
    m.tool = j.value("tool", "nativelm");
    m.version = j.value("version", "");
    m.stage = j.at("stage").get<std::string>();
    m.options_json = j.contains("options") ? j["options"].dump() : "{}";
    m.inputs = entries_from_json(j.value("inputs", json::array()));
    m.outputs = entries_from_json(j.value("outputs", json::array()));
    m.seconds = j.value("seconds", 0.0);
    m.finished_at = j.value("finished_at", "");
    m.stats_json = j.contains("stats") ? j["stats"].dump() : "{}";
    return m;
  } catch (const json::exception& e) {
    runtime_error(std::string("malformed manifest: ") + e.what(), where);
  }
}

void write_manifest(const std::string& dir, const Manifest& m) {
  write_file_atomic((fs::path(dir) / "manifest.json").string(), manifest_to_json(m));
}

std::optional<Manifest> read_manifest(const std::string& dir) {
  std::string path = (fs::path(dir) / "manifest.json").string();
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  try {
    return manifest_from_json(read_file(path), path);
  } catch (const Error&) {
    return std::nullopt;
  }
}

bool manifest_matches(const Manifest& old, const std::string& dir, const std::string& stage,
                      const std::string& options_json, const std::vector<FileEntry>& inputs) {
  if (old.stage != stage) return false;
  json a = json::parse(old.options_json, nullptr, false);
  json b = json::parse(options_json, nullptr, false);
  if (a.is_discarded() || b.is_discarded() || a != b) return false;
  if (old.inputs.size() != inputs.size()) return false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto &x = old.inputs[i], &y = inputs[i];
    if (x.path != y.path || x.bytes != y.bytes || x.hash != y.hash) return false;
  }
  for (const auto& o : old.outputs) {
    std::error_code ec;
    auto size = fs::file_size(fs::path(dir) / o.path, ec);
    if (ec || size != o.bytes) return false;
  }
  return true;
}

}  // namespace nlm
