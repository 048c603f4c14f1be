// MLflow file-store writer (see mlflow_store.h). meta.yaml files are written with keys sorted
// and strings single-quoted, which is the YAML MLflow's FileStore reads back.
#include "core/mlflow_store.h"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace nlm::mlflow {

namespace fs = std::filesystem;

namespace {

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// "key: value" lines of a meta.yaml this file (or MLflow) wrote; quotes removed.
std::map<std::string, std::string> read_meta(const std::string& path) {
  std::map<std::string, std::string> out;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(": ");
    if (colon == std::string::npos || line[0] == ' ' || line[0] == '-') continue;
    std::string v = line.substr(colon + 2);
    if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front()) {
      std::string u;
      for (size_t i = 1; i + 1 < v.size(); ++i) {
        u += v[i];
        if (v[i] == '\'' && v.front() == '\'' && v[i + 1] == '\'') ++i;
      }
      v = u;
    }
    out[line.substr(0, colon)] = v;
  }
  return out;
}

std::string file_uri(const fs::path& p) { return "file://" + fs::absolute(p).lexically_normal().string(); }

void write_experiment(const fs::path& dir, const std::string& id, const std::string& name) {
  make_dirs(dir.string());
  const std::string t = std::to_string(now_ms());
  write_file_atomic((dir / "meta.yaml").string(),
                    "artifact_location: " + quoted(file_uri(dir)) + "\ncreation_time: " + t +
                        "\nexperiment_id: " + quoted(id) + "\nlast_update_time: " + t +
                        "\nlifecycle_stage: active\nname: " + quoted(name) + "\n");
}

std::string random_run_id() {
  std::random_device rd;
  std::mt19937_64 g((uint64_t(rd()) << 32) ^ rd() ^ uint64_t(now_ms()));
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i) id += hex[g() & 15];
  return id;
}

std::string user_name() {
  const char* u = std::getenv("USER");
  return u && *u ? u : "unknown";
}

void write_value(const fs::path& dir, const std::string& key, const std::string& value) {
  const fs::path p = dir / clean_key(key);
  make_dirs(p.parent_path().string());
  write_file_atomic(p.string(), value);
}

}  // namespace

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string clean_key(const std::string& key) {
  std::string out;
  for (unsigned char c : key) {
    bool ok = c >= 0x80 || std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ' ' || c == '/' || c == ':';
    out += ok ? char(c) : '_';
  }
  for (size_t p; (p = out.find("..")) != std::string::npos;) out.replace(p, 2, "_");
  while (!out.empty() && out[0] == '/') out.erase(0, 1);
  while (out.find("//") != std::string::npos) out.replace(out.find("//"), 2, "/");
  if (out.empty() || out.back() == '/') out += "_";
  return out;
}

std::string experiment_id(const std::string& root, const std::string& name) {
  make_dirs(root);
  if (!fs::exists(fs::path(root) / "0" / "meta.yaml")) write_experiment(fs::path(root) / "0", "0", "Default");
  long long next = 0;
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string id = e.path().filename().string();
    if (!e.is_directory() || id.empty() || id.find_first_not_of("0123456789") != std::string::npos) continue;
    if (id.size() < 18) next = std::max(next, std::stoll(id) + 1);
    if (!fs::exists(e.path() / "meta.yaml")) continue;
    auto meta = read_meta((e.path() / "meta.yaml").string());
    if (meta["name"] == name && meta["lifecycle_stage"] != "deleted") return id;
  }
  const std::string id = std::to_string(next);
  write_experiment(fs::path(root) / id, id, name);
  return id;
}

Run Run::start(const std::string& root, const std::string& experiment, const std::string& run_name,
               const std::string& source) {
  Run r;
  r.experiment_id_ = experiment_id(root, experiment);
  r.id_ = random_run_id();
  r.dir_ = (fs::path(root) / r.experiment_id_ / r.id_).string();
  r.run_name_ = run_name;
  r.user_ = user_name();
  r.start_time_ = now_ms();
  r.artifact_uri_ = file_uri(fs::path(r.dir_) / "artifacts");
  for (const char* sub : {"params", "metrics", "tags", "artifacts"}) make_dirs(r.dir_ + "/" + sub);
  r.write_meta(RunStatus::Running, -1);
  r.tag("mlflow.runName", run_name);
  r.tag("mlflow.source.name", source);
  r.tag("mlflow.source.type", "LOCAL");
  r.tag("mlflow.user", r.user_);
  return r;
}

Run Run::reopen(const std::string& root, const std::string& run_id) {
  if (fs::is_directory(root))
    for (const auto& e : fs::directory_iterator(root)) {
      const fs::path meta_path = e.path() / run_id / "meta.yaml";
      if (run_id.empty() || !fs::exists(meta_path)) continue;
      auto meta = read_meta(meta_path.string());
      Run r;
      r.id_ = run_id;
      r.dir_ = (e.path() / run_id).string();
      r.experiment_id_ = e.path().filename().string();
      r.run_name_ = meta["run_name"];
      r.user_ = meta["user_id"];
      r.artifact_uri_ = meta["artifact_uri"];
      r.start_time_ = std::atoll(meta["start_time"].c_str());
      r.write_meta(RunStatus::Running, -1);
      return r;
    }
  usage_error("no MLflow run " + printable(run_id, 40) + " to continue", root,
              "give the --mlflow folder the run was started with");
}

void Run::write_meta(RunStatus status, int64_t end_time) const {
  write_file_atomic(dir_ + "/meta.yaml",
                    "artifact_uri: " + quoted(artifact_uri_) +
                        "\nend_time: " + (end_time < 0 ? std::string("null") : std::to_string(end_time)) +
                        "\nentry_point_name: ''\nexperiment_id: " + quoted(experiment_id_) +
                        "\nlifecycle_stage: active\nrun_id: " + quoted(id_) + "\nrun_name: " + quoted(run_name_) +
                        "\nrun_uuid: " + quoted(id_) + "\nsource_name: ''\nsource_type: 4\nsource_version: ''" +
                        "\nstart_time: " + std::to_string(start_time_) +
                        "\nstatus: " + std::to_string(static_cast<int>(status)) + "\ntags: []\nuser_id: " +
                        quoted(user_) + "\n");
}

void Run::param(const std::string& key, const std::string& value) const { write_value(dir_ + "/params", key, value); }
void Run::params_from_json(const std::string& json_text) const {
  const nlohmann::json j = nlohmann::json::parse(json_text);
  auto walk = [this](auto&& self, const nlohmann::json& v, const std::string& key) -> void {
    if (v.is_object()) {
      for (auto& [k, x] : v.items()) self(self, x, key.empty() ? k : key + "." + k);
    } else if (!key.empty()) {
      param(key, v.is_string() ? v.get<std::string>() : v.dump());
    }
  };
  walk(walk, j, "");
}

void Run::tag(const std::string& key, const std::string& value) const { write_value(dir_ + "/tags", key, value); }

void Run::metric(const std::string& key, double value, int64_t step, int64_t timestamp_ms) const {
  const fs::path p = fs::path(dir_) / "metrics" / clean_key(key);
  make_dirs(p.parent_path().string());
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value);
  std::ofstream out(p, std::ios::app);
  out << timestamp_ms << ' ' << std::string(buf, res.ptr) << ' ' << step << '\n';
  if (!out) runtime_error("cannot append to the MLflow metric file", p.string(), "check the disk and permissions");
}

void Run::drop_metrics_after(int64_t step) const {
  const fs::path dir = fs::path(dir_) / "metrics";
  if (!fs::is_directory(dir)) return;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::istringstream in(read_file(e.path().string()));
    std::string line, kept;
    while (std::getline(in, line)) {
      auto sp = line.rfind(' ');
      if (sp != std::string::npos && std::atoll(line.c_str() + sp + 1) <= step) kept += line + "\n";
    }
    write_file_atomic(e.path().string(), kept);
  }
}

void Run::artifact(const std::string& file, const std::string& name) const {
  const fs::path to = fs::path(dir_) / "artifacts" / (name.empty() ? fs::path(file).filename().string() : name);
  make_dirs(to.parent_path().string());
  write_file_atomic(to.string(), read_file(file));
}

void Run::end(RunStatus status) const { write_meta(status, now_ms()); }

}  // namespace nlm::mlflow
