// The dynamic value type of the chat-template engine: what a Jinja expression evaluates to
// (undefined, none, bool, int, float, string, list, dict, namespace, callable), with Python's
// rules for truth, equality, ordering, str(), repr() and json.dumps(), because HF renders chat
// templates with Python's Jinja2 and byte-identical output is the goal.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace nlm::data::chat_template {

class Value;
using List = std::vector<Value>;

// A Python dict with string keys, kept in insertion order (json.dumps keeps that order).
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(const std::string& key) const;
  void set(const std::string& key, Value v);
};

// Arguments of a call: positional, then keyword; `line` is the template line of the call.
struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
  int line = 0;
  const Value* get(size_t index, const char* name) const;  // positional index or keyword
};

struct Callable {
  std::string name;
  std::function<Value(const CallArgs&)> fn;
};

struct Undefined {};
struct None {};

class Value {
 public:
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Callable };

  Value() : v_(Undefined{}) {}
  static Value none() { return Value(None{}); }
  Value(bool b) : v_(b) {}
  Value(int i) : v_(static_cast<int64_t>(i)) {}
  Value(int64_t i) : v_(i) {}
  Value(double d) : v_(d) {}
  // Strings are shared, not copied: a name lookup, a loop variable or a dict read of a 16 MB
  // string is a pointer copy (fuzz_chat_template: a loop reading one large string 300,000
  // times copied terabytes).
  Value(std::string s) : weight_(static_cast<int64_t>(s.size() / 1024)) {
    v_ = std::make_shared<const std::string>(std::move(s));
  }
  Value(const char* s) : Value(std::string(s)) {}
  Value(List l) {
    measure(l);
    v_ = std::make_shared<const List>(std::move(l));
  }
  // A Python tuple: a list that prints as (a, b) and never equals a list.
  static Value tuple(List l) {
    Value v(std::move(l));
    v.tuple_ = true;
    return v;
  }
  Value(Dict d) {
    measure(d);
    v_ = std::make_shared<const Dict>(std::move(d));
  }
  static Value make_namespace(Dict d) {
    Value v;
    v.v_ = std::make_shared<Dict>(std::move(d));
    return v;
  }
  static Value callable(std::string name, std::function<Value(const CallArgs&)> fn) {
    Value v;
    v.v_ = std::make_shared<const Callable>(Callable{std::move(name), std::move(fn)});
    return v;
  }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_undefined() const { return kind() == Kind::Undefined; }
  bool is_none() const { return kind() == Kind::None; }
  bool is_bool() const { return kind() == Kind::Bool; }
  bool is_int() const { return kind() == Kind::Int; }
  bool is_float() const { return kind() == Kind::Float; }
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return kind() == Kind::String; }
  bool is_list() const { return kind() == Kind::List; }
  bool is_tuple() const { return tuple_; }
  bool is_dict() const { return kind() == Kind::Dict; }
  bool is_namespace() const { return kind() == Kind::Namespace; }
  bool is_callable() const { return kind() == Kind::Callable; }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const;    // bool and int
  double as_double() const;  // bool, int and float
  const std::string& as_string() const { return *std::get<std::shared_ptr<const std::string>>(v_); }
  const List& as_list() const { return *std::get<std::shared_ptr<const List>>(v_); }
  const Dict& as_dict() const { return *std::get<std::shared_ptr<const Dict>>(v_); }
  Dict& as_namespace() const { return *std::get<std::shared_ptr<Dict>>(v_); }
  const Callable& as_callable() const { return *std::get<std::shared_ptr<const Callable>>(v_); }

  bool truthy() const;                 // Python bool(); undefined is false
  std::string str() const;             // Python str(); undefined is ""
  std::string repr() const;            // Python repr(); std::invalid_argument for a function
  std::string type_name() const;       // for error messages
  // json.dumps(x, ensure_ascii=False, indent=indent, separators=..., sort_keys=...).
  std::string to_json(std::optional<int> indent, const std::string& item_sep, const std::string& key_sep,
                      bool sort_keys) const;

  static Value from_json(const nlohmann::ordered_json& j);

 private:
  explicit Value(None) : v_(None{}) {}
  std::variant<Undefined, None, bool, int64_t, double, std::shared_ptr<const std::string>, std::shared_ptr<const List>,
               std::shared_ptr<const Dict>, std::shared_ptr<Dict>, std::shared_ptr<const Callable>>
      v_;
  bool tuple_ = false;
  // Lists and dicts nested inside this one, plus one (0 for anything else; a namespace counts 0,
  // as it prints without its contents). Printing, tojson and the destructor recurse this deep,
  // so the renderer refuses to store a value nested deeper than kMaxValueDepth.
  int depth_ = 0;
  // The work of visiting the whole value: one per list item or dict entry at every level, plus
  // one per KB of every string in it. Comparing, copying or printing it costs about this much, so
  // the renderer charges it to its step budget (a loop comparing a list that holds a large list
  // does that work on every turn).
  int64_t weight_ = 0;
  void measure(const List& l);
  void measure(const Dict& d);

 public:
  int depth() const { return depth_; }
  int64_t weight() const { return weight_; }
};

// How deeply a template may nest lists and dicts in a value it stores ({% set %}); a namespace
// attribute set to [itself] in a loop otherwise built a chain that overflowed the stack when
// printed.
inline constexpr int kMaxValueDepth = 100;

// Python ==, with 1 == 1.0 == True; undefined equals only undefined.
bool equal(const Value& a, const Value& b);
// Python <, for numbers with numbers and strings with strings (and lists); false and *ok=false
// for other pairs.
bool less(const Value& a, const Value& b, bool* ok);
// Python repr() of a float: shortest digits that read back, "1.0", "1e-05", "1e+20".
std::string python_float_repr(double d);
std::string python_string_repr(const std::string& s);

}  // namespace nlm::data::chat_template
