// sacreBLEU's BLEU tokenizers, reimplemented so scores and signatures match sacreBLEU's:
//   13a  mteval-v13a.pl: unescape &quot; &amp; &lt; &gt;, split ASCII punctuation and symbols,
//        '.' and ',' unless between digits, '-' after a digit (the WMT default);
//   intl mteval-v14.pl international: Unicode punctuation split unless next to a digit, every
//        Unicode symbol split;
//   zh   every CJK character (sacreBLEU's ranges, quirks included: see bleu_tokenize.cc) a token,
//        then the 13a rules on the rest;
//   char every non-space character a token;  none  split on whitespace only.
// sacreBLEU's SentencePiece tokenizers (spm, flores101, flores200) and MeCab ones (ja-mecab,
// ko-mecab) are not provided: parse_bleu_tokenize() refuses them with a usage error.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace nlm::eval::metrics {

enum class BleuTokenize { T13a, Intl, Zh, Char, None };

// The tokens of one (already lowercased and right-stripped) line: the tokenizer's output split
// on whitespace, as BLEU reads it.
std::vector<std::u32string> bleu_tokenize(std::u32string_view line, BleuTokenize tokenizer);

// The name sacreBLEU uses in signatures and on its command line ("13a", "intl", ...).
const char* bleu_tokenize_name(BleuTokenize tokenizer);
// The tokenizer named `name`; a usage error for sacreBLEU names nativelm does not provide and
// for unknown names (`key` names the option in the message).
BleuTokenize parse_bleu_tokenize(const std::string& name, const std::string& key = "tokenize");

// sacreBLEU 'zh': whether `c` counts as a Chinese character (exposed for tests).
bool zh_is_chinese_char(char32_t c);

}  // namespace nlm::eval::metrics
