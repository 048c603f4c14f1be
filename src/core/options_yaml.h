// Options from YAML: a mapping applied to an opt::Schema, with every error naming the key as the
// file spells it and its line ("dedup.memory must be a size, got 'lots' (pipeline.yaml:14)").
// The one YAML reader of options for config files and pipeline stages; yaml-cpp stays in the
// .cc (only a forward declaration here).
#pragma once
#include <string>
#include <vector>

#include "core/options.h"

namespace YAML {
class Node;
}

namespace nlm::opt {

struct YamlSource {
  std::string file;     // named in errors
  std::string section;  // prefixes key names in errors ("dedup" -> "dedup.memory"); may be empty
};

// Applies the mapping `node` to `schema` (fields marked apply_first before the others). Unknown
// keys are errors that list the known ones, unless listed in `extra_keys` (keys the caller reads
// itself). A null or missing node applies nothing. Does not call resolve().
void apply_yaml(Schema& schema, const YAML::Node& node, const YamlSource& src,
                const std::vector<std::string>& extra_keys = {});
// The same from YAML text (a whole config file whose top level is the mapping).
void apply_yaml_text(Schema& schema, const std::string& text, const YamlSource& src,
                     const std::vector<std::string>& extra_keys = {});

// How a pipeline or config file names a key: "section.key" and "file:line" of the key (of the
// mapping when the key is absent). Used to rename library OptionErrors.
Namer yaml_namer(const YAML::Node& node, const YamlSource& src);

// Parses YAML text; a syntax error is a usage error naming `file:line`.
YAML::Node load_yaml(const std::string& text, const std::string& file);
// Reads and parses a file; a missing file is a usage error.
YAML::Node load_yaml_file(const std::string& path);

// "file:line" of a node (1-based), or the file alone when the node has no position.
std::string yaml_where(const YAML::Node& node, const std::string& file);

}  // namespace nlm::opt
