// YAML → CurateOptions: the plain keys through CurateOptions' schema, and the steps, profiles and
// html mappings through each step's own declaration (opt::apply_yaml), so a config file and a
// pipeline stage accept the same keys and report errors with the same names and lines.
#include "curate/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/error.h"
#include "core/options.h"
#include "curate/lang_codes.h"

namespace nlm::curate {

namespace {

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string s;
  for (const auto& x : items) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// How the mapping names a key ("curate.steps.lid" in a pipeline, "steps.lid" in a config file).
std::string full(const opt::YamlSource& src, const std::string& key) {
  return src.section.empty() ? key : src.section + "." + key;
}

// The key node of `key` in `map` (for its line), or an undefined node.
YAML::Node key_node(const YAML::Node& map, const std::string& key) {
  for (const auto& kv : map)
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.first;
  return YAML::Node(YAML::NodeType::Undefined);
}

// Applies `node` to a schema over one step's options, then runs its checks; errors name
// `section` and the line.
void apply_options(opt::Schema& schema, const YAML::Node& node, const opt::YamlSource& src) {
  opt::apply_yaml(schema, node, src);
  opt::named(opt::yaml_namer(node, src), [&] { schema.resolve(); });
}

std::string step_list() { return join(known_steps(), ", "); }

void apply_steps(ChainConfig& c, const YAML::Node& steps, const YAML::Node& key, const opt::YamlSource& src) {
  const std::string& file = src.file;
  std::string name = full(src, "steps");
  if (!steps.IsSequence())
    usage_error(name + " must be a list of step names or 'name: {options}'", opt::yaml_where(key, file),
                "steps are: " + step_list());
  c.steps.clear();
  for (const auto& item : steps) {
    std::string step;
    if (item.IsScalar()) step = item.Scalar();
    else if (item.IsMap() && item.size() == 1 && item.begin()->first.IsScalar()) step = item.begin()->first.Scalar();
    else
      usage_error(name + ": a step must be a name or 'name: {options}'", opt::yaml_where(item, file),
                  "steps are: " + step_list());
    if (std::find(known_steps().begin(), known_steps().end(), step) == known_steps().end())
      usage_error("unknown curate step '" + step + "' in " + name, opt::yaml_where(item, file),
                  "steps are: " + step_list() + " (see 'nativelm curate --list-steps')");
    if (std::find(c.steps.begin(), c.steps.end(), step) != c.steps.end())
      usage_error(name + " lists step '" + step + "' twice", opt::yaml_where(item, file), "list each step once");
    c.steps.push_back(step);
  }
  for (const auto& item : steps) {
    if (!item.IsMap()) continue;
    std::string step = item.begin()->first.Scalar();
    const YAML::Node options = item.begin()->second;  // a copy: the iterator is a temporary
    opt::YamlSource step_src{file, full(src, "steps." + step)};
    if (is_filter_step(step)) {
      // A filter's values given in the chain apply to every profile.
      for (auto& [lang, profile] : c.profiles) {
        opt::Schema schema(step);
        declare_filter(schema, profile, step);
        apply_options(schema, options, step_src);
      }
    } else {
      opt::Schema schema(step);
      declare_step(schema, c, step);
      apply_options(schema, options, step_src);
    }
  }
}

void apply_profiles(ChainConfig& c, const YAML::Node& profiles, const YAML::Node& key, const opt::YamlSource& src) {
  const std::string& file = src.file;
  std::string name = full(src, "profiles");
  if (!profiles.IsMap())
    usage_error(name + " must be a mapping of language: thresholds", opt::yaml_where(key, file),
                "e.g. profiles: {yue: {base: zh, gopher_quality: {min_stop_words: 3}}}");
  for (const auto& kv : profiles) {
    const std::string written = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    // Keyed by the code the lid step writes (eus and baq are eu, iw is he), as the profile lookup
    // compares; errors name the key as the file spells it.
    const std::string lang = canonical_lang_code(written);
    const YAML::Node& body = kv.second;
    std::string pname = full(src, "profiles." + written);
    if (!body.IsMap() && !body.IsNull())
      usage_error(pname + " must be a mapping of filter step: thresholds", opt::yaml_where(kv.first, file));
    std::string base = c.profiles.count(lang) ? lang : "default";
    if (body.IsMap()) {
      YAML::Node base_key = key_node(body, "base");
      if (base_key.IsDefined()) {
        const YAML::Node& b = body["base"];
        if (!b.IsScalar()) usage_error(pname + ".base must be a profile name", opt::yaml_where(base_key, file));
        base = canonical_lang_code(b.Scalar());
        if (!c.profiles.count(base))
          usage_error(pname + ".base names unknown profile '" + base + "'", opt::yaml_where(base_key, file),
                      "name 'default', a language with a profile (en, zh, eu, ...) or a script's (und-Thai, ...); "
                      "nativelm curate --list-steps lists them all");
      }
    }
    Profile p = c.profiles.at(base);
    if (body.IsMap())
      for (const auto& f : body) {
        std::string step = f.first.IsScalar() ? f.first.Scalar() : std::string("?");
        if (step == "base") continue;
        opt::Schema schema(step);
        if (!declare_filter(schema, p, step))
          usage_error(pname + ": '" + step + "' is not a filter step", opt::yaml_where(f.first, file),
                      "use base, gopher_quality, gopher_repetition, c4, fineweb or nemo");
        apply_options(schema, f.second, {file, pname + "." + step});
      }
    c.profiles[lang] = std::move(p);
  }
}

}  // namespace

const std::vector<std::string>& chain_keys() {
  static const std::vector<std::string> keys = {"steps", "profiles", "html"};
  return keys;
}

void apply_chain_yaml(ChainConfig& c, const YAML::Node& node, const opt::YamlSource& src) {
  if (!node.IsDefined() || !node.IsMap()) return;
  // In a fixed order (not the file's): filter values in `steps` reach the profiles that
  // `profiles` then copies from their base.
  if (YAML::Node key = key_node(node, "steps"); key.IsDefined() && !node["steps"].IsNull())
    apply_steps(c, node["steps"], key, src);
  if (YAML::Node key = key_node(node, "html"); key.IsDefined()) {
    opt::Schema schema("html");
    declare_step(schema, c, "html");
    apply_options(schema, node["html"], {src.file, full(src, "html")});
  }
  if (YAML::Node key = key_node(node, "profiles"); key.IsDefined() && !node["profiles"].IsNull())
    apply_profiles(c, node["profiles"], key, src);
}

void apply_config(opt::Schema& schema, CurateOptions& options, const YAML::Node& node, const opt::YamlSource& src) {
  apply_chain_yaml(options.chain, node, src);
  opt::apply_yaml(schema, node, src, chain_keys());
}

void apply_config_text(opt::Schema& schema, CurateOptions& options, const std::string& yaml,
                       const opt::YamlSource& src) {
  YAML::Node root = opt::load_yaml(yaml, src.file);
  apply_config(schema, options, root, src);
}

opt::Namer load_config_file(opt::Schema& schema, CurateOptions& options, const std::string& path) {
  YAML::Node root = opt::load_yaml_file(path);
  apply_config(schema, options, root, {path, ""});
  return opt::yaml_namer(root, {path, ""});
}

void declare(opt::Schema& s, CurateOptions& o) {
  s.add("output", o.output_dir, "Output folder: one shard per input shard, report.json, manifest.json")
      .flag("-o,--output")
      .no_yaml()
      .no_json();
  // A folder on the command line; the options JSON records only whether rejects are written.
  opt::Field& rejects = s.custom(
      "rejects", [&o] { return o.rejects_dir; }, [&o](const std::string& v) { o.rejects_dir = v; }, "DIR",
      "Folder for removed documents, with reject_reason and reject_value");
  rejects.no_yaml().json = [&o] { return std::string(o.rejects_dir.empty() ? "false" : "true"); };
  s.add("extension", o.extension, "Output extension; picks the codec: .jsonl, .jsonl.gz, .jsonl.zst, .jsonl.bz2");
  s.add("level", o.level, "Compression level of the output codec (-1 = the codec's default)").range(-1, 22);
  s.size("max_doc_bytes", o.max_doc_bytes,
         "Remove larger documents before any step (reason size.max_doc_bytes; 0 = no limit)", true);
  s.add("force", o.force, "Redo every shard even when its manifest says it is done").no_yaml().no_json();
  // Shortcuts into the chain for the command line; a config file or pipeline sets the same
  // values under steps (and the options JSON records them there).
  s.custom("steps", [&o] { return join(o.chain.steps, ","); },
           [&o](const std::string& v) { o.chain.steps = split_list(v); }, "a,b,c",
           "The chain, comma-separated, overriding the config's steps (see --list-steps)")
      .no_yaml()
      .no_json();
  s.custom("lang", [&o] { return join(o.chain.lid.languages, ","); },
           [&o](const std::string& v) { o.chain.lid.languages = split_list(v); }, "CODES",
           "Keep only these languages, comma-separated ISO 639-1, 639-3 or BCP 47 codes (the lid step's languages)")
      .no_yaml()
      .no_json();
  s.add("min_lang_score", o.chain.lid.min_score, "Minimum language score (the lid step's min_score)")
      .range(0, 1)
      .no_yaml()
      .no_json();
  s.custom("lid_model", [&o] { return o.chain.lid.model; },
           [&o](const std::string& v) {
             o.chain.lid.backend = "fasttext";
             o.chain.lid.model = v;
           },
           "FILE", "fastText model for the lid step instead of CLD2 (from nativelm lid train)")
      .no_yaml()
      .no_json();
  s.add("quality_model", o.chain.quality.model,
        "fastText model for the quality step (from nativelm quality train; put quality in --steps)")
      .no_yaml()
      .no_json();
  s.add("opencc", o.chain.normalize.opencc, "OpenCC conversion in the normalize step, e.g. s2hk, t2s")
      .no_yaml()
      .no_json();
  // The chain with every step's options (from their declarations); set through the keys above.
  opt::Field& chain = s.custom(
      "chain", [] { return std::string(); },
      [](const std::string&) { opt::fail("chain", "is set through steps, profiles and html"); }, "",
      "The steps in use with their options");
  chain.no_flag().no_yaml().json = [&o] { return o.chain.to_json(); };
  s.check([&o] { o.chain.validate(); });
}

}  // namespace nlm::curate
