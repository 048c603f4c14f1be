// Recursive-descent parser for the supported Jinja subset (see parser.h).
#include "data/chat_template/parser.h"

#include <algorithm>
#include <cstdlib>

namespace nlm::data::chat_template {
namespace {

NodePtr make(NodeKind kind, int line, std::string name = {}) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  n->line = line;
  n->name = std::move(name);
  return n;
}

class Parser {
 public:
  explicit Parser(const std::vector<Token>& t) : t_(t) {}

  Body parse_all() {
    std::string end;
    Body b = body({}, &end);
    return b;
  }

 private:
  const Token& cur() const { return t_[i_]; }
  const Token& peek(size_t k = 1) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  bool is_op(const char* op) const { return cur().type == Tok::Op && cur().text == op; }
  bool is_name(const char* n) const { return cur().type == Tok::Name && cur().text == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    ++i_;
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    ++i_;
    return true;
  }
  std::string describe(const Token& t) const {
    switch (t.type) {
      case Tok::VarEnd: return "'}}'";
      case Tok::BlockEnd: return "'%}'";
      case Tok::End: return "the end of the template";
      case Tok::Text: return "text";
      default: return "'" + t.text + "'";
    }
  }
  [[noreturn]] void fail(const std::string& what) { template_error(cur().line, what); }
  void expect_op(const char* op) {
    if (!skip_op(op)) fail(std::string("expected '") + op + "', got " + describe(cur()));
  }
  std::string expect_name() {
    if (cur().type != Tok::Name) fail("expected a name, got " + describe(cur()));
    return t_[i_++].text;
  }
  void expect_block_end() {
    if (cur().type != Tok::BlockEnd) fail("expected '%}', got " + describe(cur()));
    ++i_;
  }

  // Statements up to a `{% name %}` in `ends`; leaves i_ after that name and sets *end.
  Body body(const std::vector<std::string>& ends, std::string* end, int open_line = 0, const char* open = "") {
    Body out;
    while (true) {
      const Token& t = cur();
      if (t.type == Tok::End) {
        if (ends.empty()) return out;
        template_error(open_line, std::string("unclosed '") + open + "' block (no '{% " + ends.back() +
                                      " %}' before the end of the template)");
      }
      if (t.type == Tok::Text) {
        out.push_back(make(NodeKind::Text, t.line, t.text));
        ++i_;
      } else if (t.type == Tok::VarBegin) {
        ++i_;
        auto n = make(NodeKind::Output, t.line);
        n->args.push_back(expression());
        if (cur().type != Tok::VarEnd) fail("expected '}}', got " + describe(cur()));
        ++i_;
        out.push_back(std::move(n));
      } else if (t.type == Tok::BlockBegin) {
        ++i_;
        std::string name = expect_name();
        if (std::find(ends.begin(), ends.end(), name) != ends.end()) {
          *end = name;
          return out;
        }
        out.push_back(statement(name, t.line));
      } else {
        fail("unexpected " + describe(t));
      }
    }
  }

  NodePtr statement(const std::string& name, int line) {
    DepthGuard guard(*this);
    std::string end;
    if (name == "if") {
      auto n = make(NodeKind::If, line);
      while (true) {
        NodePtr cond = expression();
        expect_block_end();
        Body b = body({"elif", "else", "endif"}, &end, line, "if");
        n->branches.emplace_back(std::move(cond), std::move(b));
        if (end == "elif") continue;
        if (end == "else") {
          expect_block_end();
          n->else_body = body({"endif"}, &end, line, "if");
        }
        expect_block_end();
        return n;
      }
    }
    if (name == "for") {
      auto n = make(NodeKind::For, line);
      do n->names.push_back(expect_name());
      while (skip_op(","));
      if (!skip_name("in")) fail("expected 'in' in the for statement, got " + describe(cur()));
      n->args.push_back(tuple_or(false));
      n->args.push_back(skip_name("if") ? expression() : nullptr);
      if (is_name("recursive")) fail("recursive for loops are not supported");
      expect_block_end();
      n->body = body({"else", "endfor"}, &end, line, "for");
      if (end == "else") {
        expect_block_end();
        n->else_body = body({"endfor"}, &end, line, "for");
      }
      expect_block_end();
      return n;
    }
    if (name == "set") {
      std::vector<std::string> targets;
      std::string attr;
      targets.push_back(expect_name());
      if (skip_op(".")) attr = expect_name();
      while (attr.empty() && skip_op(",")) targets.push_back(expect_name());
      if (skip_op("=")) {
        auto n = make(NodeKind::Set, line, attr);
        n->names = std::move(targets);
        n->args.push_back(tuple_or(true));
        expect_block_end();
        return n;
      }
      if (!attr.empty() || targets.size() > 1) fail("expected '=' in the set statement");
      if (is_op("|")) fail("filtered block set is not supported");
      expect_block_end();
      auto n = make(NodeKind::SetBlock, line);
      n->names = std::move(targets);
      n->body = body({"endset"}, &end, line, "set");
      expect_block_end();
      return n;
    }
    if (name == "macro") {
      auto n = make(NodeKind::Macro, line, expect_name());
      expect_op("(");
      while (!skip_op(")")) {
        if (!n->names.empty()) expect_op(",");
        if (skip_op(")")) break;
        n->names.push_back(expect_name());
        n->args.push_back(skip_op("=") ? expression() : nullptr);
      }
      expect_block_end();
      n->body = body({"endmacro"}, &end, line, "macro");
      if (cur().type == Tok::Name) ++i_;  // {% endmacro name %}
      expect_block_end();
      return n;
    }
    if (name == "break" || name == "continue") {
      expect_block_end();
      return make(name == "break" ? NodeKind::Break : NodeKind::Continue, line);
    }
    if (name == "generation") {
      expect_block_end();
      auto n = make(NodeKind::Generation, line);
      n->body = body({"endgeneration"}, &end, line, "generation");
      expect_block_end();
      return n;
    }
    if (name.rfind("end", 0) == 0 || name == "else" || name == "elif")
      template_error(line, "unexpected '{% " + name + " %}' (no open block it closes)");
    template_error(line, "unsupported tag '{% " + name + " %}'");
  }

  // expression, or a comma-separated tuple of them (a list value).
  NodePtr tuple_or(bool condexpr) {
    int line = cur().line;
    NodePtr first = condexpr ? expression() : or_expr();
    if (!is_op(",")) return first;
    auto n = make(NodeKind::ListLit, line);
    n->negated = true;
    n->args.push_back(std::move(first));
    while (skip_op(",")) {
      if (cur().type == Tok::BlockEnd || cur().type == Tok::VarEnd || is_op(")")) break;
      n->args.push_back(condexpr ? expression() : or_expr());
    }
    return n;
  }

  NodePtr expression() {
    NodePtr e = or_expr();
    while (is_name("if")) {
      int line = cur().line;
      ++i_;
      auto n = make(NodeKind::Cond, line);
      NodePtr cond = or_expr();
      NodePtr other = skip_name("else") ? expression() : nullptr;
      n->args.push_back(std::move(e));
      n->args.push_back(std::move(cond));
      n->args.push_back(std::move(other));
      e = std::move(n);
    }
    return e;
  }

  NodePtr binary_chain(NodeKind kind, const char* word, NodePtr (Parser::*next)()) {
    NodePtr left = (this->*next)();
    while (is_name(word)) {
      auto n = make(kind, cur().line);
      ++i_;
      n->args.push_back(std::move(left));
      n->args.push_back((this->*next)());
      left = std::move(n);
    }
    return left;
  }
  NodePtr or_expr() { return binary_chain(NodeKind::Or, "or", &Parser::and_expr); }
  NodePtr and_expr() { return binary_chain(NodeKind::And, "and", &Parser::not_expr); }

  NodePtr not_expr() {
    if (is_name("not")) {
      auto n = make(NodeKind::Not, cur().line);
      ++i_;
      n->args.push_back(not_expr());
      return n;
    }
    return compare();
  }

  NodePtr compare() {
    int line = cur().line;
    NodePtr first = math1();
    NodePtr n;
    while (true) {
      std::string op;
      if (cur().type == Tok::Op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                    cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        ++i_;
      } else if (skip_name("in")) {
        op = "in";
      } else if (is_name("not") && peek().type == Tok::Name && peek().text == "in") {
        i_ += 2;
        op = "notin";
      } else break;
      if (!n) {
        n = make(NodeKind::Compare, line);
        n->args.push_back(std::move(first));
      }
      n->names.push_back(op);
      n->args.push_back(math1());
    }
    return n ? std::move(n) : std::move(first);
  }

  NodePtr binop(NodePtr (Parser::*next)(), std::initializer_list<const char*> ops) {
    NodePtr left = (this->*next)();
    while (true) {
      const char* hit = nullptr;
      for (const char* op : ops)
        if (is_op(op)) hit = op;
      if (!hit) return left;
      auto n = make(NodeKind::Binary, cur().line, hit);
      ++i_;
      n->args.push_back(std::move(left));
      n->args.push_back((this->*next)());
      left = std::move(n);
    }
  }
  NodePtr math1() { return binop(&Parser::concat, {"+", "-"}); }
  NodePtr concat() {
    NodePtr first = math2();
    if (!is_op("~")) return first;
    auto n = make(NodeKind::Concat, cur().line);
    n->args.push_back(std::move(first));
    while (skip_op("~")) n->args.push_back(math2());
    return n;
  }
  NodePtr math2() { return binop(&Parser::power, {"*", "/", "//", "%"}); }
  NodePtr power() { return binop(&Parser::unary_filtered, {"**"}); }
  NodePtr unary_filtered() { return unary(true); }

  // Bounds recursion so that hostile nesting is an error, not a stack overflow.
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxDepth) p.fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    ~DepthGuard() { --p.depth_; }
  };
  static constexpr int kMaxDepth = 200;

  NodePtr unary(bool with_filter) {
    DepthGuard guard(*this);
    NodePtr n;
    if (is_op("-") || is_op("+")) {
      n = make(is_op("-") ? NodeKind::Neg : NodeKind::Pos, cur().line);
      ++i_;
      n->args.push_back(unary(false));
    } else {
      n = primary();
    }
    n = postfix(std::move(n));
    if (with_filter) n = filters(std::move(n));
    return n;
  }

  NodePtr primary() {
    const Token& t = cur();
    if (t.type == Tok::Name) {
      ++i_;
      auto lit = [&](Value v) {
        auto n = make(NodeKind::Literal, t.line);
        n->value = std::move(v);
        return n;
      };
      if (t.text == "true" || t.text == "True") return lit(Value(true));
      if (t.text == "false" || t.text == "False") return lit(Value(false));
      if (t.text == "none" || t.text == "None") return lit(Value::none());
      return make(NodeKind::Name, t.line, t.text);
    }
    if (t.type == Tok::String) {
      std::string s;
      while (cur().type == Tok::String) s += t_[i_++].text;
      auto n = make(NodeKind::Literal, t.line);
      n->value = Value(std::move(s));
      return n;
    }
    if (t.type == Tok::Int || t.type == Tok::Float) {
      ++i_;
      auto n = make(NodeKind::Literal, t.line);
      if (t.type == Tok::Int) n->value = Value(static_cast<int64_t>(std::strtoll(t.text.c_str(), nullptr, 10)));
      else n->value = Value(std::strtod(t.text.c_str(), nullptr));
      return n;
    }
    if (skip_op("(")) {
      if (skip_op(")")) {
        auto n = make(NodeKind::ListLit, t.line);
        n->negated = true;
        return n;
      }
      NodePtr e = expression();
      if (is_op(",")) {
        auto n = make(NodeKind::ListLit, t.line);
        n->negated = true;
        n->args.push_back(std::move(e));
        while (skip_op(",") && !is_op(")")) n->args.push_back(expression());
        e = std::move(n);
      }
      expect_op(")");
      return e;
    }
    if (skip_op("[")) {
      auto n = make(NodeKind::ListLit, t.line);
      while (!skip_op("]")) {
        if (!n->args.empty()) expect_op(",");
        if (skip_op("]")) break;
        n->args.push_back(expression());
      }
      return n;
    }
    if (skip_op("{")) {
      auto n = make(NodeKind::DictLit, t.line);
      while (!skip_op("}")) {
        if (!n->args.empty()) expect_op(",");
        if (skip_op("}")) break;
        n->args.push_back(expression());
        expect_op(":");
        n->args.push_back(expression());
      }
      return n;
    }
    fail("unexpected " + describe(t));
  }

  NodePtr postfix(NodePtr n) {
    while (true) {
      if (is_op(".")) {
        int line = cur().line;
        ++i_;
        if (cur().type == Tok::Int) {
          auto idx = make(NodeKind::Index, line);
          auto key = make(NodeKind::Literal, line);
          key->value = Value(static_cast<int64_t>(std::strtoll(t_[i_++].text.c_str(), nullptr, 10)));
          idx->args.push_back(std::move(n));
          idx->args.push_back(std::move(key));
          n = std::move(idx);
        } else {
          auto a = make(NodeKind::Attr, line, expect_name());
          a->args.push_back(std::move(n));
          n = std::move(a);
        }
      } else if (is_op("[")) {
        n = subscript(std::move(n));
      } else if (is_op("(")) {
        n = call(std::move(n));
      } else {
        return n;
      }
    }
  }

  NodePtr subscript(NodePtr target) {
    int line = cur().line;
    expect_op("[");
    NodePtr parts[3];
    bool slice = false;
    for (int k = 0; k < 3; ++k) {
      if (!is_op(":") && !is_op("]")) parts[k] = expression();
      if (k < 2 && skip_op(":")) {
        slice = true;
        continue;
      }
      break;
    }
    expect_op("]");
    auto n = make(slice ? NodeKind::Slice : NodeKind::Index, line);
    n->args.push_back(std::move(target));
    if (!slice) {
      if (!parts[0]) template_error(line, "empty subscript");
      n->args.push_back(std::move(parts[0]));
    } else {
      for (auto& p : parts) n->args.push_back(std::move(p));
    }
    return n;
  }

  // Call arguments into n->args[first..] with keyword names in n->names.
  void call_args(Node& n) {
    expect_op("(");
    bool any = false;
    while (!skip_op(")")) {
      if (any) expect_op(",");
      if (skip_op(")")) break;
      any = true;
      if (is_op("*") || is_op("**")) fail("*args and **kwargs in calls are not supported");
      if (cur().type == Tok::Name && peek().type == Tok::Op && peek().text == "=") {
        n.names.push_back(cur().text);
        i_ += 2;
      } else {
        n.names.push_back("");
      }
      n.args.push_back(expression());
    }
  }

  NodePtr call(NodePtr callee) {
    auto n = make(NodeKind::Call, cur().line);
    n->args.push_back(std::move(callee));
    n->names.push_back("");
    call_args(*n);
    return n;
  }

  NodePtr filters(NodePtr n) {
    while (true) {
      if (is_op("|")) {
        ++i_;
        auto f = make(NodeKind::Filter, cur().line, expect_name());
        f->args.push_back(std::move(n));
        f->names.push_back("");
        if (is_op("(")) call_args(*f);
        n = std::move(f);
      } else if (is_name("is")) {
        ++i_;
        bool neg = skip_name("not");
        auto t = make(NodeKind::Test, cur().line, expect_name());
        t->negated = neg;
        t->args.push_back(std::move(n));
        t->names.push_back("");
        if (is_op("(")) {
          call_args(*t);
        } else if ((cur().type == Tok::Name || cur().type == Tok::String || cur().type == Tok::Int ||
                    cur().type == Tok::Float || is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and") && !is_name("if") && !is_name("in") &&
                   !is_name("not")) {
          t->names.push_back("");
          t->args.push_back(postfix(primary()));
        }
        n = std::move(t);
      } else if (is_op("(")) {
        n = call(std::move(n));
      } else {
        return n;
      }
    }
  }

  const std::vector<Token>& t_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

Body parse(const std::vector<Token>& tokens) { return Parser(tokens).parse_all(); }

}  // namespace nlm::data::chat_template
