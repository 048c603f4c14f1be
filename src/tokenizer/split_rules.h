// The pre-tokenizer split rules of GPT-2, Llama 3 / cl100k, Qwen2/3 and o200k, written as hand-coded
// scanners with exactly the semantics of their published regexes (leftmost-first alternation with
// backtracking, \p{L} / \p{N} / \s from ICU), so no regex engine runs in the hot loop. Each rule
// cuts valid UTF-8 into consecutive pieces that cover the whole input.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nlm::tokenizer {

enum class SplitRule {
  None,    // the whole text is one piece
  Gpt2,    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  Llama3,  // cl100k: (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  Qwen2,   // as Llama3 but \p{N} (single digits)
  O200k,   // GPT-4o: case-aware letter runs with attached contractions, [\r\n/]* after punctuation
};

// The regex source strings, as they appear in tokenizer.json files.
std::string_view split_rule_regex(SplitRule rule);
// The rule whose regex is exactly `regex`, or None when it is not one of the known ones.
bool split_rule_from_regex(std::string_view regex, SplitRule& rule);
// "llama3", "gpt2", ...: the name the `pretokenizer` option prints (its choice, declared in
// tokenizer::declare_layout, also parses the names and their aliases).
const char* split_rule_name(SplitRule rule);

// Appends (begin, end) byte ranges of the pieces of `text` (valid UTF-8) to `out`.
void split_pieces(std::string_view text, SplitRule rule, std::vector<std::pair<size_t, size_t>>& out);

}  // namespace nlm::tokenizer
