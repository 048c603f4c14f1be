// Splits a Jinja template into tokens with Jinja2's lexing rules under HF's settings:
// newlines normalised to "\n", one trailing newline dropped, `{%- -%}` style whitespace
// control, trim_blocks (drop the newline after a block or comment tag) and lstrip_blocks
// (drop spaces and tabs before a block or comment tag at the start of a line), raw blocks and
// comments. Each token carries its template line for error messages.
#pragma once
#include <string>
#include <vector>

namespace nlm::data::chat_template {

enum class Tok { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, End };

struct Token {
  Tok type;
  std::string text;  // text, name, unescaped string literal, number or operator
  int line;
};

struct LexSettings {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

std::vector<Token> lex(const std::string& source, const LexSettings& settings = {});

// "chat template line N: what": the usage error every template failure raises.
[[noreturn]] void template_error(int line, const std::string& what);

}  // namespace nlm::data::chat_template
