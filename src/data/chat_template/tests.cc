// Jinja2's built-in tests (`x is defined`, `x is string`, `n is divisibleby 3`, ...) with
// Python's semantics (see builtins.h).
#include <cmath>
#include <functional>
#include <map>

#include "data/chat_template/builtins.h"
#include "data/chat_template/lexer.h"
#include "data/chat_template/strings.h"

namespace nlm::data::chat_template {
namespace {

using TestFn = std::function<bool(const Value&, const CallArgs&)>;

const std::map<std::string, TestFn>& tests() {
  static const std::map<std::string, TestFn> table = [] {
    std::map<std::string, TestFn> t;
    auto other = [](const CallArgs& a) -> const Value& {
      if (a.pos.empty()) template_error(a.line, "this test needs a value to compare with");
      return a.pos[0];
    };
    auto ordered = [other](const char* op) {
      std::string o = op;
      return [o, other](const Value& v, const CallArgs& a) {
        const Value& w = other(a);
        bool ok = true;
        bool r = o == "<" ? less(v, w, &ok) : o == ">" ? less(w, v, &ok) : o == "<=" ? !less(w, v, &ok) : !less(v, w, &ok);
        if (!ok) template_error(a.line, "'" + o + "' not supported between '" + v.type_name() + "' and '" + w.type_name() + "'");
        return r;
      };
    };
    t["defined"] = [](const Value& v, const CallArgs&) { return !v.is_undefined(); };
    t["undefined"] = [](const Value& v, const CallArgs&) { return v.is_undefined(); };
    t["none"] = [](const Value& v, const CallArgs&) { return v.is_none(); };
    t["true"] = [](const Value& v, const CallArgs&) { return v.is_bool() && v.as_bool(); };
    t["false"] = [](const Value& v, const CallArgs&) { return v.is_bool() && !v.as_bool(); };
    t["boolean"] = [](const Value& v, const CallArgs&) { return v.is_bool(); };
    t["string"] = [](const Value& v, const CallArgs&) { return v.is_string(); };
    t["number"] = [](const Value& v, const CallArgs&) { return v.is_number(); };
    t["integer"] = [](const Value& v, const CallArgs&) { return v.is_int(); };
    t["float"] = [](const Value& v, const CallArgs&) { return v.is_float(); };
    t["mapping"] = [](const Value& v, const CallArgs&) { return v.is_dict(); };
    t["iterable"] = [](const Value& v, const CallArgs&) { return v.is_undefined() || v.is_list() || v.is_dict() || v.is_string(); };
    t["sequence"] = [](const Value& v, const CallArgs&) { return v.is_list() || v.is_dict() || v.is_string(); };
    t["callable"] = [](const Value& v, const CallArgs&) { return v.is_callable(); };
    t["lower"] = [](const Value& v, const CallArgs&) { return v.str() == py_lower(v.str()); };
    t["upper"] = [](const Value& v, const CallArgs&) { return v.str() == py_upper(v.str()); };
    // Python's value % n (floats too), compared with r.
    auto mod_is = [](const Value& v, const Value& n, double r, const CallArgs& a) {
      if (!v.is_number() || !n.is_number()) template_error(a.line, "odd/even/divisibleby expect numbers, got " + v.type_name());
      double d = n.as_double();
      if (d == 0) template_error(a.line, "divisibleby 0");
      double m = std::fmod(v.as_double(), d);
      if (m != 0 && ((m < 0) != (d < 0))) m += d;
      return m == r;
    };
    t["odd"] = [mod_is](const Value& v, const CallArgs& a) { return mod_is(v, Value(2), 1, a); };
    t["even"] = [mod_is](const Value& v, const CallArgs& a) { return mod_is(v, Value(2), 0, a); };
    t["divisibleby"] = [mod_is, other](const Value& v, const CallArgs& a) { return mod_is(v, other(a), 0, a); };
    t["eq"] = [other](const Value& v, const CallArgs& a) { return equal(v, other(a)); };
    t["ne"] = [other](const Value& v, const CallArgs& a) { return !equal(v, other(a)); };
    t["equalto"] = t["eq"];
    t["=="] = t["eq"];
    t["!="] = t["ne"];
    t["sameas"] = [other](const Value& v, const CallArgs& a) {
      const Value& w = other(a);
      if (v.is_none() || v.is_bool() || v.is_undefined()) return v.kind() == w.kind() && equal(v, w);
      return false;
    };
    t["lt"] = ordered("<");
    t["le"] = ordered("<=");
    t["gt"] = ordered(">");
    t["ge"] = ordered(">=");
    t["lessthan"] = t["lt"];
    t["greaterthan"] = t["gt"];
    t["in"] = [other](const Value& v, const CallArgs& a) {
      const Value& c = other(a);
      if (c.is_string()) return v.is_string() && c.as_string().find(v.as_string()) != std::string::npos;
      if (c.is_dict()) return v.is_string() && c.as_dict().find(v.as_string()) != nullptr;
      for (auto& x : iterate(c, a.line))
        if (equal(v, x)) return true;
      return false;
    };
    return t;
  }();
  return table;
}

}  // namespace

bool has_test(const std::string& name) { return tests().count(name) > 0; }

bool apply_test(const std::string& name, const Value& subject, const CallArgs& args) {
  auto it = tests().find(name);
  if (it == tests().end()) template_error(args.line, "unknown test '" + name + "'");
  return it->second(subject, args);
}

}  // namespace nlm::data::chat_template
