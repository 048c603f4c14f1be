// Jinja2's built-in filters that chat templates use (see builtins.h); `tojson` is HF's:
// json.dumps(x, ensure_ascii=False, indent=indent, separators=..., sort_keys=...).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <functional>

#include "data/chat_template/builtins.h"
#include "data/chat_template/int_math.h"
#include "data/chat_template/lexer.h"
#include "data/chat_template/strings.h"

namespace nlm::data::chat_template {
namespace {

using FilterFn = std::function<Value(const Value&, const CallArgs&)>;

const Value* arg(const CallArgs& a, size_t i, const char* name) { return a.get(i, name); }

int64_t length_of(const Value& v, int line) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return 0;
    case Value::Kind::String: return static_cast<int64_t>(code_points(v.as_string()).size());
    case Value::Kind::List: return static_cast<int64_t>(v.as_list().size());
    case Value::Kind::Dict: return static_cast<int64_t>(v.as_dict().items.size());
    default: template_error(line, "object of type '" + v.type_name() + "' has no len()");
  }
}

// Rest of the call arguments after the first `skip` positional ones, for map/select.
CallArgs rest(const CallArgs& a, size_t skip) {
  CallArgs r;
  r.line = a.line;
  r.pos.assign(a.pos.begin() + static_cast<std::ptrdiff_t>(std::min(skip, a.pos.size())), a.pos.end());
  r.kw = a.kw;
  return r;
}

// attribute="a.b" or an integer index, as Jinja's make_attrgetter.
Value attr_path(const Value& v, const Value& attribute, int line) {
  if (attribute.is_int()) return get_item(v, attribute, line);
  Value cur = v;
  std::string path = attribute.str();
  size_t b = 0;
  while (true) {
    size_t e = path.find('.', b);
    std::string part = path.substr(b, e == std::string::npos ? std::string::npos : e - b);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    int64_t index = 0;
    if (digits && std::from_chars(part.data(), part.data() + part.size(), index).ec != std::errc()) digits = false;
    cur = digits ? get_item(cur, Value(index), line) : get_item(cur, Value(part), line);
    if (e == std::string::npos) return cur;
    b = e + 1;
  }
}

List select_impl(const Value& seq, const CallArgs& a, bool by_attr, bool keep) {
  List out;
  const Value* attribute = by_attr ? arg(a, 0, "attribute") : nullptr;
  if (by_attr && !attribute) template_error(a.line, "selectattr/rejectattr need an attribute");
  size_t test_at = by_attr ? 1 : 0;
  const Value* test = a.pos.size() > test_at ? &a.pos[test_at] : nullptr;
  CallArgs targs = rest(a, test_at + 1);
  targs.kw.clear();
  for (auto& item : iterate(seq, a.line)) {
    Value subject = by_attr ? attr_path(item, *attribute, a.line) : item;
    bool t = test ? apply_test(test->str(), subject, targs) : subject.truthy();
    if (t == keep) out.push_back(item);
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

const std::map<std::string, FilterFn>& filters() {
  static const std::map<std::string, FilterFn> table = [] {
    std::map<std::string, FilterFn> f;
    f["trim"] = [](const Value& v, const CallArgs& a) {
      const Value* chars = arg(a, 0, "chars");
      std::optional<std::string> c;
      if (chars && !chars->is_none()) c = chars->str();
      return Value(py_strip(v.str(), c, true, true));
    };
    f["tojson"] = [](const Value& v, const CallArgs& a) {
      const Value* ascii = arg(a, 0, "ensure_ascii");
      if (ascii && ascii->truthy()) template_error(a.line, "tojson(ensure_ascii=True) is not supported");
      std::optional<int> indent;
      if (const Value* i = arg(a, 1, "indent"); i && !i->is_none()) {
        if (!i->is_int()) template_error(a.line, "tojson(indent=...) must be an integer");
        if (i->as_int() > 1000) template_error(a.line, "tojson(indent=...) over 1000");
        indent = static_cast<int>(std::max<int64_t>(i->as_int(), 0));  // Python: 0 or less, newlines only
      }
      std::string item_sep = indent ? "," : ", ", key_sep = ": ";
      if (const Value* s = arg(a, 2, "separators"); s && !s->is_none()) {
        if (!s->is_list() || s->as_list().size() != 2) template_error(a.line, "tojson(separators=...) needs two strings");
        item_sep = s->as_list()[0].str();
        key_sep = s->as_list()[1].str();
      }
      const Value* sort = arg(a, 3, "sort_keys");
      try {
        return Value(v.to_json(indent, item_sep, key_sep, sort && sort->truthy()));
      } catch (const std::invalid_argument& e) {
        template_error(a.line, std::string("tojson: ") + e.what());
      }
    };
    f["length"] = [](const Value& v, const CallArgs& a) { return Value(length_of(v, a.line)); };
    f["count"] = f["length"];
    f["upper"] = [](const Value& v, const CallArgs&) { return Value(py_upper(v.str())); };
    f["lower"] = [](const Value& v, const CallArgs&) { return Value(py_lower(v.str())); };
    f["capitalize"] = [](const Value& v, const CallArgs&) { return Value(py_capitalize(v.str())); };
    f["title"] = [](const Value& v, const CallArgs&) { return Value(jinja_title(v.str())); };
    f["default"] = [](const Value& v, const CallArgs& a) {
      const Value* d = arg(a, 0, "default_value");
      const Value* boolean = arg(a, 1, "boolean");
      bool use = v.is_undefined() || (boolean && boolean->truthy() && !v.truthy());
      return use ? (d ? *d : Value("")) : v;
    };
    f["d"] = f["default"];
    f["join"] = [](const Value& v, const CallArgs& a) {
      const Value* sep = arg(a, 0, "d");
      const Value* attribute = arg(a, 1, "attribute");
      std::string out;
      bool first = true;
      for (auto& item : iterate(v, a.line)) {
        out += (first ? "" : (sep ? sep->str() : "")) + (attribute ? attr_path(item, *attribute, a.line) : item).str();
        first = false;
      }
      return Value(std::move(out));
    };
    f["items"] = [](const Value& v, const CallArgs& a) {
      if (v.is_undefined()) return Value(List{});
      if (!v.is_dict()) template_error(a.line, "items filter expects a mapping, got " + v.type_name());
      List l;
      for (auto& [k, x] : v.as_dict().items) l.push_back(Value::tuple(List{Value(k), x}));
      return Value(std::move(l));
    };
    f["first"] = [](const Value& v, const CallArgs& a) {
      List l = iterate(v, a.line);
      return l.empty() ? Value() : l.front();
    };
    f["last"] = [](const Value& v, const CallArgs& a) {
      List l = iterate(v, a.line);
      return l.empty() ? Value() : l.back();
    };
    f["string"] = [](const Value& v, const CallArgs&) { return Value(v.str()); };
    f["safe"] = [](const Value& v, const CallArgs&) { return v; };
    f["escape"] = [](const Value& v, const CallArgs&) { return Value(html_escape(v.str())); };
    f["e"] = f["escape"];
    f["int"] = [](const Value& v, const CallArgs& a) {
      const Value* d = arg(a, 0, "default");
      Value dflt = d ? *d : Value(static_cast<int64_t>(0));
      if (v.is_int() || v.is_bool()) return Value(v.as_int());
      if (v.is_float()) return std::isfinite(v.as_double()) ? Value(int_of_double(v.as_double(), a.line)) : dflt;
      if (v.is_string()) {
        std::string s = py_strip(v.str(), std::nullopt, true, true);
        char* end = nullptr;
        long long i = std::strtoll(s.c_str(), &end, 10);
        if (!s.empty() && *end == 0) return Value(static_cast<int64_t>(i));
        double d2 = std::strtod(s.c_str(), &end);
        if (!s.empty() && *end == 0 && std::isfinite(d2)) return Value(int_of_double(d2, a.line));
      }
      return dflt;
    };
    f["float"] = [](const Value& v, const CallArgs& a) {
      const Value* d = arg(a, 0, "default");
      if (v.is_number()) return Value(v.as_double());
      if (v.is_string()) {
        std::string s = py_strip(v.str(), std::nullopt, true, true);
        char* end = nullptr;
        double x = std::strtod(s.c_str(), &end);
        if (!s.empty() && *end == 0) return Value(x);
      }
      return d ? *d : Value(0.0);
    };
    f["list"] = [](const Value& v, const CallArgs& a) { return Value(iterate(v, a.line)); };
    f["replace"] = [](const Value& v, const CallArgs& a) {
      const Value* from = arg(a, 0, "old");
      const Value* to = arg(a, 1, "new");
      if (!from || !to) template_error(a.line, "replace needs the old and new strings");
      const Value* count = arg(a, 2, "count");
      if (count && !count->is_none() && !count->is_int() && !count->is_bool())
        template_error(a.line, "replace(count=...) must be an integer, got " + count->type_name());
      std::string s = v.str(), old = from->str(), by = to->str();
      // Each replacement may grow the text by |by| - |old|, and an empty `old` matches between
      // every two characters: refuse up front what would pass the string cap.
      uint64_t matches = old.empty() ? s.size() + 1 : s.size() / old.size();
      if (by.size() > old.size() && matches * (by.size() - old.size()) > kMaxTemplateText - s.size())
        template_error(a.line, "replace() result larger than " + std::to_string(kMaxTemplateText >> 20) + " MB");
      return Value(py_replace(s, old, by, count && !count->is_none() ? count->as_int() : -1));
    };
    f["abs"] = [](const Value& v, const CallArgs& a) {
      if (v.is_float()) return Value(std::fabs(v.as_double()));
      if (v.is_int() || v.is_bool()) return Value(v.as_int() < 0 ? int_neg(v.as_int(), a.line) : v.as_int());
      template_error(a.line, "abs expects a number, got " + v.type_name());
    };
    f["reverse"] = [](const Value& v, const CallArgs& a) {
      if (v.is_string()) return slice(v, Value::none(), Value::none(), Value(static_cast<int64_t>(-1)), a.line);
      List l = iterate(v, a.line);
      std::reverse(l.begin(), l.end());
      return Value(std::move(l));
    };
    f["map"] = [](const Value& v, const CallArgs& a) {
      List out;
      const Value* attribute = nullptr;
      for (auto& [k, x] : a.kw)
        if (k == "attribute") attribute = &x;
      const Value* dflt = nullptr;
      for (auto& [k, x] : a.kw)
        if (k == "default") dflt = &x;
      if (!attribute && a.pos.empty()) template_error(a.line, "map needs a filter name or attribute=");
      for (auto& item : iterate(v, a.line)) {
        if (attribute) {
          Value x = attr_path(item, *attribute, a.line);
          out.push_back(x.is_undefined() && dflt ? *dflt : x);
        } else {
          std::string name = a.pos[0].str();
          if (!has_filter(name)) template_error(a.line, "unknown filter '" + name + "'");
          out.push_back(apply_filter(name, item, rest(a, 1)));
        }
      }
      return Value(std::move(out));
    };
    f["select"] = [](const Value& v, const CallArgs& a) { return Value(select_impl(v, a, false, true)); };
    f["reject"] = [](const Value& v, const CallArgs& a) { return Value(select_impl(v, a, false, false)); };
    f["selectattr"] = [](const Value& v, const CallArgs& a) { return Value(select_impl(v, a, true, true)); };
    f["rejectattr"] = [](const Value& v, const CallArgs& a) { return Value(select_impl(v, a, true, false)); };
    f["attr"] = [](const Value& v, const CallArgs& a) {
      const Value* name = arg(a, 0, "name");
      if (!name) template_error(a.line, "attr needs a name");
      if (v.is_dict()) return get_method(v, name->str());  // getattr only: never a dict key
      return get_attr(v, name->str(), a.line);
    };
    f["indent"] = [](const Value& v, const CallArgs& a) {
      const Value* w = arg(a, 0, "width");
      const Value* first = arg(a, 1, "first");
      const Value* blank = arg(a, 2, "blank");
      if (w && !w->is_string() && !w->is_int() && !w->is_bool())
        template_error(a.line, "indent(width=...) must be an integer or a string, got " + w->type_name());
      if (w && !w->is_string() && w->as_int() > 1000) template_error(a.line, "indent(width=...) over 1000");
      // A negative width pads nothing, as " " * -1 is "" in Python.
      std::string pad = !w ? std::string(4, ' ')
                           : w->is_string() ? w->as_string()
                                            : std::string(static_cast<size_t>(std::max<int64_t>(w->as_int(), 0)), ' ');
      std::string s = v.str(), out;
      if ((static_cast<uint64_t>(std::count(s.begin(), s.end(), '\n')) + 1) * pad.size() > kMaxTemplateText - s.size())
        template_error(a.line, "indent() result larger than " + std::to_string(kMaxTemplateText >> 20) + " MB");
      std::vector<std::string> lines;
      size_t b = 0;
      for (size_t i = 0; i <= s.size(); ++i)
        if (i == s.size() || s[i] == '\n') {
          lines.push_back(s.substr(b, i - b));
          b = i + 1;
        }
      for (size_t i = 0; i < lines.size(); ++i) {
        bool indent_it = (i > 0 || (first && first->truthy())) && (!lines[i].empty() || (blank && blank->truthy()));
        out += (i ? "\n" : "") + (indent_it ? pad : "") + lines[i];
      }
      return Value(std::move(out));
    };
    f["sum"] = [](const Value& v, const CallArgs& a) {
      const Value* attribute = arg(a, 0, "attribute");
      const Value* start = arg(a, 1, "start");
      Value total = start ? *start : Value(static_cast<int64_t>(0));
      for (auto& item : iterate(v, a.line)) {
        Value x = attribute && !attribute->is_none() ? attr_path(item, *attribute, a.line) : item;
        if (!x.is_number() || !total.is_number()) template_error(a.line, "sum expects numbers");
        total = total.is_float() || x.is_float() ? Value(total.as_double() + x.as_double())
                                                 : Value(int_add(total.as_int(), x.as_int(), a.line));
      }
      return total;
    };
    auto minmax = [](bool want_max) {
      return [want_max](const Value& v, const CallArgs& a) {
        List l = iterate(v, a.line);
        if (l.empty()) return Value();
        Value best = l[0];
        for (auto& x : l) {
          bool ok = true;
          bool better = want_max ? less(best, x, &ok) : less(x, best, &ok);
          if (!ok) template_error(a.line, "min/max: values cannot be compared");
          if (better) best = x;
        }
        return best;
      };
    };
    f["max"] = minmax(true);
    f["min"] = minmax(false);
    f["unique"] = [](const Value& v, const CallArgs& a) {
      List out;
      for (auto& x : iterate(v, a.line)) {
        bool seen = false;
        for (auto& y : out) seen |= equal(x.is_string() ? Value(py_lower(x.as_string())) : x, y.is_string() ? Value(py_lower(y.as_string())) : y);
        if (!seen) out.push_back(x);
      }
      return Value(std::move(out));
    };
    f["sort"] = [](const Value& v, const CallArgs& a) {
      const Value* rev = arg(a, 0, "reverse");
      const Value* cs = arg(a, 1, "case_sensitive");
      const Value* attribute = arg(a, 2, "attribute");
      List l = iterate(v, a.line);
      auto key = [&](const Value& x) {
        Value k = attribute && !attribute->is_none() ? attr_path(x, *attribute, a.line) : x;
        return k.is_string() && !(cs && cs->truthy()) ? Value(py_lower(k.as_string())) : k;
      };
      std::stable_sort(l.begin(), l.end(), [&](const Value& x, const Value& y) {
        bool ok = true;
        bool r = less(key(x), key(y), &ok);
        if (!ok) template_error(a.line, "sort: values cannot be compared");
        return r;
      });
      if (rev && rev->truthy()) std::reverse(l.begin(), l.end());
      return Value(std::move(l));
    };
    return f;
  }();
  return table;
}

}  // namespace

bool has_filter(const std::string& name) { return filters().count(name) > 0; }

Value apply_filter(const std::string& name, const Value& subject, const CallArgs& args) {
  auto it = filters().find(name);
  if (it == filters().end()) template_error(args.line, "unknown filter '" + name + "'");
  return it->second(subject, args);
}

}  // namespace nlm::data::chat_template
