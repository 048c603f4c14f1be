// The tree-walking renderer of chat templates (see render.h).
#include "data/chat_template/render.h"

#include <cmath>

#include "data/chat_template/builtins.h"
#include "data/chat_template/int_math.h"
#include "data/chat_template/lexer.h"

namespace nlm::data::chat_template {
namespace {

enum class Flow { Normal, Break, Continue };
using Frames = std::vector<std::shared_ptr<Dict>>;

class Renderer {
 public:
  std::vector<std::pair<size_t, size_t>>* spans_ = nullptr;  // generation blocks, when asked

  explicit Renderer(const Dict& vars) {
    frames_.push_back(std::make_shared<Dict>(vars));
    frames_.push_back(std::make_shared<Dict>());
    // Namespaces are the only mutable values, so the only way to build a reference cycle
    // (`set ns.me = ns`); the renderer keeps each one and empties it at the end.
    Value make = lookup("namespace");
    if (make.is_callable())
      frames_[0]->set("namespace", Value::callable("namespace", [this, make](const CallArgs& a) {
                        Value ns = make.as_callable().fn(a);
                        namespaces_.push_back(ns);
                        return ns;
                      }));
  }
  ~Renderer() {
    for (auto& ns : namespaces_) ns.as_namespace().items.clear();
  }
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  std::string run(const Body& body) {
    try {
      exec(body);
    } catch (const std::logic_error& e) {  // printing a function, JSON of a namespace, ...
      template_error(line_, e.what());
    }
    return std::move(out_);
  }

 private:
  Value lookup(const std::string& name) const {
    for (auto it = frames_.rbegin(); it != frames_.rend(); ++it)
      if (auto* v = (*it)->find(name)) return *v;
    return Value();
  }

  Flow exec(const Body& body) {
    for (auto& n : body) {
      Flow f = exec(*n);
      if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
  }

  // The work budget: every statement run and every loop turn is a step, so nested loops over
  // range(100000) end in an error rather than running for hours.
  void step(int line) { add_steps(1, line); }
  void add_steps(int64_t k, int line) {
    steps_ += k;
    if (steps_ > kMaxSteps) template_error(line, "the template runs more than " + std::to_string(kMaxSteps) + " steps");
  }
  // Work one step does not cover: a call, filter or test that reads or builds a list, dict or
  // string costs a step per item at every level of it (Value::weight) and per 64 bytes of a
  // string, so a loop that builds range(100000) on every turn (fuzz_chat_template: 10^10 items,
  // hours) ends in the same error.
  void charge(const Value& v, int line) {
    add_steps(v.is_string() ? static_cast<int64_t>(v.as_string().size() / 64) : v.weight(), line);
  }
  // Copying or comparing is cheaper than the per-character work of a filter: strings pay a step
  // per KB (lists and dicts still per item). Operators (+, ~, *, ==, in), method lookups on
  // strings and output pay this, so a loop that concatenates or compares a 16 MB string, or a
  // list holding a large list, on every turn (fuzz_chat_template, CI stop 24: a timeout) ends in
  // the budget error too.
  void charge_copy(const Value& v, int line) { add_steps(v.weight(), line); }
  static void fit_size(size_t size, int line) {
    if (size > kMaxText) template_error(line, "string result larger than " + std::to_string(kMaxText >> 20) + " MB");
  }
  static std::string fit(std::string s, int line) {
    fit_size(s.size(), line);
    return s;
  }
  Flow emit(const std::string& text, int line) {
    add_steps(static_cast<int64_t>(text.size() / 1024), line);
    if (out_.size() + text.size() > kMaxText)
      template_error(line, "output larger than " + std::to_string(kMaxText >> 20) + " MB");
    out_ += text;
    return Flow::Normal;
  }

  Flow exec(const Node& n) {
    line_ = n.line;
    step(n.line);
    switch (n.kind) {
      case NodeKind::Text: return emit(n.name, n.line);
      case NodeKind::Output: return emit(eval(*n.args[0]).str(), n.line);
      case NodeKind::If:
        for (auto& [cond, body] : n.branches)
          if (eval(*cond).truthy()) return exec(body);
        return exec(n.else_body);
      case NodeKind::For: return exec_for(n);
      case NodeKind::Set: {
        Value v = eval(*n.args[0]);
        if (v.depth() > kMaxValueDepth)
          template_error(n.line, "a value nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
        if (!n.name.empty()) {
          Value ns = lookup(n.names[0]);
          if (!ns.is_namespace())
            template_error(n.line, "cannot assign attribute '" + n.name + "' on '" + n.names[0] + "' (a " +
                                       ns.type_name() + ", not a namespace)");
          ns.as_namespace().set(n.name, std::move(v));
        } else {
          assign(n.names, v, n.line);
        }
        return Flow::Normal;
      }
      case NodeKind::SetBlock: {
        std::string saved = std::move(out_);
        out_.clear();
        ++captures_;
        exec(n.body);
        --captures_;
        std::string captured = std::move(out_);
        out_ = std::move(saved);
        frames_.back()->set(n.names[0], Value(std::move(captured)));
        return Flow::Normal;
      }
      case NodeKind::Macro: define_macro(n); return Flow::Normal;
      case NodeKind::Break: return Flow::Break;
      case NodeKind::Continue: return Flow::Continue;
      case NodeKind::Generation: {
        // HF's assistant-mask block: its output is the model's part. Its place in the final
        // text is only known at the top level, not inside a macro or a {% set %} capture.
        if (spans_ && captures_)
          template_error(n.line, "a generation block inside a macro or a set block cannot be located in "
                                 "the output");
        size_t begin = out_.size();
        Flow f = exec(n.body);
        if (spans_ && out_.size() > begin) spans_->emplace_back(begin, out_.size());
        return f;
      }
      default: template_error(n.line, "internal: expression used as a statement");
    }
  }

  void assign(const std::vector<std::string>& targets, const Value& v, int line) {
    if (targets.size() == 1) {
      frames_.back()->set(targets[0], v);
      return;
    }
    List items = iterate(v, line);
    if (items.size() != targets.size())
      template_error(line, "cannot unpack " + std::to_string(items.size()) + " values into " +
                               std::to_string(targets.size()) + " names");
    for (size_t i = 0; i < targets.size(); ++i) frames_.back()->set(targets[i], items[i]);
  }

  Flow exec_for(const Node& n) {
    Value seq = eval(*n.args[0]);
    if (seq.is_string()) charge(seq, n.line);  // iterating decodes it into a list of characters
    List all = iterate(seq, n.line);
    List items;
    if (n.args[1]) {
      for (auto& item : all) {
        frames_.push_back(std::make_shared<Dict>());
        assign(n.names, item, n.line);
        bool keep = eval(*n.args[1]).truthy();
        frames_.pop_back();
        if (keep) items.push_back(item);
      }
    } else {
      items = std::move(all);
    }
    auto len = static_cast<int64_t>(items.size());
    // loop.cycle picks by the turn it is called in, as Jinja's does.
    auto turn = std::make_shared<int64_t>(0);
    Value cycle = Value::callable("loop.cycle", [turn](const CallArgs& a) {
      if (a.pos.empty()) template_error(a.line, "loop.cycle() needs at least one value");
      return a.pos[static_cast<size_t>(*turn) % a.pos.size()];
    });
    for (int64_t i = 0; i < len; ++i) {
      *turn = i;
      // Built fresh each turn (a template may keep a loop object), with distinct keys, so
      // without Dict::set's search: every turn of a 300,000-step loop pays for it.
      Dict loop;
      auto& e = loop.items;
      e.reserve(12);
      e.emplace_back("index", Value(i + 1));
      e.emplace_back("index0", Value(i));
      e.emplace_back("revindex", Value(len - i));
      e.emplace_back("revindex0", Value(len - i - 1));
      e.emplace_back("first", Value(i == 0));
      e.emplace_back("last", Value(i == len - 1));
      e.emplace_back("length", Value(len));
      e.emplace_back("depth", Value(1));
      e.emplace_back("depth0", Value(0));
      if (i > 0) e.emplace_back("previtem", items[static_cast<size_t>(i - 1)]);
      if (i + 1 < len) e.emplace_back("nextitem", items[static_cast<size_t>(i + 1)]);
      e.emplace_back("cycle", cycle);
      step(n.line);
      frames_.push_back(std::make_shared<Dict>());
      frames_.back()->set("loop", Value(std::move(loop)));
      assign(n.names, items[static_cast<size_t>(i)], n.line);
      Flow f = exec(n.body);
      frames_.pop_back();
      if (f == Flow::Break) break;
    }
    if (len == 0) return exec(n.else_body);
    return Flow::Normal;
  }

  void define_macro(const Node& n) {
    const Node* node = &n;
    // The macro sees the globals and the template's top-level names (frames 0 and 1 of every
    // frame stack), not its caller's locals. Capturing them here would make a reference cycle.
    frames_.back()->set(n.name, Value::callable(n.name, [this, node](const CallArgs& a) {
      if (macro_depth_ >= kMaxMacroDepth)
        template_error(a.line, "macro calls nested deeper than " + std::to_string(kMaxMacroDepth));
      ++macro_depth_;
      auto locals = std::make_shared<Dict>();
      if (a.pos.size() > node->names.size())
        template_error(a.line, "macro '" + node->name + "' takes " + std::to_string(node->names.size()) +
                                   " arguments, got " + std::to_string(a.pos.size()));
      Frames outer(frames_.begin(), frames_.begin() + 2);
      Frames saved = std::move(frames_);
      frames_ = std::move(outer);
      frames_.push_back(locals);
      for (size_t i = 0; i < node->names.size(); ++i) {
        const Value* v = a.get(i, node->names[i].c_str());
        locals->set(node->names[i], v ? *v : node->args[i] ? eval(*node->args[i]) : Value());
      }
      for (auto& [k, v] : a.kw) {
        bool known = false;
        for (auto& p : node->names) known |= p == k;
        if (!known) template_error(a.line, "macro '" + node->name + "' has no parameter '" + k + "'");
      }
      std::string saved_out = std::move(out_);
      out_.clear();
      ++captures_;
      exec(node->body);
      --captures_;
      std::string result = std::move(out_);
      out_ = std::move(saved_out);
      frames_ = std::move(saved);
      --macro_depth_;
      return Value(std::move(result));
    }));
  }

  CallArgs call_args(const Node& n) {
    CallArgs a;
    a.line = n.line;
    for (size_t i = 1; i < n.args.size(); ++i) {
      Value v = eval(*n.args[i]);
      if (n.names[i].empty()) a.pos.push_back(std::move(v));
      else a.kw.emplace_back(n.names[i], std::move(v));
    }
    return a;
  }

  Value eval(const Node& n) {
    switch (n.kind) {
      case NodeKind::Literal: return n.value;
      case NodeKind::Name: return lookup(n.name);
      case NodeKind::ListLit: {
        List l;
        for (auto& a : n.args) l.push_back(eval(*a));
        return n.negated ? Value::tuple(std::move(l)) : Value(std::move(l));
      }
      case NodeKind::DictLit: {
        Dict d;
        for (size_t i = 0; i + 1 < n.args.size(); i += 2) {
          Value k = eval(*n.args[i]);
          if (!k.is_string()) template_error(n.line, "dict keys must be strings here, got " + k.type_name());
          d.set(k.as_string(), eval(*n.args[i + 1]));
        }
        return Value(std::move(d));
      }
      case NodeKind::Attr: {
        Value obj = eval(*n.args[0]);
        if (obj.is_string()) charge_copy(obj, n.line);  // a string method holds a copy of it
        return get_attr(obj, n.name, n.line);
      }
      case NodeKind::Index: {
        Value obj = eval(*n.args[0]);
        if (obj.is_string()) charge(obj, n.line);  // indexing decodes code points
        return get_item(obj, eval(*n.args[1]), n.line);
      }
      case NodeKind::Slice: {
        auto opt = [&](size_t i) { return n.args[i] ? eval(*n.args[i]) : Value::none(); };
        Value obj = eval(*n.args[0]);
        if (obj.is_string()) charge(obj, n.line);
        Value r = slice(obj, opt(1), opt(2), opt(3), n.line);
        charge_copy(r, n.line);
        return r;
      }
      case NodeKind::Call: {
        Value callee = eval(*n.args[0]);
        if (!callee.is_callable()) template_error(n.line, "'" + callee.type_name() + "' object is not callable");
        Value r = callee.as_callable().fn(call_args(n));
        charge(r, n.line);
        return r;
      }
      case NodeKind::Filter: {
        Value subject = eval(*n.args[0]);
        charge(subject, n.line);
        Value r = apply_filter(n.name, subject, call_args(n));
        charge(r, n.line);
        return r;
      }
      case NodeKind::Test: {
        Value subject = eval(*n.args[0]);
        charge(subject, n.line);
        return Value(apply_test(n.name, subject, call_args(n)) != n.negated);
      }
      case NodeKind::Neg:
      case NodeKind::Pos: {
        Value v = eval(*n.args[0]);
        if (!v.is_number()) template_error(n.line, "bad operand type for unary " + std::string(n.kind == NodeKind::Neg ? "-" : "+") + ": " + v.type_name());
        if (n.kind == NodeKind::Pos) return v.is_bool() ? Value(v.as_int()) : v;
        return v.is_float() ? Value(-v.as_double()) : Value(int_neg(v.as_int(), n.line));
      }
      case NodeKind::Binary: {
        Value a = eval(*n.args[0]);
        Value b = eval(*n.args[1]);
        if (n.name == "*") {  // the result is checked against its cap before it is built
          Value r = binary(n.name, a, b, n.line);
          charge_copy(r, n.line);
          return r;
        }
        charge_copy(a, n.line);
        charge_copy(b, n.line);
        return binary(n.name, a, b, n.line);
      }
      case NodeKind::Compare: {
        Value left = eval(*n.args[0]);
        charge_copy(left, n.line);
        for (size_t i = 0; i < n.names.size(); ++i) {
          Value right = eval(*n.args[i + 1]);
          charge_copy(right, n.line);
          if (!compare(n.names[i], left, right, n.line)) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
      case NodeKind::And: {
        Value a = eval(*n.args[0]);
        return a.truthy() ? eval(*n.args[1]) : a;
      }
      case NodeKind::Or: {
        Value a = eval(*n.args[0]);
        return a.truthy() ? a : eval(*n.args[1]);
      }
      case NodeKind::Not: return Value(!eval(*n.args[0]).truthy());
      case NodeKind::Cond:
        if (eval(*n.args[1]).truthy()) return eval(*n.args[0]);
        return n.args[2] ? eval(*n.args[2]) : Value();
      case NodeKind::Concat: {
        std::string s;
        for (auto& a : n.args) {
          std::string piece = eval(*a).str();
          add_steps(static_cast<int64_t>(piece.size() / 1024), n.line);
          fit_size(s.size() + piece.size(), n.line);
          s += piece;
        }
        return Value(fit(std::move(s), n.line));
      }
      default: template_error(n.line, "internal: statement used as an expression");
    }
  }

  static bool compare(const std::string& op, const Value& a, const Value& b, int line) {
    if (op == "==") return equal(a, b);
    if (op == "!=") return !equal(a, b);
    if (op == "in" || op == "notin") {
      bool found = false;
      if (b.is_string()) {
        if (!a.is_string()) template_error(line, "'in <string>' requires a string on the left, got " + a.type_name());
        found = b.as_string().find(a.as_string()) != std::string::npos;
      } else if (b.is_list()) {
        for (auto& x : b.as_list()) found |= equal(a, x);
      } else if (b.is_dict()) {
        found = a.is_string() && b.as_dict().find(a.as_string());
      } else {
        template_error(line, "argument of type '" + b.type_name() + "' is not a container ('in')");
      }
      return op == "in" ? found : !found;
    }
    bool ok = true;
    bool r = op == "<" ? less(a, b, &ok) : op == ">" ? less(b, a, &ok) : op == "<=" ? !less(b, a, &ok) : !less(a, b, &ok);
    if (!ok)
      template_error(line, "'" + op + "' not supported between '" + a.type_name() + "' and '" + b.type_name() + "'");
    return r;
  }

  static Value binary(const std::string& op, const Value& a, const Value& b, int line) {
    auto bad = [&]() -> Value {
      template_error(line, "unsupported operand types for " + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'");
    };
    if (a.is_number() && b.is_number()) {
      bool fl = a.is_float() || b.is_float();
      if (op == "/") {
        if (b.as_double() == 0) template_error(line, "division by zero");
        return Value(a.as_double() / b.as_double());
      }
      if (fl) {
        double x = a.as_double(), y = b.as_double();
        if (op == "+") return Value(x + y);
        if (op == "-") return Value(x - y);
        if (op == "*") return Value(x * y);
        if (op == "**") return Value(std::pow(x, y));
        if (y == 0) template_error(line, "division by zero");
        if (op == "//") return Value(std::floor(x / y));
        double m = std::fmod(x, y);
        if (m != 0 && ((m < 0) != (y < 0))) m += y;
        return Value(m);
      }
      int64_t x = a.as_int(), y = b.as_int();
      if (op == "+") return Value(int_add(x, y, line));
      if (op == "-") return Value(int_sub(x, y, line));
      if (op == "*") return Value(int_mul(x, y, line));
      if (op == "**") {
        if (y < 0) return Value(std::pow(static_cast<double>(x), static_cast<double>(y)));
        return Value(int_pow(x, y, line));
      }
      if (y == 0) template_error(line, "integer division or modulo by zero");
      if (op == "//") return Value(int_floor_div(x, y, line));
      return Value(int_mod(x, y, line));
    }
    if (op == "+") {
      if (a.is_string() && b.is_string()) return Value(fit(a.as_string() + b.as_string(), line));
      if (a.is_list() && b.is_list()) {
        List l = a.as_list();
        l.insert(l.end(), b.as_list().begin(), b.as_list().end());
        return Value(std::move(l));
      }
      return bad();
    }
    if (op == "*") {
      const Value& seq = a.is_number() ? b : a;
      const Value& count = a.is_number() ? a : b;
      if (!count.is_int() && !count.is_bool()) return bad();
      int64_t k = count.as_int();
      size_t unit = seq.is_string() ? seq.as_string().size() : seq.is_list() ? seq.as_list().size() : 0;
      const uint64_t cap = seq.is_string() ? kMaxText : kMaxListItems;
      if (k > 0 && unit > 0 && static_cast<uint64_t>(k) > cap / unit) template_error(line, "repetition result too large");
      if (unit == 0) k = 0;  // an empty string or list repeated stays empty: no loop (k may be 2^62)
      if (seq.is_string()) {
        std::string s;
        for (int64_t i = 0; i < k; ++i) s += seq.as_string();
        return Value(std::move(s));
      }
      if (seq.is_list()) {
        List l;
        for (int64_t i = 0; i < k; ++i) l.insert(l.end(), seq.as_list().begin(), seq.as_list().end());
        return Value(std::move(l));
      }
      return bad();
    }
    if (op == "%" && a.is_string()) template_error(line, "printf-style string formatting ('%') is not supported");
    return bad();
  }

  static constexpr int kMaxMacroDepth = 100;
  static constexpr int64_t kMaxSteps = 300'000;
  static constexpr uint64_t kMaxText = kMaxTemplateText;       // bytes of one string or of the output
  static constexpr uint64_t kMaxListItems = uint64_t{1} << 20;  // items of a repeated list
  int64_t steps_ = 0;
  Frames frames_;
  std::string out_;
  int macro_depth_ = 0;
  int captures_ = 0;  // macro calls and {% set %} blocks being captured
  int line_ = 1;  // line of the statement being run, for errors raised below expressions
  std::vector<Value> namespaces_;
};

}  // namespace

std::string render(const Body& body, const Dict& variables, std::vector<std::pair<size_t, size_t>>* generation_spans) {
  Renderer r(variables);
  r.spans_ = generation_spans;
  return r.run(body);
}

}  // namespace nlm::data::chat_template
