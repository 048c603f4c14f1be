// The syntax tree of a chat template and the parser that builds it from lexer tokens, following
// Jinja2's grammar and operator precedence (or < and < not < comparisons/in < + - < ~ < * / // %
// < ** < unary - < postfix . [] () < filters | and tests `is`). Constructs outside the supported
// subset are parse errors naming the template line.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/chat_template/lexer.h"
#include "data/chat_template/value.h"

namespace nlm::data::chat_template {

enum class NodeKind {
  // expressions
  Literal, Name, ListLit, DictLit, Attr, Index, Slice, Call, Filter, Test, Neg, Pos, Binary, Compare, And, Or, Not,
  Cond, Concat,
  // statements
  Text, Output, If, For, Set, SetBlock, Macro, Break, Continue, Generation
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
  NodeKind kind;
  int line = 0;
  std::string name;                // identifier, operator, attribute, filter/test name or text
  Value value;                     // Literal
  std::vector<NodePtr> args;       // operands; Slice uses null for an absent start/stop/step
  std::vector<std::string> names;  // keyword names parallel to call args ("" = positional),
                                   // comparison operators, for/set targets, macro parameters
  bool negated = false;            // `is not`; on ListLit: a tuple
  Body body, else_body;
  std::vector<std::pair<NodePtr, Body>> branches;  // if / elif
};

Body parse(const std::vector<Token>& tokens);

}  // namespace nlm::data::chat_template
