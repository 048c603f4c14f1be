// A stage's mapping in a pipeline file, with the file and section it came from, so a stage can
// apply it to its declared options (pipeline::apply_stage_options) and name keys with their
// line in errors. Values are read only through the options mechanism (core/options_yaml.h).
// Included only by pipeline sources: yaml-cpp stays out of widely included headers.
#pragma once
#include <yaml-cpp/yaml.h>

#include <string>

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

  [[noreturn]] void fail(const std::string& key, const std::string& what, const std::string& fix = {}) const;

 private:
  YAML::Node node_;
  std::string section_, file_;
};

}  // namespace nlm::pipeline
