// YAML → opt::Schema. Dotted keys read nested mappings; scalars go through the field's own parser
// (the same one the CLI uses), so a value means the same in a file as on the command line.
#include "core/options_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <string_view>
#include <vector>

#include "core/atomic_file.h"

namespace nlm::opt {

std::string yaml_where(const YAML::Node& node, const std::string& file) {
  if (!node.IsDefined() || node.Mark().line < 0) return file;
  return file + ":" + std::to_string(node.Mark().line + 1);
}

namespace {

std::string full_name(const YamlSource& src, const std::string& key) {
  return src.section.empty() ? key : src.section + "." + key;
}

// The key node (for its line) and value of a dotted key; both invalid when absent.
struct Found {
  YAML::Node key, value;
  bool found = false;    // the key is in the file (perhaps with a null value)
  bool present = false;  // ... with a value
};

Found lookup(const YAML::Node& map, const std::string& dotted) {
  // Nodes are rebound with reset(): yaml-cpp's operator= on a bound node would overwrite the
  // node it refers to (the caller's mapping), not rebind the handle.
  Found out;
  YAML::Node cur;
  cur.reset(map);
  std::string rest = dotted;
  for (;;) {
    if (!cur.IsDefined() || !cur.IsMap()) return out;
    size_t dot = rest.find('.');
    std::string part = rest.substr(0, dot);
    YAML::Node next, key;
    bool found = false;
    for (const auto& kv : cur)
      if (kv.first.IsScalar() && kv.first.Scalar() == part) {
        key.reset(kv.first);
        next.reset(kv.second);
        found = true;
      }
    if (!found) return out;
    if (dot == std::string::npos) {
      out.key.reset(key);
      out.value.reset(next);
      out.found = true;
      out.present = !next.IsNull();
      return out;
    }
    cur.reset(next);
    rest = rest.substr(dot + 1);
  }
}

// The key node for "where": the key itself, else its nearest present parent key ("model" for
// an absent model.hidden_size); the mapping itself when none is present.
YAML::Node node_for_where(const YAML::Node& map, const std::string& dotted) {
  Found f = lookup(map, dotted);
  if (f.found) return f.key;
  size_t dot = dotted.rfind('.');
  if (dot != std::string::npos) return node_for_where(map, dotted.substr(0, dot));
  return map;
}

// Levenshtein distance, for suggesting the key that was probably meant.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The fix for an unknown key: the known keys when they fit in one line, else the nearest ones
// (a schema such as train's has 50 keys, which made a 900-byte error line).
std::string unknown_key_fix(const std::string& key, const std::vector<std::string>& known) {
  std::string all;
  for (const auto& k : known) all += (all.empty() ? "" : ", ") + k;
  if (all.size() <= 120) return "known keys: " + all;
  size_t best = std::string::npos;
  for (const auto& k : known) best = std::min(best, edit_distance(key, k));
  std::string near;
  if (best <= std::max<size_t>(2, key.size() / 3))
    for (const auto& k : known)
      if (edit_distance(key, k) == best) near += (near.empty() ? "'" : ", '") + k + "'";
  std::string listed = "the " + std::to_string(known.size()) + " keys are listed by --help and in docs/";
  return near.empty() ? listed : "did you mean " + near + "? " + listed;
}

void check_unknown(const YAML::Node& map, const std::string& prefix, const Schema& schema, const YamlSource& src,
                   const std::set<std::string>& extra) {
  if (!map.IsMap()) return;
  for (const auto& kv : map) {
    std::string k = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    std::string dotted = prefix.empty() ? k : prefix + "." + k;
    if (prefix.empty() && extra.count(k)) continue;
    bool leaf = false, group = false;
    for (const auto& f : schema.fields()) {
      if (!f.in_yaml) continue;
      if (f.key == dotted) leaf = true;
      if (f.key.rfind(dotted + ".", 0) == 0) group = true;
    }
    if (leaf) continue;
    if (group) {
      if (!kv.second.IsMap() && !kv.second.IsNull())
        usage_error(full_name(src, dotted) + " must be a mapping of key: value", yaml_where(kv.first, src.file));
      check_unknown(kv.second, dotted, schema, src, extra);
      continue;
    }
    std::vector<std::string> keys;
    for (const auto& f : schema.fields())
      if (f.in_yaml && (prefix.empty() || f.key.rfind(prefix + ".", 0) == 0))
        keys.push_back(f.key.substr(prefix.empty() ? 0 : prefix.size() + 1));
    for (const auto& e : extra)
      if (prefix.empty()) keys.push_back(e);
    usage_error("unknown key '" + full_name(src, dotted) + "'", yaml_where(kv.first, src.file),
                unknown_key_fix(k, keys));
  }
}

void apply_field(const Field& f, const Found& found, const YamlSource& src) {
  const YAML::Node& v = found.value;
  auto where = yaml_where(found.key, src.file);
  try {
    if (f.type == Type::List) {
      std::vector<std::string> items;
      if (v.IsScalar()) {
        items.push_back(v.Scalar());
      } else if (v.IsSequence()) {
        for (const auto& item : v) {
          if (!item.IsScalar())
            usage_error(full_name(src, f.key) + " must hold only strings", yaml_where(item, src.file));
          items.push_back(item.Scalar());
        }
      } else {
        usage_error(full_name(src, f.key) + " must be a list", where);
      }
      f.assign(items);
    } else {
      if (!v.IsScalar())
        usage_error(full_name(src, f.key) + " must be a single value" +
                        (f.type_name.empty() ? "" : " (" + f.type_name + ")"),
                    where);
      f.assign(v.Scalar());
    }
  } catch (const OptionError& e) {
    usage_error(full_name(src, e.key()) + " " + e.problem(), where, e.fix());
  }
}

}  // namespace

void apply_yaml(Schema& schema, const YAML::Node& node, const YamlSource& src,
                const std::vector<std::string>& extra_keys) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap())
    usage_error((src.section.empty() ? std::string("the config") : "'" + src.section + "'") +
                    " must be a mapping of key: value",
                yaml_where(node, src.file));
  check_unknown(node, "", schema, src, {extra_keys.begin(), extra_keys.end()});
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& f : schema.fields()) {
      if (!f.in_yaml || f.first != (pass == 0)) continue;
      Found found = lookup(node, f.key);
      if (found.present) apply_field(f, found, src);
    }
}

YAML::Node load_yaml(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    usage_error("invalid YAML: " + e.msg, e.mark.line >= 0 ? file + ":" + std::to_string(e.mark.line + 1) : file,
                "fix the file's syntax");
  }
}

YAML::Node load_yaml_file(const std::string& path) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error&) {
    usage_error("cannot read config file", path, "check the path");
  }
  return load_yaml(text, path);
}

void apply_yaml_text(Schema& schema, const std::string& text, const YamlSource& src,
                     const std::vector<std::string>& extra_keys) {
  apply_yaml(schema, load_yaml(text, src.file), src, extra_keys);
}

Namer yaml_namer(const YAML::Node& node, const YamlSource& src) {
  Namer n;
  n.name = [src](const std::string& key) { return full_name(src, key); };
  n.where = [node, src](const std::string& key) { return yaml_where(node_for_where(node, key), src.file); };
  return n;
}

}  // namespace nlm::opt
