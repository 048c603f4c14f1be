// Attribute and item access, slicing, iteration, the bound str/dict methods and the global
// functions of chat templates (see builtins.h).
#include <chrono>
#include <ctime>

#include "data/chat_template/builtins.h"
#include "data/chat_template/lexer.h"
#include "data/chat_template/strings.h"

namespace nlm::data::chat_template {
namespace {

std::optional<std::string> opt_string(const CallArgs& a, size_t i, const char* name, const std::string& what) {
  const Value* v = a.get(i, name);
  if (!v || v->is_none()) return std::nullopt;
  if (!v->is_string()) template_error(a.line, what + " expects a string for '" + name + "', got " + v->type_name());
  return v->as_string();
}

std::string need_string(const CallArgs& a, size_t i, const char* name, const std::string& what) {
  auto s = opt_string(a, i, name, what);
  if (!s) template_error(a.line, what + " needs the argument '" + std::string(name) + "'");
  return *s;
}

int64_t opt_int(const CallArgs& a, size_t i, const char* name, int64_t dflt) {
  const Value* v = a.get(i, name);
  if (!v || v->is_none()) return dflt;
  if (!v->is_int() && !v->is_bool()) template_error(a.line, std::string("'") + name + "' must be an integer");
  return v->as_int();
}

Value string_list(const std::vector<std::string>& parts) {
  List l;
  for (auto& p : parts) l.push_back(Value(p));
  return Value(std::move(l));
}

// True when `s` starts (or ends) with the prefix, or any prefix of a tuple/list of them.
bool affix(const std::string& s, const Value& arg, bool start, int line) {
  auto one = [&](const Value& p) {
    if (!p.is_string()) template_error(line, "startswith/endswith expects strings, got " + p.type_name());
    const std::string& x = p.as_string();
    if (x.size() > s.size()) return false;
    return start ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  if (arg.is_list()) {
    for (auto& p : arg.as_list())
      if (one(p)) return true;
    return false;
  }
  return one(arg);
}

Value string_method(const std::string& s, const std::string& name) {
  auto method = [&](auto fn) { return Value::callable("str." + name, fn); };
  std::string what = "str." + name + "()";
  if (name == "strip" || name == "lstrip" || name == "rstrip")
    return method([s, name, what](const CallArgs& a) {
      return Value(py_strip(s, opt_string(a, 0, "chars", what), name != "rstrip", name != "lstrip"));
    });
  if (name == "startswith" || name == "endswith")
    return method([s, name](const CallArgs& a) {
      if (a.pos.size() != 1) template_error(a.line, "str." + name + "() takes one argument here");
      return Value(affix(s, a.pos[0], name == "startswith", a.line));
    });
  if (name == "split")
    return method([s, what](const CallArgs& a) {
      auto sep = opt_string(a, 0, "sep", what);
      if (sep && sep->empty()) template_error(a.line, "str.split(): empty separator");
      return string_list(py_split(s, sep, opt_int(a, 1, "maxsplit", -1)));
    });
  if (name == "rsplit")
    return method([s, what](const CallArgs& a) {
      auto sep = opt_string(a, 0, "sep", what);
      int64_t maxsplit = opt_int(a, 1, "maxsplit", -1);
      if (!sep) return string_list(py_split(s, std::nullopt, maxsplit < 0 ? -1 : maxsplit));
      if (sep->empty()) template_error(a.line, "str.rsplit(): empty separator");
      return string_list(py_rsplit(s, *sep, maxsplit));
    });
  if (name == "replace")
    return method([s, what](const CallArgs& a) {
      return Value(py_replace(s, need_string(a, 0, "old", what), need_string(a, 1, "new", what),
                              opt_int(a, 2, "count", -1)));
    });
  if (name == "upper") return method([s](const CallArgs&) { return Value(py_upper(s)); });
  if (name == "lower") return method([s](const CallArgs&) { return Value(py_lower(s)); });
  if (name == "title") return method([s](const CallArgs&) { return Value(py_title(s)); });
  if (name == "capitalize") return method([s](const CallArgs&) { return Value(py_capitalize(s)); });
  if (name == "join")
    return method([s](const CallArgs& a) {
      if (a.pos.size() != 1 || !a.pos[0].is_list()) template_error(a.line, "str.join() expects a list");
      std::string out;
      bool first = true;
      for (auto& v : a.pos[0].as_list()) {
        if (!v.is_string()) template_error(a.line, "str.join(): items must be strings, got " + v.type_name());
        out += (first ? "" : s) + v.as_string();
        first = false;
      }
      return Value(std::move(out));
    });
  if (name == "count")
    return method([s, what](const CallArgs& a) {
      std::string sub = need_string(a, 0, "sub", what);
      if (sub.empty()) return Value(static_cast<int64_t>(code_points(s).size() + 1));
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value(n);
    });
  if (name == "find")
    return method([s, what](const CallArgs& a) {
      size_t p = s.find(need_string(a, 0, "sub", what));
      if (p == std::string::npos) return Value(static_cast<int64_t>(-1));
      return Value(static_cast<int64_t>(code_points(s.substr(0, p)).size()));
    });
  if (name == "splitlines")
    return method([s](const CallArgs&) {
      std::vector<std::string> parts;
      size_t b = 0;
      for (size_t i = 0; i < s.size(); ++i)
        if (s[i] == '\n' || s[i] == '\r') {
          parts.push_back(s.substr(b, i - b));
          if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
          b = i + 1;
        }
      if (b < s.size()) parts.push_back(s.substr(b));
      return string_list(parts);
    });
  return Value();
}

Value dict_method(const Value& d, const std::string& name) {
  auto method = [&](auto fn) { return Value::callable("dict." + name, fn); };
  if (name == "get")
    return method([d](const CallArgs& a) {
      if (a.pos.empty()) template_error(a.line, "dict.get() needs a key");
      const Value* v = a.pos[0].is_string() ? d.as_dict().find(a.pos[0].as_string()) : nullptr;
      if (v) return *v;
      return a.pos.size() > 1 ? a.pos[1] : Value::none();
    });
  if (name == "items")
    return method([d](const CallArgs&) {
      List l;
      for (auto& [k, v] : d.as_dict().items) l.push_back(Value::tuple(List{Value(k), v}));
      return Value(std::move(l));
    });
  if (name == "keys")
    return method([d](const CallArgs&) {
      List l;
      for (auto& kv : d.as_dict().items) l.push_back(Value(kv.first));
      return Value(std::move(l));
    });
  if (name == "values")
    return method([d](const CallArgs&) {
      List l;
      for (auto& kv : d.as_dict().items) l.push_back(kv.second);
      return Value(std::move(l));
    });
  return Value();
}

// Python's slice.indices() for a sequence of length n.
std::vector<size_t> slice_indices(int64_t n, const Value& start, const Value& stop, const Value& step, int line) {
  auto num = [&](const Value& v) {
    if (!v.is_int() && !v.is_bool()) template_error(line, "slice indices must be integers or none");
    return v.as_int();
  };
  int64_t st = step.is_none() ? 1 : num(step);
  if (st == 0) template_error(line, "slice step cannot be zero");
  auto clamp = [&](const Value& v, int64_t dflt) {
    if (v.is_none()) return dflt;
    int64_t x = num(v);
    if (x < 0) x += n;
    if (st > 0) return std::min(std::max<int64_t>(x, 0), n);
    return std::min(std::max<int64_t>(x, -1), n - 1);
  };
  int64_t b = clamp(start, st > 0 ? 0 : n - 1), e = clamp(stop, st > 0 ? n : -1);
  std::vector<size_t> out;
  // The step may be near int64's limits; stop before i + st would overflow.
  for (int64_t i = b; st > 0 ? i < e : i > e;) {
    out.push_back(static_cast<size_t>(i));
    if (__builtin_add_overflow(i, st, &i)) break;
  }
  return out;
}

}  // namespace

Value get_method(const Value& dict, const std::string& name) { return dict_method(dict, name); }

Value get_attr(const Value& obj, const std::string& name, int line) {
  switch (obj.kind()) {
    case Value::Kind::Undefined: template_error(line, "'" + name + "' of an undefined value (it is undefined)");
    case Value::Kind::String: return string_method(obj.as_string(), name);
    case Value::Kind::Dict: {
      Value m = dict_method(obj, name);
      if (!m.is_undefined()) return m;
      const Value* v = obj.as_dict().find(name);
      return v ? *v : Value();
    }
    case Value::Kind::Namespace: {
      const Value* v = obj.as_namespace().find(name);
      return v ? *v : Value();
    }
    default: return Value();
  }
}

Value get_item(const Value& obj, const Value& key, int line) {
  if (obj.is_undefined()) template_error(line, "subscript of an undefined value");
  if (obj.is_dict() && key.is_string()) {
    const Value* v = obj.as_dict().find(key.as_string());
    if (v) return *v;
  }
  if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.as_int();
    if (obj.is_list()) {
      auto n = static_cast<int64_t>(obj.as_list().size());
      if (i < 0) i += n;
      return i >= 0 && i < n ? obj.as_list()[static_cast<size_t>(i)] : Value();
    }
    auto cps = code_points(obj.as_string());
    auto n = static_cast<int64_t>(cps.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) return Value();
    return Value(from_code_points(cps, static_cast<size_t>(i), static_cast<size_t>(i) + 1));
  }
  if (key.is_string()) return get_attr(obj, key.as_string(), line);
  return Value();
}

Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step, int line) {
  if (obj.is_list()) {
    List l;
    for (size_t i : slice_indices(static_cast<int64_t>(obj.as_list().size()), start, stop, step, line))
      l.push_back(obj.as_list()[i]);
    return Value(std::move(l));
  }
  if (obj.is_string()) {
    auto cps = code_points(obj.as_string());
    std::string s;
    for (size_t i : slice_indices(static_cast<int64_t>(cps.size()), start, stop, step, line))
      s += from_code_points(cps, i, i + 1);
    return Value(std::move(s));
  }
  if (obj.is_undefined()) template_error(line, "slice of an undefined value");
  return Value();
}

List iterate(const Value& v, int line) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::List: return v.as_list();
    case Value::Kind::Dict: {
      List l;
      for (auto& kv : v.as_dict().items) l.push_back(Value(kv.first));
      return l;
    }
    case Value::Kind::String: {
      List l;
      auto cps = code_points(v.as_string());
      for (size_t i = 0; i < cps.size(); ++i) l.push_back(Value(from_code_points(cps, i, i + 1)));
      return l;
    }
    default: template_error(line, "'" + v.type_name() + "' object is not iterable");
  }
}

Dict builtin_globals() {
  Dict g;
  g.set("range", Value::callable("range", [](const CallArgs& a) {
          if (a.pos.empty() || a.pos.size() > 3) template_error(a.line, "range() takes 1 to 3 integers");
          for (auto& p : a.pos)
            if (!p.is_int() && !p.is_bool()) template_error(a.line, "range() takes integers, got " + p.type_name());
          int64_t b = a.pos.size() > 1 ? a.pos[0].as_int() : 0;
          int64_t e = a.pos.size() > 1 ? a.pos[1].as_int() : a.pos[0].as_int();
          int64_t st = a.pos.size() > 2 ? a.pos[2].as_int() : 1;
          if (st == 0) template_error(a.line, "range() step must not be zero");
          List l;
          for (int64_t i = b; st > 0 ? i < e : i > e;) {
            l.emplace_back(i);
            if (l.size() > 100000) template_error(a.line, "range() too large");
            if (__builtin_add_overflow(i, st, &i)) break;  // past int64: past any stop
          }
          return Value(std::move(l));
        }));
  auto kwargs_dict = [](const CallArgs& a, const char* what) {
    Dict d;
    for (auto& p : a.pos) {
      if (!p.is_dict()) template_error(a.line, std::string(what) + "() takes a dict or keyword arguments");
      for (auto& [k, v] : p.as_dict().items) d.set(k, v);
    }
    for (auto& [k, v] : a.kw) d.set(k, v);
    return d;
  };
  g.set("namespace", Value::callable("namespace", [kwargs_dict](const CallArgs& a) {
          return Value::make_namespace(kwargs_dict(a, "namespace"));
        }));
  g.set("dict", Value::callable("dict", [kwargs_dict](const CallArgs& a) { return Value(kwargs_dict(a, "dict")); }));
  g.set("raise_exception", Value::callable("raise_exception", [](const CallArgs& a) -> Value {
          template_error(a.line, "raise_exception: " + (a.pos.empty() ? std::string() : a.pos[0].str()));
        }));
  g.set("strftime_now", Value::callable("strftime_now", [](const CallArgs& a) {
          if (a.pos.size() != 1 || !a.pos[0].is_string()) template_error(a.line, "strftime_now() takes a format string");
          std::time_t t = std::time(nullptr);
          std::tm tm{};
          localtime_r(&t, &tm);
          char buf[256];
          size_t n = std::strftime(buf, sizeof buf, a.pos[0].as_string().c_str(), &tm);
          return Value(std::string(buf, n));
        }));
  return g;
}

}  // namespace nlm::data::chat_template
