// A small JSON Schema validator for the tests of structured output: it checks a parsed value
// against a schema in the subset that serve/json_constraint enforces while sampling (type,
// properties, required, additionalProperties, items, prefixItems, min/maxItems, uniqueItems, min/maxLength, enum, const,
// anyOf, oneOf (exactly one), allOf, local $ref, minimum/maximum and their exclusive forms,
// nullable, format date/time/date-time/uuid, pattern through std::wregex's ECMAScript grammar
// over code points). It is written apart from the recogniser (it works
// on the whole value, not byte by byte), so the two check each other.
#pragma once
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

namespace nlm::testing {

class SchemaValidator {
 public:
  explicit SchemaValidator(const nlohmann::json& root) : root_(root) {}
  // Empty when `v` is valid; else where and why not.
  std::string check(const nlohmann::json& v) const { return check(v, root_, "$", 0); }

 private:
  using json = nlohmann::json;
  const json& root_;

  static size_t code_points(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  }
  static std::wstring wide(const std::string& s) {
    std::wstring w;
    for (size_t i = 0; i < s.size();) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      const int n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      uint32_t cp = n == 1 ? c : c & (0x7F >> n);
      for (int k = 1; k < n && i + size_t(k) < s.size(); ++k) cp = cp << 6 | (static_cast<unsigned char>(s[i + size_t(k)]) & 0x3F);
      w += static_cast<wchar_t>(cp);
      i += size_t(n);
    }
    return w;
  }
  static bool digits(const std::string& s, size_t at, size_t n) {
    if (at + n > s.size()) return false;
    for (size_t i = at; i < at + n; ++i)
      if (s[i] < '0' || s[i] > '9') return false;
    return true;
  }
  static int num(const std::string& s, size_t at, size_t n) { return std::stoi(s.substr(at, n)); }
  static bool is_date(const std::string& s) {
    if (s.size() != 10 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' || !digits(s, 8, 2))
      return false;
    const int y = num(s, 0, 4), m = num(s, 5, 2), d = num(s, 8, 2);
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || m < 1 || m > 12 || d < 1) return false;
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap ? 1 : 0);
  }
  // HH:MM:SS[.frac](Z|+HH:MM|-HH:MM), as RFC 3339's full-time.
  static bool is_time(const std::string& s) {
    if (s.size() < 9 || !digits(s, 0, 2) || s[2] != ':' || !digits(s, 3, 2) || s[5] != ':' || !digits(s, 6, 2)) return false;
    if (num(s, 0, 2) > 23 || num(s, 3, 2) > 59 || num(s, 6, 2) > 59) return false;
    size_t i = 8;
    if (s[i] == '.') {
      size_t j = i + 1;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
      if (j == i + 1) return false;
      i = j;
    }
    if (i < s.size() && s[i] == 'Z') return i + 1 == s.size();
    if (i + 6 != s.size() || (s[i] != '+' && s[i] != '-') || !digits(s, i + 1, 2) || s[i + 3] != ':' || !digits(s, i + 4, 2))
      return false;
    return num(s, i + 1, 2) <= 23 && num(s, i + 4, 2) <= 59;
  }
  static bool is_uuid(const std::string& s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < 36; ++i) {
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        if (s[i] != '-') return false;
      } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
        return false;
      }
    }
    return true;
  }
  static bool has_type(const json& v, const std::string& t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "number") return v.is_number();
    if (t == "integer") return v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    return false;
  }

  std::string check(const json& v, const json& s, const std::string& at, int depth) const {
    if (depth > 200) return at + ": too deep";
    if (s.is_boolean()) return s.get<bool>() ? "" : at + ": false schema";
    if (s.contains("nullable") && s["nullable"] == true && v.is_null()) return "";
    if (s.contains("$ref")) {
      std::string ref = s["$ref"].get<std::string>();
      const json& target = ref == "#" ? root_ : root_.at(json::json_pointer(ref.substr(1)));
      if (auto e = check(v, target, at, depth + 1); !e.empty()) return e;
    }
    if (s.contains("type")) {
      bool ok = false;
      if (s["type"].is_string()) ok = has_type(v, s["type"]);
      for (auto& t : s["type"].is_array() ? s["type"] : json::array()) ok = ok || has_type(v, t);
      if (!ok) return at + ": not of type " + s["type"].dump();
    }
    if (s.contains("const") && v != s["const"]) return at + ": not the const";
    if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), v) == s["enum"].end()) return at + ": not in enum";
    for (const char* k : {"anyOf", "oneOf"}) {
      if (!s.contains(k)) continue;
      int n = 0;
      for (auto& alt : s[k]) n += check(v, alt, at, depth + 1).empty();
      if (n == 0 || (std::string(k) == "oneOf" && n != 1)) return at + ": " + k + " matched " + std::to_string(n);
    }
    if (s.contains("allOf"))
      for (auto& sub : s["allOf"])
        if (auto e = check(v, sub, at, depth + 1); !e.empty()) return e;
    if (v.is_object()) {
      const json props = s.value("properties", json::object());
      for (auto& r : s.value("required", json::array()))
        if (!v.contains(r.get<std::string>())) return at + ": misses " + r.dump();
      for (auto& [k, x] : v.items()) {
        if (props.contains(k)) {
          if (auto e = check(x, props[k], at + "." + k, depth + 1); !e.empty()) return e;
        } else if (s.contains("additionalProperties") && s["additionalProperties"] == false) {
          return at + ": extra property " + k;
        } else if (s.contains("additionalProperties") && s["additionalProperties"].is_object()) {
          if (auto e = check(x, s["additionalProperties"], at + "." + k, depth + 1); !e.empty()) return e;
        }
      }
    }
    if (v.is_array()) {
      if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return at + ": too few items";
      if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return at + ": too many items";
      if (s.value("uniqueItems", false))  // JSON equality: 1 and 1.0 are one value
        for (size_t i = 0; i < v.size(); ++i)
          for (size_t j = i + 1; j < v.size(); ++j)
            if (v[i] == v[j] || (v[i].is_number() && v[j].is_number() && v[i].get<double>() == v[j].get<double>()))
              return at + ": items " + std::to_string(i) + " and " + std::to_string(j) + " are equal";
      // prefixItems: item i follows prefixItems[i]; items applies to the items past the prefix.
      const size_t prefix = s.contains("prefixItems") ? s["prefixItems"].size() : 0;
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string where = at + "[" + std::to_string(i) + "]";
        if (i < prefix) {
          if (auto e = check(v[i], s["prefixItems"][i], where, depth + 1); !e.empty()) return e;
        } else if (s.contains("items")) {
          if (s["items"] == false) return where + ": no items past the prefix";
          if (auto e = check(v[i], s["items"], where, depth + 1); !e.empty()) return e;
        }
      }
    }
    if (v.is_string()) {
      const std::string& t = v.get_ref<const std::string&>();
      if (s.contains("minLength") && code_points(t) < s["minLength"].get<size_t>()) return at + ": too short";
      if (s.contains("maxLength") && code_points(t) > s["maxLength"].get<size_t>()) return at + ": too long";
      if (s.contains("pattern") &&
          !std::regex_search(wide(t), std::wregex(wide(s["pattern"].get<std::string>()), std::regex::ECMAScript)))
        return at + ": does not match " + s["pattern"].dump() + ": " + t;
      if (s.contains("format")) {
        const std::string f = s["format"];
        const size_t tpos = t.find('T');
        const bool ok = f == "date"        ? is_date(t)
                        : f == "time"      ? is_time(t)
                        : f == "date-time" ? tpos == 10 && is_date(t.substr(0, 10)) && is_time(t.substr(11))
                        : f == "uuid"      ? is_uuid(t)
                                           : true;
        if (!ok) return at + ": not a " + f + ": " + t;
      }
    }
    if (v.is_number()) {
      const double x = v.get<double>();
      if (s.contains("minimum") && !(x >= s["minimum"].get<double>())) return at + ": below minimum";
      if (s.contains("maximum") && !(x <= s["maximum"].get<double>())) return at + ": above maximum";
      if (s.contains("exclusiveMinimum") && !(x > s["exclusiveMinimum"].get<double>())) return at + ": not above exclusiveMinimum";
      if (s.contains("exclusiveMaximum") && !(x < s["exclusiveMaximum"].get<double>())) return at + ": not below exclusiveMaximum";
      if (s.contains("multipleOf") && std::fmod(x, s["multipleOf"].get<double>()) != 0) return at + ": not a multiple of multipleOf";
    }
    return "";
  }
};

}  // namespace nlm::testing
