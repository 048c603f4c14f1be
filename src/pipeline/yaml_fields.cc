// Checked conversions from YAML scalars; every failure is a usage error with file:line.
#include "pipeline/yaml_fields.h"

#include <charconv>
#include <cmath>

#include "core/error.h"

namespace nlm::pipeline {

std::string yaml_where(const YAML::Node& node, const std::string& file) {
  if (!node.IsDefined() || node.Mark().line < 0) return file;
  return file + ":" + std::to_string(node.Mark().line + 1);
}

Fields::Fields(const YAML::Node& node, std::string section, std::string file)
    : node_(node.IsDefined() ? node : YAML::Node()), section_(std::move(section)), file_(std::move(file)) {
  // yaml-cpp hands out "invalid" nodes for missing keys, which throw on most calls; a missing
  // mapping is stored as a null node instead, which reads as "every key absent".
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap())
    usage_error("'" + section_ + "' must be a mapping of key: value", yaml_where(node_, file_),
                "see docs/pipeline.md");
}

std::string Fields::where() const { return yaml_where(node_, file_); }

std::string Fields::where(const std::string& key) const {
  if (node_.IsMap())
    for (const auto& kv : node_)
      if (kv.first.as<std::string>() == key) return yaml_where(kv.first, file_);
  return where();
}

bool Fields::has(const std::string& key) const {
  return node_.IsMap() && node_[key].IsDefined() && !node_[key].IsNull();
}

YAML::Node Fields::get(const std::string& key) const {
  if (!node_.IsMap()) return YAML::Node();
  YAML::Node v = node_[key];
  return v.IsDefined() ? v : YAML::Node();
}

void Fields::fail(const std::string& key, const std::string& what, const std::string& fix) const {
  std::string name = section_.empty() ? key : section_ + "." + key;
  usage_error(name + " " + what, where(key), fix);
}

std::string Fields::scalar(const std::string& key, const char* expected) const {
  YAML::Node v = get(key);
  if (!v.IsScalar()) fail(key, std::string("must be ") + expected);
  return v.Scalar();
}

void Fields::read(const std::string& key, std::string& out) const {
  if (has(key)) out = scalar(key, "a string");
}

void Fields::read(const std::string& key, bool& out) const {
  if (!has(key)) return;
  std::string s = scalar(key, "true or false");
  if (s == "true" || s == "yes" || s == "on") out = true;
  else if (s == "false" || s == "no" || s == "off") out = false;
  else fail(key, "must be true or false, got '" + s + "'");
}

namespace {
template <class T>
bool parse_int(const std::string& s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}
}  // namespace

void Fields::read(const std::string& key, int& out) const {
  if (!has(key)) return;
  std::string s = scalar(key, "an integer");
  if (!parse_int(s, out)) fail(key, "must be an integer, got '" + s + "'");
}

void Fields::read(const std::string& key, int64_t& out) const {
  if (!has(key)) return;
  std::string s = scalar(key, "an integer");
  if (!parse_int(s, out)) fail(key, "must be an integer, got '" + s + "'");
}

void Fields::read(const std::string& key, uint64_t& out) const {
  if (!has(key)) return;
  std::string s = scalar(key, "a non-negative integer");
  if (!parse_int(s, out)) fail(key, "must be a non-negative integer, got '" + s + "'");
}

void Fields::read(const std::string& key, double& out) const {
  if (!has(key)) return;
  std::string s = scalar(key, "a number");
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(d)) fail(key, "must be a number, got '" + s + "'");
  out = d;
}

void Fields::read(const std::string& key, std::vector<std::string>& out) const {
  if (!has(key)) return;
  YAML::Node v = get(key);
  out.clear();
  if (v.IsScalar()) {
    out.push_back(v.Scalar());
    return;
  }
  if (!v.IsSequence()) fail(key, "must be a list of strings");
  for (const auto& item : v) {
    if (!item.IsScalar())
      usage_error((section_.empty() ? key : section_ + "." + key) + " must hold only strings",
                  yaml_where(item, file_));
    out.push_back(item.Scalar());
  }
}

void Fields::only(const std::vector<std::string>& known) const {
  if (!node_.IsMap()) return;
  for (const auto& kv : node_) {
    std::string k = kv.first.as<std::string>();
    bool ok = false;
    for (const auto& n : known) ok = ok || n == k;
    if (!ok) {
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      usage_error("unknown key '" + (section_.empty() ? k : section_ + "." + k) + "'",
                  yaml_where(kv.first, file_), "known keys: " + list);
    }
  }
}

}  // namespace nlm::pipeline
