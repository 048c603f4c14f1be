// The schema compiler and the byte-level JSON recogniser (see json_constraint.h).
#include "serve/json_constraint.h"

#include <algorithm>
#include <set>

#include "serve/api_error.h"

namespace nlm::serve {

namespace {

using json = nlohmann::json;

[[noreturn]] void refuse(const std::string& param, const std::string& where, const std::string& what) {
  throw ApiError(400, "response_format schema" + (where.empty() ? std::string() : " at " + where) + ": " + what, param);
}

// Keywords that only describe a schema and constrain nothing.
const std::set<std::string>& annotations() {
  static const std::set<std::string> a = {"title", "description", "default", "examples", "$schema", "$id", "$comment"};
  return a;
}

uint32_t count_of(const json& v, const std::string& key, const std::string& param, const std::string& where) {
  if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<int64_t>() < 0) ||
      (v.is_number_unsigned() && v.get<uint64_t>() > 1000000))
    refuse(param, where, "'" + key + "' must be an integer from 0 to 1000000");
  return static_cast<uint32_t>(v.get<uint64_t>());
}

std::string dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::strict); }

bool is_ws(uint8_t c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Frame kinds and their states.
enum : uint8_t { kValue, kObject, kArray, kString, kNumber, kLiteral };
enum : uint8_t { kObjOpen, kObjKey, kObjValue, kObjComma };
enum : uint8_t { kArrOpen, kArrValue };
enum : uint8_t { kStrNormal, kStrEscape, kStrHex, kStrUtf8, kStrLowSlash, kStrLowU, kStrLowHex };
enum : uint8_t { kNumBegin, kNumMinus, kNumZero, kNumInt, kNumDot, kNumFrac, kNumE, kNumExpSign, kNumExp };
constexpr uint32_t kMaxIntDigits = 15, kMaxFracDigits = 15, kMaxExpDigits = 3;

bool number_can_end(uint8_t st) { return st == kNumZero || st == kNumInt || st == kNumFrac || st == kNumExp; }

// Narrows the sorted literal range [lo, hi) to those with byte c at pos.
void narrow(const std::vector<std::string>& lits, uint32_t& lo, uint32_t& hi, uint32_t pos, uint8_t c) {
  auto key = [pos](const std::string& s) { return s.size() > pos ? int(uint8_t(s[pos])) : -1; };
  auto b = lits.begin();
  auto l = std::partition_point(b + lo, b + hi, [&](const std::string& s) { return key(s) < int(c); });
  auto h = std::partition_point(l, b + hi, [&](const std::string& s) { return key(s) <= int(c); });
  lo = static_cast<uint32_t>(l - b);
  hi = static_cast<uint32_t>(h - b);
}

}  // namespace

// ---- schema ----------------------------------------------------------------------------------

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
  return s;
}

std::shared_ptr<const JsonSchema> JsonSchema::compile(const json& schema, const std::string& param) {
  std::shared_ptr<JsonSchema> s(new JsonSchema());
  s->root_ = s->build(schema, 0, "", param);
  return s;
}

const SchemaNode* JsonSchema::build(const json& s, int depth, const std::string& where, const std::string& param) {
  const std::string at = where.empty() ? "the root" : where;
  if (depth > kMaxDepth) refuse(param, at, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
  if (nodes_.size() >= kMaxNodes) refuse(param, at, "more than " + std::to_string(kMaxNodes) + " subschemas");
  if (s.is_boolean()) {
    if (!s.get<bool>()) refuse(param, at, "the schema false accepts nothing");
    return any_;
  }
  if (!s.is_object()) refuse(param, at, "a schema must be an object");
  static const std::set<std::string> known = {"type",     "properties", "required",  "additionalProperties",
                                              "items",    "minItems",   "maxItems",  "enum",
                                              "const",    "anyOf",      "minLength", "maxLength"};
  for (auto& [k, v] : s.items())
    if (!known.count(k) && !annotations().count(k))
      refuse(param, at, "the keyword '" + k + "' is not supported (supported: type, properties, required, "
                        "additionalProperties, items, minItems, maxItems, enum, const, anyOf, minLength, maxLength)");
  auto has = [&](const char* k) { return s.contains(k); };

  if (has("anyOf")) {
    for (auto& [k, v] : s.items())
      if (k != "anyOf" && !annotations().count(k)) refuse(param, at, "'" + k + "' beside 'anyOf' is not supported");
    const json& alts = s["anyOf"];
    if (!alts.is_array() || alts.empty()) refuse(param, at, "'anyOf' must be a non-empty list of schemas");
    if (alts.size() > 16) refuse(param, at, "'anyOf' has more than 16 alternatives");
    SchemaNode* n = make(SchemaNode::AnyOf);
    for (size_t i = 0; i < alts.size(); ++i)
      n->alternatives.push_back(build(alts[i], depth + 1, at + ".anyOf[" + std::to_string(i) + "]", param));
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
      if (k != "enum" && k != "const" && k != "type" && !annotations().count(k))
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
    if (has("items") || has("minItems") || has("maxItems")) kinds.insert("array");
    if (has("minLength") || has("maxLength")) kinds.insert("string");
    if (kinds.size() > 1) refuse(param, at, "give 'type': its keywords belong to several types");
    if (kinds.empty()) return any_;
    types.push_back(*kinds.begin());
  }
  if (types.size() > 1) {
    SchemaNode* n = make(SchemaNode::AnyOf);
    for (auto& t : types) {
      json one = s;
      one["type"] = t;
      n->alternatives.push_back(build(one, depth + 1, at, param));
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
  if (type == "number") return make(SchemaNode::Number);
  if (type == "integer") return make(SchemaNode::Integer);
  if (type == "string") {
    SchemaNode* n = make(SchemaNode::String);
    if (has("minLength")) n->min_length = count_of(s["minLength"], "minLength", param, at);
    if (has("maxLength")) n->max_length = count_of(s["maxLength"], "maxLength", param, at);
    if (n->min_length > n->max_length) refuse(param, at, "'minLength' is above 'maxLength'");
    return n;
  }
  if (type == "array") {
    SchemaNode* n = make(SchemaNode::Array);
    n->items = has("items") ? build(s["items"], depth + 1, at + ".items", param) : any_;
    if (has("minItems")) n->min_items = count_of(s["minItems"], "minItems", param, at);
    if (has("maxItems")) n->max_items = count_of(s["maxItems"], "maxItems", param, at);
    if (n->min_items > n->max_items) refuse(param, at, "'minItems' is above 'maxItems'");
    return n;
  }
  // object
  SchemaNode* n = make(SchemaNode::Object);
  if (has("additionalProperties")) {
    const json& a = s["additionalProperties"];
    if (!a.is_boolean())
      refuse(param, at, "'additionalProperties' must be true or false (schemas for extra keys are not supported)");
    if (!a.get<bool>()) n->closed = true;
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
      n->values.push_back(build(p[name], depth + 1, at + ".properties." + name, param));
    }
  }
  for (auto& name : required) {
    const std::string quoted = dump(json(name));
    auto it = std::lower_bound(n->keys.begin(), n->keys.end(), quoted);
    if (it == n->keys.end() || *it != quoted)
      refuse(param, at, "the required property '" + name + "' is not in 'properties'");
    n->required |= uint64_t(1) << (it - n->keys.begin());
  }
  return n;
}

// ---- recogniser ------------------------------------------------------------------------------

JsonConstraint::JsonConstraint(const JsonSchema* schema) : schema_(schema) {
  Stack s;
  Frame f;
  f.kind = kValue;
  f.node = schema->root();
  s.frames.push_back(f);
  threads_.push_back(std::move(s));
  live_ = 1;
}

bool JsonConstraint::accepts(std::string_view bytes) const {
  JsonConstraint scratch(*this);
  return scratch.advance(bytes);
}

bool JsonConstraint::accepts(std::string_view bytes, JsonConstraint& scratch) const {
  // Copies only the live stacks, into storage the scratch already has.
  scratch.schema_ = schema_;
  if (scratch.threads_.size() < live_) scratch.threads_.resize(live_);
  for (size_t i = 0; i < live_; ++i) scratch.threads_[i] = threads_[i];
  scratch.live_ = live_;
  return scratch.advance(bytes);
}

bool JsonConstraint::advance(std::string_view bytes) {
  for (char ch : bytes) {
    forks_.clear();
    size_t w = 0;
    for (size_t i = 0; i < live_; ++i)
      if (step(threads_[i], static_cast<uint8_t>(ch), forks_)) {
        if (w != i) std::swap(threads_[w], threads_[i]);
        ++w;
      }
    live_ = w;
    for (auto& f : forks_) {
      if (live_ >= kMaxThreads) break;
      if (threads_.size() <= live_) threads_.emplace_back();
      threads_[live_++] = std::move(f);
    }
    // Alternatives that reached the same state are one (else anyOf in a list would multiply).
    for (size_t i = 1; i < live_;) {
      if (std::find(threads_.begin(), threads_.begin() + long(i), threads_[i]) != threads_.begin() + long(i)) {
        std::swap(threads_[i], threads_[live_ - 1]);
        --live_;
      } else {
        ++i;
      }
    }
    if (live_ == 0) return false;
  }
  return live_ > 0;
}

bool JsonConstraint::complete() const {
  if (live_ == 0) return false;
  for (size_t i = 0; i < live_; ++i)
    if (!threads_[i].frames.empty()) return false;
  return true;
}

bool JsonConstraint::can_end() const {
  for (size_t i = 0; i < live_; ++i) {
    const Stack& t = threads_[i];
    if (t.frames.empty()) return true;
    if (t.frames.size() != 1) continue;
    const Frame& f = t.frames[0];
    if (f.kind == kNumber && number_can_end(f.st)) return true;
    if (f.kind == kLiteral && f.node->literals[f.lo].size() == f.pos) return true;
  }
  return false;
}

bool JsonConstraint::step(Stack& s, uint8_t c, std::vector<Stack>& forks) const {
  auto count_ws = [&] {
    if (s.ws >= kMaxWhitespace) return false;
    ++s.ws;
    return true;
  };
  // Ends the top frame; its parent's state was set when it was pushed.
  auto pop = [&] {
    Frame child = s.frames.back();
    s.frames.pop_back();
    if (child.is_key && child.kind == kLiteral && !s.frames.empty()) {
      s.frames.back().seen |= uint64_t(1) << child.lo;
      s.frames.back().pos = child.lo;
    }
  };
  auto push_value = [&](const SchemaNode* node) {
    Frame f;
    f.kind = kValue;
    f.node = node;
    s.frames.push_back(f);
  };
  for (;;) {
    if (s.frames.empty()) return false;  // nothing may follow the complete value
    Frame& f = s.frames.back();
    const SchemaNode* node = f.node;
    switch (f.kind) {
      case kValue: {
        if (is_ws(c)) return count_ws();
        if (node->kind == SchemaNode::AnyOf) {
          // Alternatives after the first run as forks; the first continues in place.
          const size_t n = node->alternatives.size();
          for (size_t i = 1; i < n; ++i) {
            Stack t = s;
            t.frames.back().node = node->alternatives[i];
            std::vector<Stack> more;
            if (step(t, c, more) && forks.size() < kMaxThreads) forks.push_back(std::move(t));
            for (auto& m : more)
              if (forks.size() < kMaxThreads) forks.push_back(std::move(m));
          }
          f.node = node->alternatives[0];
          continue;
        }
        s.ws = 0;
        const bool any = node->kind == SchemaNode::Any;
        const bool room = s.frames.size() < size_t(kMaxFreeDepth);
        if ((any && room && c == '{') || (node->kind == SchemaNode::Object && c == '{')) {
          f = Frame{};
          f.kind = kObject;
          f.node = node;
          f.st = kObjOpen;
          return true;
        }
        if ((any && room && c == '[') || (node->kind == SchemaNode::Array && c == '[')) {
          f = Frame{};
          f.kind = kArray;
          f.node = node;
          f.st = kArrOpen;
          return true;
        }
        if ((any || node->kind == SchemaNode::String) && c == '"') {
          f = Frame{};
          f.kind = kString;
          f.node = node;
          return true;
        }
        if ((any || node->kind == SchemaNode::Number || node->kind == SchemaNode::Integer) &&
            (c == '-' || (c >= '0' && c <= '9'))) {
          f = Frame{};
          f.kind = kNumber;
          f.node = node;
          f.st = kNumBegin;
          continue;
        }
        if (any || node->kind == SchemaNode::Literal) {
          const SchemaNode* lit = any ? schema_->scalar_words() : node;
          f = Frame{};
          f.kind = kLiteral;
          f.node = lit;
          f.hi = static_cast<uint32_t>(lit->literals.size());
          continue;
        }
        return false;
      }
      case kObject: {
        if (is_ws(c)) return count_ws();
        s.ws = 0;
        const bool closed = node->kind == SchemaNode::Object && node->closed;
        const uint32_t nkeys = closed ? static_cast<uint32_t>(node->keys.size()) : 0;
        const bool unseen_left = !closed || (nkeys > 0 && (f.seen != (nkeys == 64 ? ~uint64_t(0) : (uint64_t(1) << nkeys) - 1)));
        const bool may_close = node->kind != SchemaNode::Object || (node->required & ~f.seen) == 0;
        auto start_key = [&] {
          if (!unseen_left) return;
          f.st = kObjKey;
          Frame k;
          k.is_key = true;
          if (closed) {
            k.kind = kLiteral;
            k.node = node;
            k.hi = nkeys;
          } else {
            k.kind = kString;
            k.node = schema_->any();
          }
          s.frames.push_back(k);
        };
        if ((f.st == kObjOpen || f.st == kObjValue) && c == '}') {
          if (!may_close) return false;
          pop();
          return true;
        }
        if ((f.st == kObjOpen || f.st == kObjComma) && c == '"') {
          start_key();
          if (s.frames.back().kind == kString && s.frames.back().is_key) return true;
          if (s.frames.back().kind == kLiteral) continue;  // the literal takes the quote
          return false;
        }
        if (f.st == kObjKey && c == ':') {
          f.st = kObjValue;
          push_value(closed ? node->values[f.pos] : schema_->any());
          return true;
        }
        if (f.st == kObjValue && c == ',') {
          if (!unseen_left) return false;
          f.st = kObjComma;
          return true;
        }
        return false;
      }
      case kArray: {
        if (is_ws(c)) return count_ws();
        s.ws = 0;
        const SchemaNode* items = node->kind == SchemaNode::Array ? node->items : schema_->any();
        const uint32_t min_items = node->kind == SchemaNode::Array ? node->min_items : 0;
        const uint32_t max_items = node->kind == SchemaNode::Array ? node->max_items : UINT32_MAX;
        if (c == ']') {
          if (f.n < min_items) return false;
          pop();
          return true;
        }
        if (f.st == kArrOpen) {
          if (max_items == 0) return false;
          f.st = kArrValue;
          f.n = 1;
          push_value(items);
          continue;
        }
        if (c == ',' && f.n < max_items) {
          ++f.n;
          push_value(items);
          return true;
        }
        return false;
      }
      case kString: {
        s.ws = 0;
        const uint32_t max_len = node->kind == SchemaNode::String ? node->max_length : UINT32_MAX;
        const uint32_t min_len = node->kind == SchemaNode::String ? node->min_length : 0;
        switch (f.st) {
          case kStrNormal:
            if (c == '"') {
              if (f.n < min_len) return false;
              pop();
              return true;
            }
            if (c < 0x20 || f.n >= max_len) return false;
            if (c == '\\') {
              f.st = kStrEscape;
            } else if (c >= 0x80) {
              if (c >= 0xC2 && c <= 0xDF) {
                f.aux = 1, f.lo = 0x80, f.hi = 0xBF;
              } else if (c >= 0xE0 && c <= 0xEF) {
                f.aux = 2, f.lo = c == 0xE0 ? 0xA0 : 0x80, f.hi = c == 0xED ? 0x9F : 0xBF;
              } else if (c >= 0xF0 && c <= 0xF4) {
                f.aux = 3, f.lo = c == 0xF0 ? 0x90 : 0x80, f.hi = c == 0xF4 ? 0x8F : 0xBF;
              } else {
                return false;
              }
              f.st = kStrUtf8;
            }
            ++f.n;
            return true;
          case kStrUtf8:
            if (c < f.lo || c > f.hi) return false;
            f.lo = 0x80, f.hi = 0xBF;
            if (--f.aux == 0) f.st = kStrNormal;
            return true;
          case kStrEscape:
            if (c == 'u') {
              f.st = kStrHex, f.aux = 0, f.pos = 0;
              return true;
            }
            if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' && c != 't') return false;
            f.st = kStrNormal;
            return true;
          case kStrHex:
          case kStrLowHex: {
            const int v = hex_value(c);
            if (v < 0) return false;
            f.pos = f.pos * 16 + uint32_t(v);
            ++f.aux;
            if (f.st == kStrHex) {
              if (f.aux == 2 && f.pos >= 0xDC && f.pos <= 0xDF) return false;  // a lone low surrogate
              if (f.aux == 4) f.st = f.pos >= 0xD800 && f.pos <= 0xDBFF ? kStrLowSlash : kStrNormal;
            } else {
              if (f.aux == 1 && f.pos != 0xD) return false;  // a high surrogate needs a low one
              if (f.aux == 2 && (f.pos < 0xDC || f.pos > 0xDF)) return false;
              if (f.aux == 4) f.st = kStrNormal;
            }
            return true;
          }
          case kStrLowSlash:
            if (c != '\\') return false;
            f.st = kStrLowU;
            return true;
          case kStrLowU:
            if (c != 'u') return false;
            f.st = kStrLowHex, f.aux = 0, f.pos = 0;
            return true;
        }
        return false;
      }
      case kNumber: {
        const bool integer = node->kind == SchemaNode::Integer;
        const bool digit = c >= '0' && c <= '9';
        const uint8_t st = f.st;
        bool took = true;
        if (st == kNumBegin && c == '-') {
          f.st = kNumMinus;
        } else if ((st == kNumBegin || st == kNumMinus) && digit) {
          f.st = c == '0' ? kNumZero : kNumInt;
          f.n = 1;
        } else if (st == kNumInt && digit && f.n < kMaxIntDigits) {
          ++f.n;
        } else if ((st == kNumZero || st == kNumInt) && c == '.' && !integer) {
          f.st = kNumDot;
        } else if ((st == kNumZero || st == kNumInt || st == kNumFrac) && (c == 'e' || c == 'E') && !integer) {
          f.st = kNumE;
        } else if (st == kNumDot && digit) {
          f.st = kNumFrac;
          f.n = 1;
        } else if (st == kNumFrac && digit && f.n < kMaxFracDigits) {
          ++f.n;
        } else if (st == kNumE && (c == '+' || c == '-')) {
          f.st = kNumExpSign;
        } else if ((st == kNumE || st == kNumExpSign) && digit) {
          f.st = kNumExp;
          f.n = 1;
        } else if (st == kNumExp && digit && f.n < kMaxExpDigits) {
          ++f.n;
        } else {
          took = false;
        }
        if (took) {
          s.ws = 0;
          return true;
        }
        if (!number_can_end(st)) return false;
        pop();
        continue;  // the byte belongs to the parent
      }
      case kLiteral: {
        const auto& lits = f.is_key ? node->keys : node->literals;
        uint32_t lo = f.lo, hi = f.hi;
        narrow(lits, lo, hi, f.pos, c);
        if (lo < hi && f.is_key) {  // keys already present are not offered again
          const uint64_t seen = s.frames[s.frames.size() - 2].seen;
          bool fresh = false;
          for (uint32_t i = lo; i < hi && !fresh; ++i) fresh = !(seen >> i & 1);
          if (!fresh) hi = lo;
        }
        if (lo < hi) {
          f.lo = lo, f.hi = hi, ++f.pos;
          s.ws = 0;
          if (hi - lo == 1 && lits[lo].size() == f.pos) pop();
          return true;
        }
        if (lits[f.lo].size() != f.pos) return false;
        pop();
        continue;
      }
    }
    return false;
  }
}

}  // namespace nlm::serve
