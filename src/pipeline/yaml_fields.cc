// Where a pipeline mapping and its keys are, for errors.
#include "pipeline/yaml_fields.h"

#include "core/error.h"
#include "core/options_yaml.h"

namespace nlm::pipeline {

using opt::yaml_where;

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
      if (kv.first.IsScalar() && kv.first.Scalar() == key) return yaml_where(kv.first, file_);
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

}  // namespace nlm::pipeline
