// The response_format schema compiler (JsonSchema in json_constraint.h): a JSON schema becomes a
// graph of SchemaNodes that the recogniser walks. Local `$ref`s share one node per target, so a
// recursive schema is a cycle; `allOf` (and `$ref` beside other keywords) is merged into one
// schema before it is compiled; anything the recogniser cannot enforce is an ApiError 400.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>

#include "serve/api_error.h"
#include "serve/json_constraint.h"

namespace nlm::serve {

namespace {

using json = nlohmann::json;

[[noreturn]] void refuse(const std::string& param, const std::string& where, const std::string& what) {
  throw ApiError(400, "response_format schema" + (where.empty() ? std::string() : " at " + where) + ": " + what, param);
}

const char* kSupported =
    "supported: type, properties, required, additionalProperties (true, false or a schema), items, prefixItems, minItems, maxItems, uniqueItems (on enum, const or boolean items), enum, const, anyOf, "
    "oneOf, allOf, $ref, $defs, definitions, minLength, maxLength, minimum, maximum, exclusiveMinimum, "
    "exclusiveMaximum, multipleOf (whole numbers), nullable, format (date, time, date-time, uuid, email, ipv4, ipv6, duration), pattern, x-property-order";

// Keywords that only describe a schema and constrain nothing ($defs hold schemas for $ref).
bool is_annotation(const std::string& k) {
  static const std::set<std::string> a = {"title", "description", "default",     "examples", "$schema",
                                          "$id",   "$comment",    "$defs", "definitions", "deprecated",
                                          "readOnly", "writeOnly"};
  return a.count(k) > 0;
}

uint32_t count_of(const json& v, const std::string& key, const std::string& param, const std::string& where) {
  if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<int64_t>() < 0) ||
      (v.is_number_unsigned() && v.get<uint64_t>() > 1000000))
    refuse(param, where, "'" + key + "' must be an integer from 0 to 1000000");
  return static_cast<uint32_t>(v.get<uint64_t>());
}

std::string dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::strict); }

// Percent-decodes a URI fragment (a $ref's JSON pointer may be %-escaped); false when malformed.
bool percent_decode(const std::string& in, std::string& out) {
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size() || !hex(in[i + 1]) || !hex(in[i + 2])) return false;
    out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return true;
}

// The types a schema allows by its `type` (all seven when it has none).
std::set<std::string> types_of(const json& s) {
  if (!s.contains("type")) return {"object", "array", "string", "number", "integer", "boolean", "null"};
  std::set<std::string> t;
  if (s["type"].is_string()) t.insert(s["type"].get<std::string>());
  if (s["type"].is_array())
    for (auto& x : s["type"])
      if (x.is_string()) t.insert(x.get<std::string>());
  if (t.count("number")) t.insert("integer");
  return t;
}

// Integers are generated with at most 15 digits (the recogniser's bound).
constexpr int64_t kIntLimit = 999999999999999;
// A duration's date part (Y[M][D], M[D] or D) and its time part (T then H[M][S], M[S] or S).
constexpr const char* kDurationDate = "[0-9]+Y([0-9]+M)?([0-9]+D)?|[0-9]+M([0-9]+D)?|[0-9]+D";
constexpr const char* kDurationTime = "T([0-9]+H([0-9]+M)?([0-9]+S)?|[0-9]+M([0-9]+S)?|[0-9]+S)";

// A number schema's bounds: [lo, hi], with the exclusive ones as flags.
struct Range {
  double lo = -INFINITY, hi = INFINITY;
  bool lo_open = false, hi_open = false;
};

Range range_of(const json& s, const std::string& param, const std::string& at) {
  Range r;
  auto num = [&](const char* k) {
    const json& v = s[k];
    if (v.is_boolean())
      refuse(param, at, "'" + std::string(k) + "' must be a number (the draft-4 true/false form is not supported)");
    if (!v.is_number() || !std::isfinite(v.get<double>())) refuse(param, at, "'" + std::string(k) + "' must be a number");
    return v.get<double>();
  };
  if (s.contains("minimum")) r.lo = num("minimum");
  if (s.contains("maximum")) r.hi = num("maximum");
  if (s.contains("exclusiveMinimum")) {
    const double v = num("exclusiveMinimum");
    if (v >= r.lo) r.lo = v, r.lo_open = true;
  }
  if (s.contains("exclusiveMaximum")) {
    const double v = num("exclusiveMaximum");
    if (v <= r.hi) r.hi = v, r.hi_open = true;
  }
  return r;
}

// Whether some decimal the recogniser can write (15 digits before and after the point, no
// exponent) parses into [lo, hi]; a range narrower than that grid is refused.
bool decimal_fits(double lo, double hi) {
  for (double x : {lo, hi, lo / 2 + hi / 2}) {
    if (!std::isfinite(x) || std::fabs(x) >= 1e15) continue;
    for (int digits = 0; digits <= 15; ++digits) {
      char text[64];
      std::snprintf(text, sizeof text, "%.*f", digits, x);
      const double v = std::strtod(text, nullptr);
      if (v >= lo && v <= hi) return true;
    }
  }
  return false;
}

}  // namespace

// ---- allOf -----------------------------------------------------------------------------------

// Merges schema `b` into `a` (both objects, their own allOf and top-level $ref already merged) so
// that what `a` then accepts is accepted by both: types intersect, properties and required unite
// (a property in both takes the allOf of its two schemas; a closed object drops the other's extra
// properties), bounds tighten, enums intersect. What cannot be merged is refused.
void JsonSchema::merge(json& a, const json& b, const std::string& where) const {
  const std::string& param = param_;
  // A tuple's items apply after its prefix only, so two array schemas with a prefix do not merge
  // key by key.
  auto array_items = [](const json& s) { return s.contains("items") || s.contains("prefixItems"); };
  if ((a.contains("prefixItems") || b.contains("prefixItems")) && array_items(a) && array_items(b) &&
      (a.value("prefixItems", json()) != b.value("prefixItems", json()) || a.value("items", json()) != b.value("items", json())))
    refuse(param, where, "'allOf' of two array schemas with 'prefixItems' is not supported");
  auto closed_keys = [](const json& s, std::set<std::string>& keys) {
    if (!s.contains("additionalProperties") || s["additionalProperties"] != false) return false;
    if (s.contains("properties") && s["properties"].is_object())
      for (auto& [k, v] : s["properties"].items()) keys.insert(k);
    return true;
  };
  std::set<std::string> a_keys, b_keys;
  const bool a_closed = closed_keys(a, a_keys), b_closed = closed_keys(b, b_keys);
  // enum and const: the values in both (or the one side's).
  auto values_of = [](const json& s, std::vector<json>& out) {
    if (s.contains("const")) out.push_back(s["const"]);
    if (s.contains("enum") && s["enum"].is_array()) out.insert(out.end(), s["enum"].begin(), s["enum"].end());
    return s.contains("const") || s.contains("enum");
  };
  std::vector<json> va, vb;
  const bool ea = values_of(a, va), eb = values_of(b, vb);
  if (eb) {
    json both = json::array();
    for (auto& x : vb)
      if (!ea || std::find(va.begin(), va.end(), x) != va.end()) both.push_back(x);
    if (both.empty()) refuse(param, where, "'allOf' asks for enum or const values that do not overlap");
    a.erase("const");
    a["enum"] = both;
  }
  for (auto& [k, v] : b.items()) {
    if (k == "enum" || k == "const") continue;
    if (!a.contains(k)) {
      a[k] = v;
      continue;
    }
    json& x = a[k];
    if (is_annotation(k) || x == v) continue;
    if (k == "type") {
      std::set<std::string> ta = types_of(a), tb = types_of(b);
      json both = json::array();
      for (auto& t : ta)
        if (tb.count(t)) both.push_back(t);
      if (both.empty()) refuse(param, where, "'allOf' asks for types that do not overlap");
      x = both;
    } else if (k == "properties") {
      if (!x.is_object() || !v.is_object()) refuse(param, where, "'properties' must be an object");
      for (auto& [name, ps] : v.items()) x[name] = x.contains(name) ? json{{"allOf", json::array({x[name], ps})}} : ps;
    } else if (k == "required" || k == "x-property-order") {
      // Unite, keeping the first side's order, then the second's names not yet listed (each part
      // of an allOf carries its own x-property-order, from the schema's source order or the client).
      if (!x.is_array() || !v.is_array()) refuse(param, where, "'" + k + "' must be a list of property names");
      for (auto& name : v)
        if (std::find(x.begin(), x.end(), name) == x.end()) x.push_back(name);
    } else if (k == "additionalProperties" && x.is_boolean() && v.is_boolean()) {
      x = x.get<bool>() && v.get<bool>();
    } else if (k == "additionalProperties" && (x.is_object() || v.is_object())) {
      // false wins; true gives way to the schema; two schemas: the allOf of both
      if (x == false || v == false) x = false;
      else if (x.is_object() && v.is_object()) x = json{{"allOf", json::array({x, v})}};
      else if (v.is_object()) x = v;
    } else if (k == "items") {
      x = json{{"allOf", json::array({x, v})}};
    } else if ((k == "minItems" || k == "minLength" || k == "minimum" || k == "exclusiveMinimum") &&
               x.is_number() && v.is_number()) {
      if (v.get<double>() > x.get<double>()) x = v;
    } else if ((k == "maxItems" || k == "maxLength" || k == "maximum" || k == "exclusiveMaximum") &&
               x.is_number() && v.is_number()) {
      if (v.get<double>() < x.get<double>()) x = v;
    } else if (k == "uniqueItems" && x.is_boolean() && v.is_boolean()) {
      x = x.get<bool>() || v.get<bool>();
    } else if (k == "nullable" && x.is_boolean() && v.is_boolean()) {
      x = x.get<bool>() && v.get<bool>();
    } else if (k == "multipleOf" && x.is_number_unsigned() && v.is_number_unsigned() && x.get<uint64_t>() > 0 &&
               v.get<uint64_t>() > 0) {
      const uint64_t p = x.get<uint64_t>(), q = v.get<uint64_t>();
      const unsigned __int128 l = static_cast<unsigned __int128>(p / std::gcd(p, q)) * q;  // their least common multiple
      if (l > uint64_t(kIntLimit))
        refuse(param, where, "'allOf' asks for multiples of both " + std::to_string(p) + " and " + std::to_string(q) +
                                 ", whose least common multiple is past 15 digits");
      x = static_cast<uint64_t>(l);
    } else {
      refuse(param, where, "'allOf' cannot merge two different '" + k + "'");
    }
  }
  // A closed object keeps only its own properties.
  for (int side = 0; side < 2; ++side) {
    if (!(side == 0 ? a_closed : b_closed) || !a.contains("properties") || !a["properties"].is_object()) continue;
    const std::set<std::string>& keep = side == 0 ? a_keys : b_keys;
    json kept = json::object();
    for (auto& [name, ps] : a["properties"].items()) {
      if (keep.count(name)) {
        kept[name] = ps;
      } else if (a.contains("required") && a["required"].is_array() &&
                 std::find(a["required"].begin(), a["required"].end(), name) != a["required"].end()) {
        refuse(param, where, "'allOf' requires the property '" + name + "' that a closed object (additionalProperties false) forbids");
      }
    }
    a["properties"] = kept;
    if (a.contains("x-property-order") && a["x-property-order"].is_array()) {
      json order = json::array();
      for (auto& name : a["x-property-order"])
        if (name.is_string() && kept.contains(name.get<std::string>())) order.push_back(name);
      a["x-property-order"] = order;
    }
  }
}

json JsonSchema::flatten(const json& s, int depth, const std::string& where) {
  const std::string& param = param_;
  if (depth > kMaxDepth) refuse(param, where, "'allOf' and '$ref' nested deeper than " + std::to_string(kMaxDepth) + " levels (a $ref cycle?)");
  if (++merges_ > kMaxNodes) refuse(param, where, "more than " + std::to_string(kMaxNodes) + " schemas merged by 'allOf'");
  if (s.is_boolean()) {
    if (!s.get<bool>()) refuse(param, where, "the schema false accepts nothing");
    return json::object();
  }
  if (!s.is_object()) refuse(param, where, "a schema must be an object");
  json out = s;
  out.erase("allOf");
  out.erase("$ref");
  if (s.contains("$ref")) {
    if (!s["$ref"].is_string()) refuse(param, where, "'$ref' must be a string");
    const std::string ref = s["$ref"].get<std::string>();
    merge(out, flatten(resolve(ref, where), depth + 1, ref), where);
  }
  if (s.contains("allOf")) {
    const json& all = s["allOf"];
    if (!all.is_array() || all.empty()) refuse(param, where, "'allOf' must be a non-empty list of schemas");
    if (all.size() > 16) refuse(param, where, "'allOf' has more than 16 schemas");
    for (size_t i = 0; i < all.size(); ++i)
      merge(out, flatten(all[i], depth + 1, where + ".allOf[" + std::to_string(i) + "]"), where);
  }
  return out;
}

// ---- $ref ------------------------------------------------------------------------------------

const json& JsonSchema::resolve(const std::string& ref, const std::string& where) const {
  const std::string& param = param_;
  const std::string shown = "'$ref' " + ref.substr(0, 80);
  if (ref.empty() || ref[0] != '#')
    refuse(param, where, shown + " is not local: only '#' and '#/...' pointers such as '#/$defs/Name' are supported");
  std::string pointer;
  if (!percent_decode(ref.substr(1), pointer)) refuse(param, where, shown + " has a bad %-escape");
  if (pointer.empty()) return *doc_;
  if (pointer[0] != '/') refuse(param, where, shown + " is not a JSON pointer (anchors are not supported)");
  try {
    const json::json_pointer p(pointer);
    if (!doc_->contains(p)) refuse(param, where, shown + " points at nothing");
    return doc_->at(p);
  } catch (const json::exception&) {
    refuse(param, where, shown + " is not a valid JSON pointer");
  }
}

const SchemaNode* JsonSchema::build_ref(const std::string& ref, int depth, const std::string& where) {
  auto it = refs_.find(ref);
  if (it != refs_.end()) return it->second;  // built, or being built (a recursive schema)
  const json& target = resolve(ref, where);
  // This node stands for the target from now on, so that a recursive reference finds it; it
  // takes the target's compiled content once that is built.
  SchemaNode* node = make(SchemaNode::Any);
  refs_[ref] = node;
  pending_.insert(node);
  const SchemaNode* built = build(target, depth + 1, ref);
  if (pending_.count(built)) refuse(param_, where, "'$ref' " + ref.substr(0, 80) + " leads back to itself through $refs alone");
  *node = *built;
  pending_.erase(node);
  return node;
}

// ---- compile ---------------------------------------------------------------------------------

JsonSchema::JsonSchema() {
  SchemaNode* any = make(SchemaNode::Any);
  any_ = any;
  SchemaNode* words = make(SchemaNode::Literal);
  words->literals = {"false", "null", "true"};
  words_ = words;
}

SchemaNode* JsonSchema::make(SchemaNode::Kind k) {
  nodes_.push_back(std::make_unique<SchemaNode>());
  nodes_.back()->kind = k;
  return nodes_.back().get();
}

std::shared_ptr<const JsonSchema> JsonSchema::any_object() {
  std::shared_ptr<JsonSchema> s(new JsonSchema());
  s->root_ = s->make(SchemaNode::Object);
  s->finish();
  return s;
}

std::shared_ptr<const JsonSchema> JsonSchema::compile(const json& schema, const std::string& param) {
  std::shared_ptr<JsonSchema> s(new JsonSchema());
  s->doc_ = &schema;
  s->param_ = param;
  s->root_ = s->build(schema, 0, "");
  s->finish();
  s->doc_ = nullptr;
  s->refs_.clear();
  s->pending_.clear();
  return s;
}

void JsonSchema::unique_items(SchemaNode& n, const std::string& at) const {
  // Enforced as object keys are: the array remembers which of the items' values it has written
  // (a bit each), and a value is begun only towards one not yet written.
  const std::string why = "'uniqueItems': true is enforced on items that are an enum, const or boolean of at most 64 values";
  if (!n.prefix.empty()) refuse(param_, at, why + ", not on a tuple");
  if (n.items->kind != SchemaNode::Literal) refuse(param_, at, why);
  const auto& lits = n.items->literals;
  if (lits.size() > 64) refuse(param_, at, why);
  // Literals are distinct texts; numbers that differ only in how they are written (1 and 1.0) are
  // one value to a validator.
  std::set<double> numbers;
  for (const auto& l : lits) {
    const json v = json::parse(l);
    if (v.is_number() && !numbers.insert(v.get<double>()).second)
      refuse(param_, at, "'uniqueItems' with an enum that holds one number twice (" + l + ")");
  }
  n.unique = true;
  n.max_items = std::min<uint32_t>(n.max_items, static_cast<uint32_t>(lits.size()));
  if (n.min_items > n.max_items) refuse(param_, at, "'minItems' is above the distinct values the items allow");
}

void JsonSchema::finish() {
  // Least fixpoint of the frames each node needs (INF: no finite instance). Children are mostly
  // made after their parents, so a backward sweep settles most of it in one pass.
  constexpr uint32_t INF = UINT32_MAX / 4;
  for (auto& n : nodes_) n->depth = INF;
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = nodes_.size(); i-- > 0;) {
      SchemaNode& n = *nodes_[i];
      uint32_t d = 1;
      if (n.kind == SchemaNode::Object) {
        for (size_t k = 0; k < n.values.size(); ++k)
          if (n.required >> k & 1) d = std::max(d, std::min(INF, 1 + n.values[k]->depth));
      } else if (n.kind == SchemaNode::Array) {
        // the items every instance holds: the first min_items (past the prefix, all alike)
        for (uint32_t i = 0; i < n.min_items && i <= n.prefix.size(); ++i)
          d = std::max(d, std::min(INF, 1 + n.item(i)->depth));
      } else if (n.kind == SchemaNode::AnyOf) {
        d = INF;
        for (auto* a : n.alternatives) d = std::min(d, a->depth);
      }
      if (d < n.depth) {
        n.depth = d;
        changed = true;
      }
    }
  }
  for (auto& [ref, node] : refs_)
    if (node->depth >= INF)
      refuse(param_, ref, "no finite value fits: every instance would hold another (a $ref cycle with no way out)");
  for (auto& n : nodes_)
    if (n->depth >= INF) refuse(param_, "the root", "no finite value fits this schema");
  if (root_->depth > kMaxNesting)
    refuse(param_, "the root", "the smallest value nests deeper than " + std::to_string(kMaxNesting) + " levels");
  // A choice that reaches itself through choices alone (left recursion, `A: anyOf [A, ...]`)
  // would never read a byte: refused. Depth-first over the choice edges, white/grey/black.
  std::map<const SchemaNode*, int> colour;
  for (auto& start : nodes_) {
    if (start->kind != SchemaNode::AnyOf || colour[start.get()] != 0) continue;
    std::vector<std::pair<const SchemaNode*, size_t>> stack = {{start.get(), 0}};
    colour[start.get()] = 1;
    while (!stack.empty()) {
      auto& [n, i] = stack.back();
      if (n->kind != SchemaNode::AnyOf || i == n->alternatives.size()) {
        colour[n] = 2;
        stack.pop_back();
        continue;
      }
      const SchemaNode* next = n->alternatives[i++];
      if (colour[next] == 1)
        refuse(param_, "the root", "a $ref cycle reaches itself through anyOf/oneOf alone, with no object or array between");
      if (colour[next] == 0) {
        colour[next] = 1;
        stack.emplace_back(next, 0);
      }
    }
  }
}

const SchemaNode* JsonSchema::build(const json& s, int depth, const std::string& where) {
  const std::string& param = param_;
  const std::string at = where.empty() ? "the root" : where;
  if (depth > kMaxDepth) refuse(param, at, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
  if (nodes_.size() >= kMaxNodes) refuse(param, at, "more than " + std::to_string(kMaxNodes) + " subschemas");
  if (s.is_boolean()) {
    if (!s.get<bool>()) refuse(param, at, "the schema false accepts nothing");
    return any_;
  }
  if (!s.is_object()) refuse(param, at, "a schema must be an object");
  static const std::set<std::string> known = {
      "type",  "properties", "required", "additionalProperties", "items", "minItems",  "maxItems", "enum",
      "const", "anyOf",      "oneOf",    "allOf",                "$ref",  "minLength", "maxLength",
      "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "nullable", "format", "pattern", "multipleOf",
      "x-property-order", "prefixItems", "uniqueItems"};
  for (auto& [k, v] : s.items())
    if (!known.count(k) && !is_annotation(k))
      refuse(param, at, "the keyword '" + k + "' is not supported (" + kSupported + ")");
  auto has = [&](const char* k) { return s.contains(k); };
  for (const char* defs : {"$defs", "definitions"})
    if (has(defs) && !s[defs].is_object()) refuse(param, at, "'" + std::string(defs) + "' must be an object of schemas");
  // OpenAPI's nullable: true adds null to whatever the rest allows.
  if (has("nullable")) {
    if (!s["nullable"].is_boolean()) refuse(param, at, "'nullable' must be true or false");
    json rest = s;
    rest.erase("nullable");
    if (!s["nullable"].get<bool>()) return build(rest, depth + 1, at);
    SchemaNode* n = make(SchemaNode::AnyOf);
    SchemaNode* null = make(SchemaNode::Literal);
    null->literals = {"null"};
    n->alternatives = {build(rest, depth + 1, at), null};
    return n;
  }
  bool only_annotations_beside_ref = true;
  for (auto& [k, v] : s.items())
    if (k != "$ref" && !is_annotation(k)) only_annotations_beside_ref = false;

  // A $ref alone (annotations aside) is the shared node of its target; beside other keywords, as
  // in allOf, it is merged with them.
  if (has("$ref") && only_annotations_beside_ref) {
    if (!s["$ref"].is_string()) refuse(param, at, "'$ref' must be a string");
    return build_ref(s["$ref"].get<std::string>(), depth, at);
  }
  if (has("allOf") || has("$ref")) {
    if (has("allOf") && s["allOf"].is_array() && s["allOf"].size() == 1 && !has("$ref")) {
      bool alone = true;  // a single schema wrapped in allOf (older pydantic wraps $refs so)
      for (auto& [k, v] : s.items())
        if (k != "allOf" && !is_annotation(k)) alone = false;
      if (alone) return build(s["allOf"][0], depth + 1, at + ".allOf[0]");
    }
    return build(flatten(s, depth, at), depth + 1, at);
  }

  if (has("anyOf") || has("oneOf")) {
    if (has("anyOf") && has("oneOf")) refuse(param, at, "give 'anyOf' or 'oneOf', not both");
    const std::string key = has("anyOf") ? "anyOf" : "oneOf";
    const json& alts = s[key];
    if (!alts.is_array() || alts.empty()) refuse(param, at, "'" + key + "' must be a non-empty list of schemas");
    if (alts.size() > 16) refuse(param, at, "'" + key + "' has more than 16 alternatives");
    // Keywords beside the choice apply to every alternative: each is merged with them.
    json rest = json::object();
    for (auto& [k, v] : s.items())
      if (k != key && !is_annotation(k)) rest[k] = v;
    SchemaNode* n = make(SchemaNode::AnyOf);
    for (size_t i = 0; i < alts.size(); ++i) {
      const std::string where_i = at + "." + key + "[" + std::to_string(i) + "]";
      if (rest.empty()) {
        n->alternatives.push_back(build(alts[i], depth + 1, where_i));
      } else {
        json one = rest;
        merge(one, flatten(alts[i], depth + 1, where_i), where_i);
        n->alternatives.push_back(build(one, depth + 1, where_i));
      }
    }
    return n;
  }

  // The type(s): a list is the anyOf of each type with the same keywords.
  std::vector<std::string> types;
  if (has("type")) {
    const json& t = s["type"];
    if (t.is_string()) {
      types.push_back(t.get<std::string>());
    } else if (t.is_array() && !t.empty() && t.size() <= 7) {
      for (auto& x : t) {
        if (!x.is_string()) refuse(param, at, "'type' must be a string or a list of strings");
        types.push_back(x.get<std::string>());
      }
    } else {
      refuse(param, at, "'type' must be a string or a non-empty list of strings");
    }
    static const std::set<std::string> names = {"object", "array", "string", "number", "integer", "boolean", "null"};
    for (auto& t2 : types)
      if (!names.count(t2)) refuse(param, at, "unknown type '" + t2 + "'");
  }

  if (has("enum") || has("const")) {
    for (auto& [k, v] : s.items())
      if (k != "enum" && k != "const" && k != "type" && !is_annotation(k))
        refuse(param, at, "'" + k + "' beside 'enum' or 'const' is not supported");
    if (has("enum") && has("const")) refuse(param, at, "give 'enum' or 'const', not both");
    std::vector<json> values;
    if (has("const")) {
      values.push_back(s["const"]);
    } else {
      if (!s["enum"].is_array() || s["enum"].empty()) refuse(param, at, "'enum' must be a non-empty list");
      values.assign(s["enum"].begin(), s["enum"].end());
    }
    literal_count_ += values.size();
    if (literal_count_ > kMaxLiterals)
      refuse(param, at, "more than " + std::to_string(kMaxLiterals) + " enum values in all");
    auto type_of = [](const json& v) -> std::string {
      if (v.is_object()) return "object";
      if (v.is_array()) return "array";
      if (v.is_string()) return "string";
      if (v.is_number_integer()) return "integer";
      if (v.is_number()) return "number";
      if (v.is_boolean()) return "boolean";
      return "null";
    };
    SchemaNode* n = make(SchemaNode::Literal);
    for (auto& v : values) {
      if (!types.empty()) {
        const std::string t = type_of(v);
        bool ok = std::find(types.begin(), types.end(), t) != types.end() ||
                  (t == "integer" && std::find(types.begin(), types.end(), "number") != types.end());
        if (!ok) refuse(param, at, "the enum value " + dump(v).substr(0, 64) + " does not have the schema's type");
      }
      std::string d = dump(v);
      if (d.size() > 4096) refuse(param, at, "an enum value longer than 4096 bytes");
      n->literals.push_back(std::move(d));
    }
    std::sort(n->literals.begin(), n->literals.end());
    n->literals.erase(std::unique(n->literals.begin(), n->literals.end()), n->literals.end());
    return n;
  }

  if (types.empty()) {  // inferred from the keywords, when they name one kind of value
    std::set<std::string> kinds;
    if (has("properties") || has("required") || has("additionalProperties")) kinds.insert("object");
    if (has("items") || has("prefixItems") || has("minItems") || has("maxItems") || has("uniqueItems")) kinds.insert("array");
    if (has("minLength") || has("maxLength") || has("format") || has("pattern")) kinds.insert("string");
    if (has("minimum") || has("maximum") || has("exclusiveMinimum") || has("exclusiveMaximum") || has("multipleOf"))
      kinds.insert("number");
    if (kinds.size() > 1) refuse(param, at, "give 'type': its keywords belong to several types");
    if (kinds.empty()) return any_;
    types.push_back(*kinds.begin());
  }
  if (types.size() > 1) {
    SchemaNode* n = make(SchemaNode::AnyOf);
    for (auto& t : types) {
      json one = s;
      one["type"] = t;
      n->alternatives.push_back(build(one, depth + 1, at));
    }
    return n;
  }

  // One type; keywords of other types do not apply to it (as in JSON Schema).
  const std::string& type = types[0];
  if (type == "boolean") {
    SchemaNode* n = make(SchemaNode::Literal);
    n->literals = {"false", "true"};
    return n;
  }
  if (type == "null") {
    SchemaNode* n = make(SchemaNode::Literal);
    n->literals = {"null"};
    return n;
  }
  if (type == "number" || type == "integer") {
    // multipleOf: a whole number k; the answer is an integer that k divides (for "number" too: a
    // subset of its values, as decimal multiples would depend on a validator's float rounding).
    int64_t multiple = 0;
    if (has("multipleOf")) {
      const json& m = s["multipleOf"];
      if (!m.is_number() || !(m.get<double>() > 0)) refuse(param, at, "'multipleOf' must be a number above 0");
      const double k = m.get<double>();
      if (k != std::floor(k) || k > double(kIntLimit))
        refuse(param, at, "'multipleOf' is supported as a whole number up to 15 digits, not " + dump(m).substr(0, 40));
      multiple = int64_t(k);
    }
    SchemaNode* n = make(type == "number" && !multiple ? SchemaNode::Number : SchemaNode::Integer);
    n->multiple = multiple;
    const bool ranged = has("minimum") || has("maximum") || has("exclusiveMinimum") || has("exclusiveMaximum");
    n->bounded = ranged || multiple;
    n->int_min = -kIntLimit;  // a multipleOf alone: any integer of at most 15 digits
    n->int_max = kIntLimit;
    if (!ranged) return n;
    const Range r = range_of(s, param, at);
    if (type == "integer" || multiple) {
      // The integers in the range, within the 15 digits an integer may have.
      const double lo = r.lo_open ? std::floor(r.lo) + 1 : std::ceil(r.lo);
      const double hi = r.hi_open ? std::ceil(r.hi) - 1 : std::floor(r.hi);
      if (lo > hi) refuse(param, at, "no integer lies in the range ('minimum' above 'maximum')");
      if (lo > double(kIntLimit) || hi < -double(kIntLimit))
        refuse(param, at, "the range holds no integer of at most 15 digits");
      n->int_min = lo < -double(kIntLimit) ? -kIntLimit : int64_t(lo);
      n->int_max = hi > double(kIntLimit) ? kIntLimit : int64_t(hi);
      if (multiple) {
        const int64_t first = (n->int_min / multiple + (n->int_min % multiple > 0 ? 1 : 0)) * multiple;  // ceil
        if (first > n->int_max) refuse(param, at, "no multiple of 'multipleOf' lies in the range");
      }
    } else {
      n->num_min = r.lo_open ? std::nextafter(r.lo, INFINITY) : r.lo;
      n->num_max = r.hi_open ? std::nextafter(r.hi, -INFINITY) : r.hi;
      if (n->num_min > n->num_max) refuse(param, at, "no number lies in the range ('minimum' above 'maximum')");
      if (!decimal_fits(std::max(n->num_min, -1e15), std::min(n->num_max, 1e15)))
        refuse(param, at, "the range holds no decimal of at most 15 digits before and after the point");
    }
    return n;
  }
  if (type == "string") {
    SchemaNode* n = make(SchemaNode::String);
    if (has("minLength")) n->min_length = count_of(s["minLength"], "minLength", param, at);
    if (has("maxLength")) n->max_length = count_of(s["maxLength"], "maxLength", param, at);
    if (n->min_length > n->max_length) refuse(param, at, "'minLength' is above 'maxLength'");
    if (has("format")) {
      // Formats are enforced as character patterns; one the recogniser cannot enforce is refused
      // rather than taken as a mere annotation (the answer would not validate with a checker).
      static const std::map<std::string, SchemaNode::Format> formats = {
          {"date", SchemaNode::Date}, {"time", SchemaNode::Time}, {"date-time", SchemaNode::DateTime}, {"uuid", SchemaNode::Uuid}};
      // The formats OpenAI's structured outputs also take, as built-in patterns: each accepts a
      // subset of what the format allows (an IPv6 address in its full eight-group form, an email
      // address as dot-separated local@domain.tld), so every answer validates.
      static const std::map<std::string, std::string> format_patterns = {
          {"email", R"(^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9]+(-[A-Za-z0-9]+)*(\.[A-Za-z0-9]+(-[A-Za-z0-9]+)*)*\.[A-Za-z]{2,}$)"},
          {"ipv4", R"(^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$)"},
          {"ipv6", R"(^([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}$)"},
          // ISO 8601: at least one component, date parts in order, then T and time parts, or weeks
          {"duration", "^P((" + std::string(kDurationDate) + ")(" + kDurationTime + ")?|" + kDurationTime + "|[0-9]+W)$"}};
      const json& f = s["format"];
      if (!f.is_string()) refuse(param, at, "'format' must be a string");
      auto it = formats.find(f.get<std::string>());
      auto pit = format_patterns.find(f.get<std::string>());
      if (it == formats.end() && pit == format_patterns.end())
        refuse(param, at, "the format '" + f.get<std::string>().substr(0, 40) +
                              "' is not supported (supported: date, time, date-time, uuid, email, ipv4, ipv6, duration)");
      if (has("minLength") || has("maxLength")) refuse(param, at, "'minLength' or 'maxLength' beside 'format' is not supported");
      if (it != formats.end()) {
        n->format = it->second;
      } else if (!has("pattern")) {  // a pattern beside the format is refused below
        patterns_.push_back(std::make_unique<Pattern>(pit->second));
        n->pattern = patterns_.back().get();
      }
    }
    if (has("pattern")) {
      const json& p = s["pattern"];
      if (!p.is_string() || p.get<std::string>().size() > 1000) refuse(param, at, "'pattern' must be a string of at most 1000 bytes");
      if (has("format") || has("minLength") || has("maxLength"))
        refuse(param, at, "'pattern' beside 'format', 'minLength' or 'maxLength' is not supported");
      try {
        patterns_.push_back(std::make_unique<Pattern>(p.get<std::string>()));
      } catch (const std::invalid_argument& e) {
        refuse(param, at, "the pattern " + dump(p).substr(0, 80) + " is not supported: " + e.what());
      }
      n->pattern = patterns_.back().get();
    }
    return n;
  }
  if (type == "array") {
    SchemaNode* n = make(SchemaNode::Array);
    if (has("minItems")) n->min_items = count_of(s["minItems"], "minItems", param, at);
    if (has("maxItems")) n->max_items = count_of(s["maxItems"], "maxItems", param, at);
    if (has("prefixItems")) {  // a tuple: item i follows prefixItems[i], the rest follow items
      const json& p = s["prefixItems"];
      if (!p.is_array()) refuse(param, at, "'prefixItems' must be an array of schemas");
      if (p.size() > kMaxProperties) refuse(param, at, "'prefixItems' has more than " + std::to_string(kMaxProperties) + " schemas");
      for (size_t i = 0; i < p.size(); ++i)
        n->prefix.push_back(build(p[i], depth + 1, at + ".prefixItems[" + std::to_string(i) + "]"));
    }
    if (has("items") && s["items"] == false) {  // no items past the prefix
      n->max_items = std::min<uint32_t>(n->max_items, static_cast<uint32_t>(n->prefix.size()));
      n->items = any_;
    } else {
      n->items = has("items") ? build(s["items"], depth + 1, at + ".items") : any_;
    }
    if (n->min_items > n->max_items)
      refuse(param, at, has("prefixItems") ? "'minItems' is above the items the tuple allows" : "'minItems' is above 'maxItems'");
    if (has("uniqueItems")) {
      if (!s["uniqueItems"].is_boolean()) refuse(param, at, "'uniqueItems' must be true or false");
      if (s["uniqueItems"] == true) unique_items(*n, at);
    }
    return n;
  }
  // object
  SchemaNode* n = make(SchemaNode::Object);
  if (has("additionalProperties")) {
    const json& a = s["additionalProperties"];
    if (!a.is_boolean() && !a.is_object()) refuse(param, at, "'additionalProperties' must be true, false or a schema");
    if (a.is_boolean() && !a.get<bool>()) n->closed = true;
    // A schema for the values of a map (no properties): its keys are free strings. Beside
    // properties only the listed keys are generated (below), which the schema also accepts.
    if (a.is_object() && !has("properties")) n->extra = build(a, depth + 1, at + ".additionalProperties");
  }
  std::vector<std::string> required;
  if (has("required")) {
    const json& r = s["required"];
    if (!r.is_array()) refuse(param, at, "'required' must be a list of property names");
    for (auto& x : r) {
      if (!x.is_string()) refuse(param, at, "'required' must be a list of property names");
      required.push_back(x.get<std::string>());
    }
  }
  if (has("properties")) {
    const json& p = s["properties"];
    if (!p.is_object()) refuse(param, at, "'properties' must be an object");
    if (p.size() > kMaxProperties)
      refuse(param, at, "more than " + std::to_string(kMaxProperties) + " properties in one object");
    // With properties, only the listed keys are generated (additionalProperties or not): the
    // answer still validates, and each value has a schema to follow.
    n->closed = true;
    std::vector<std::pair<std::string, std::string>> keyed;  // (quoted key, name)
    for (auto& [k, v] : p.items()) keyed.emplace_back(dump(json(k)), k);
    std::sort(keyed.begin(), keyed.end());
    for (auto& [quoted, name] : keyed) {
      n->keys.push_back(quoted);
      n->values.push_back(build(p[name], depth + 1, at + ".properties." + name));
    }
  }
  for (auto& name : required) {
    const std::string quoted = dump(json(name));
    auto it = std::lower_bound(n->keys.begin(), n->keys.end(), quoted);
    if (it == n->keys.end() || *it != quoted)
      refuse(param, at, "the required property '" + name + "' is not in 'properties'");
    n->required |= uint64_t(1) << (it - n->keys.begin());
  }
  if (has("x-property-order")) {
    // The listed properties come in this order, each after the required ones listed before it;
    // the others may come anywhere after them.
    const json& o = s["x-property-order"];
    if (!o.is_array()) refuse(param, at, "'x-property-order' must be a list of property names");
    std::vector<size_t> position(n->keys.size(), o.size());
    for (size_t r = 0; r < o.size(); ++r) {
      if (!o[r].is_string()) refuse(param, at, "'x-property-order' must be a list of property names");
      auto it = std::lower_bound(n->keys.begin(), n->keys.end(), dump(o[r]));
      if (it == n->keys.end() || *it != dump(o[r]))
        refuse(param, at, "'x-property-order' names '" + o[r].get<std::string>() + "', which is not in 'properties'");
      position[static_cast<size_t>(it - n->keys.begin())] = r;
    }
    n->after.assign(n->keys.size(), 0);
    n->before_required.assign(n->keys.size(), 0);
    for (size_t i = 0; i < n->keys.size(); ++i)
      for (size_t j = 0; j < n->keys.size(); ++j) {
        if (position[j] > position[i] && position[i] < o.size()) n->after[i] |= uint64_t(1) << j;
        if (position[j] < position[i] && (n->required >> j & 1)) n->before_required[i] |= uint64_t(1) << j;
      }
  }
  return n;
}

}  // namespace nlm::serve
