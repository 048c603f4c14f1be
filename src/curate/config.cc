// YAML → ChainConfig through the options' visit() lists, so every key the file accepts is a
// declared, documented option.
#include "curate/config.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "core/atomic_file.h"
#include "core/error.h"

namespace nlm::curate {

namespace {
class YamlVisitor : public ParamVisitor {
 public:
  YamlVisitor(const YAML::Node& node, std::string where) : node_(node), where_(std::move(where)) {}
  std::set<std::string> seen;

  void on(const char* n, double& v, const char*) override { get(n, v); }
  void on(const char* n, int64_t& v, const char*) override { get(n, v); }
  void on(const char* n, bool& v, const char*) override { get(n, v); }
  void on(const char* n, std::string& v, const char*) override { get(n, v); }
  void on(const char* n, std::vector<std::string>& v, const char*) override {
    seen.insert(n);
    YAML::Node x = node_[n];
    if (!x) return;
    if (x.IsScalar()) {
      v = {x.as<std::string>()};
      return;
    }
    if (!x.IsSequence()) bad(n, "a list of strings");
    v.clear();
    for (const auto& e : x) {
      if (!e.IsScalar()) bad(n, "a list of strings");
      v.push_back(e.as<std::string>());
    }
  }

 private:
  template <class T>
  void get(const char* n, T& v) {
    seen.insert(n);
    YAML::Node x = node_[n];
    if (!x) return;
    try {
      if (!x.IsScalar()) throw YAML::Exception(YAML::Mark::null_mark(), "not a scalar");
      v = x.as<T>();
    } catch (const YAML::Exception&) {
      bad(n, std::is_same_v<T, bool>      ? "true or false"
             : std::is_same_v<T, int64_t> ? "an integer"
             : std::is_same_v<T, double>  ? "a number"
                                          : "a string");
    }
  }
  [[noreturn]] void bad(const char* n, const char* expected) {
    usage_error(std::string("'") + n + "' must be " + expected, where_, "fix the config file");
  }
  const YAML::Node& node_;
  std::string where_;
};

// Applies a mapping of options with `visit`; unknown keys are errors.
void apply_options(const YAML::Node& node, const VisitFn& visit, const std::string& where,
                   const std::set<std::string>& extra_keys = {}) {
  if (!node || node.IsNull()) return;
  if (!node.IsMap()) usage_error("options must be a mapping", where, "write key: value pairs");
  YamlVisitor v(node, where);
  visit(v);
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    if (!v.seen.count(key) && !extra_keys.count(key))
      usage_error("unknown option '" + key + "'", where, "see 'nativelm curate --list-steps'");
  }
}

void apply_step(const std::string& step, const YAML::Node& opts, ChainConfig& c, const std::string& where) {
  std::string w = where + ": " + step;
  if (step == "normalize") apply_options(opts, [&](ParamVisitor& v) { c.normalize.visit(v); }, w);
  else if (step == "lid") apply_options(opts, [&](ParamVisitor& v) { c.lid.visit(v); }, w);
  else if (step == "pii") apply_options(opts, [&](ParamVisitor& v) { c.pii.visit(v); }, w);
  else
    for (auto& [name, profile] : c.profiles)
      apply_options(opts, [&](ParamVisitor& v) { profile.visit_step(step, v); }, w);
}
}  // namespace

void apply_config_yaml(const std::string& yaml, ChainConfig& c, const std::string& where) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    usage_error(std::string("invalid YAML: ") + e.what(), where, "fix the config file");
  }
  if (!root || root.IsNull()) return;
  if (!root.IsMap()) usage_error("the config must be a mapping with 'steps' and/or 'profiles'", where);
  try {
    for (const auto& kv : root) {
      std::string key = kv.first.as<std::string>();
      if (key != "steps" && key != "profiles" && key != "html")
        usage_error("unknown key '" + key + "'", where, "the config has 'steps', 'profiles' and 'html'");
    }
    if (YAML::Node steps = root["steps"]) {
      if (!steps.IsSequence()) usage_error("'steps' must be a list", where);
      c.steps.clear();
      for (const auto& s : steps) {
        if (s.IsScalar()) {
          c.steps.push_back(s.as<std::string>());
        } else if (s.IsMap() && s.size() == 1) {
          auto it = s.begin();
          c.steps.push_back(it->first.as<std::string>());
        } else {
          usage_error("a step must be a name or 'name: {options}'", where);
        }
        c.validate(where);
      }
      for (const auto& s : steps)
        if (s.IsMap()) apply_step(s.begin()->first.as<std::string>(), s.begin()->second, c, where);
    }
    if (YAML::Node html = root["html"])
      apply_options(html, [&](ParamVisitor& v) { c.html.visit(v); }, where + ": html");
    if (YAML::Node profiles = root["profiles"]) {
      if (!profiles.IsMap()) usage_error("'profiles' must be a mapping of language → thresholds", where);
      for (const auto& kv : profiles) {
        std::string lang = kv.first.as<std::string>();
        const YAML::Node& body = kv.second;
        if (!body.IsMap()) usage_error("profile '" + lang + "' must be a mapping", where);
        std::string base = body["base"] ? body["base"].as<std::string>() : (c.profiles.count(lang) ? lang : "default");
        if (!c.profiles.count(base))
          usage_error("profile '" + lang + "' has unknown base '" + base + "'", where);
        Profile p = c.profiles.at(base);
        for (const auto& f : body) {
          std::string step = f.first.as<std::string>();
          if (step == "base") continue;
          if (!is_filter_step(step))
            usage_error("profile '" + lang + "': '" + step + "' is not a filter step", where,
                        "use gopher_quality, gopher_repetition, c4, fineweb or nemo");
          apply_options(f.second, [&](ParamVisitor& v) { p.visit_step(step, v); },
                        where + ": profiles." + lang + "." + step);
        }
        c.profiles[lang] = std::move(p);
      }
    }
  } catch (const YAML::Exception& e) {
    usage_error(std::string("invalid config: ") + e.what(), where, "fix the config file");
  }
}

void load_config_file(const std::string& path, ChainConfig& config) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error&) {
    usage_error("cannot read config file", path, "check the path");
  }
  apply_config_yaml(text, config, path);
}

}  // namespace nlm::curate
