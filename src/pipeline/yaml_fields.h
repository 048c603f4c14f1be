// Typed access to pipeline-file mappings with errors that name the key and the line, e.g.
// "train.steps must be an integer, got 'lots' (pipeline.yaml:14)". Included only by pipeline
// sources: yaml-cpp stays out of widely included headers.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nlm::pipeline {

class Fields {
 public:
  // `node` must be a mapping (or null: then every key is absent). `section` prefixes key names.
  Fields(const YAML::Node& node, std::string section, std::string file);

  // "file:line" of the mapping, or of one of its keys.
  std::string where() const;
  std::string where(const std::string& key) const;
  bool has(const std::string& key) const;
  const YAML::Node& node() const { return node_; }
  const std::string& file() const { return file_; }
  const std::string& section() const { return section_; }
  YAML::Node get(const std::string& key) const;

  // Each getter leaves `out` unchanged when the key is absent.
  void read(const std::string& key, std::string& out) const;
  void read(const std::string& key, bool& out) const;
  void read(const std::string& key, int& out) const;
  void read(const std::string& key, int64_t& out) const;
  void read(const std::string& key, uint64_t& out) const;
  void read(const std::string& key, double& out) const;
  void read(const std::string& key, std::vector<std::string>& out) const;

  // A usage error if the mapping has a key not in `known`.
  void only(const std::vector<std::string>& known) const;
  [[noreturn]] void fail(const std::string& key, const std::string& what, const std::string& fix = {}) const;

 private:
  std::string scalar(const std::string& key, const char* expected) const;
  YAML::Node node_;
  std::string section_, file_;
};

// "file:line" for any node (1-based line).
std::string yaml_where(const YAML::Node& node, const std::string& file);

}  // namespace nlm::pipeline
