// Multilingual and adversarial test strings shared by the tokenizer suites: hand-picked cases for
// each split rule, lines of real text from Debian's fortunes when installed, and seeded random
// strings drawn from every kind of code point the split rules treat differently.
#pragma once
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "text/utf8.h"

namespace nlm::testing {

inline std::vector<std::string> handpicked_strings() {
  return {
      "Hello world", " Hello  world ", "I'm sure they'll've done it, DON'T YOU'RE 'S 'ſ",
      "naïve café résumé", "Größe Straße ÄÖÜ", "Привет, мир! Как дела?", "日本語のテキストです。",
      "我们今天去银行。𠀀𠀁𪚥 CJK Ext B", "ภาษาไทยไม่มีช่องว่าง", "مرحبا بالعالم", "नमस्ते दुनिया",
      "e\u0301 a\u0308 combining\u0300\u0301 marks", "12345678901 3.14159 1,000,000 ٣٤٥ ²³ Ⅻ",
      "tabs\there\tand\r\nwindows\r\n\r\nlines\n\n\n   \n  x", "    leading spaces", "trailing   ",
      "emoji 😀👍🏽 👨‍👩‍👧 flags 🇩🇪", "code: for (int i = 0; i < n; ++i) { x += a[i]; } // done",
      "URL https://example.com/a/b?c=d&e=f#g", "<|begin_of_text|>Hi<|end_of_text|> <s>x</s>",
      "<|im_start|>user\nhi<|im_end|>", "<bos><start_of_turn>user\nhello<end_of_turn>",
      "\u00a0nbsp\u3000ideographic\u2003em space", "a\u200bzero\u200dwidth", "?!...;;;:::---",
      "'hello' \"quoted\" «guillemets» „Anführung“", "ALLCAPS CamelCase mixedCASE lower",
      "x", " ", "\n", "  \n  ", "'", "' s", "don't", "DON'T", "it's1", "Ǆemo ǅemo ǆemo",
      "Ελληνικά κείμενα", "한국어 텍스트입니다", "Tiếng Việt có dấu", "ꦗꦮ", "\uFEFFbom",
      "a/b/c\n/d", "x  /\n", "1\u0661\u06F1", "৩৪ ১২৩৪", "ab12cd345ef6789",
  };
}

// Lines from fortunes files (real multilingual text), at most `max` of them, deterministic.
inline std::vector<std::string> fortune_lines(size_t max) {
  std::vector<std::string> out;
  const char* dirs[] = {"/usr/share/games/fortunes"};
  std::vector<std::filesystem::path> files;
  for (auto* d : dirs) {
    std::error_code ec;
    if (!std::filesystem::exists(d, ec)) continue;
    for (auto& e : std::filesystem::recursive_directory_iterator(d, ec))
      if (e.is_regular_file() && e.path().extension() != ".dat" && e.path().extension() != ".u8")
        files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  size_t per_file = files.empty() ? 0 : std::max<size_t>(4, max / files.size());
  for (auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string line, para;
    size_t taken = 0;
    while (std::getline(in, line) && taken < per_file && out.size() < max) {
      if (line == "%") {
        if (!para.empty() && text::utf8_valid(para)) {
          out.push_back(para);
          ++taken;
        }
        para.clear();
      } else {
        para += line + "\n";
      }
    }
  }
  return out;
}

// Random strings over code points chosen to hit every branch of the split rules.
inline std::vector<std::string> random_unicode_strings(size_t count, uint32_t seed) {
  static const std::vector<std::pair<uint32_t, uint32_t>> ranges = {
      {'a', 'z'},       {'A', 'Z'},       {'0', '9'},       {' ', ' '},       {'\n', '\n'},
      {'\r', '\r'},     {'\t', '\t'},     {'\'', '\''},     {'!', '/'},       {0xA0, 0xFF},
      {0x100, 0x17F},   {0x1C4, 0x1CC},   {0x300, 0x36F},   {0x391, 0x3C9},   {0x400, 0x44F},
      {0x5D0, 0x5EA},   {0x620, 0x64A},   {0x660, 0x669},   {0x900, 0x97F},   {0xE01, 0xE5B},
      {0x2000, 0x200D}, {0x2070, 0x2079}, {0x2160, 0x2188}, {0x3000, 0x3003}, {0x3040, 0x30FF},
      {0x4E00, 0x4E80}, {0xAC00, 0xAC40}, {0xFF01, 0xFF5E}, {0x1F600, 0x1F64F}, {0x20000, 0x2A6DF},
      {0x1D400, 0x1D7FF}, {0x10400, 0x1044F}, {0x2B0, 0x2FF}, {0x17F, 0x17F},   {0xFEFF, 0xFEFF},
  };
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    std::string s;
    size_t len = 1 + rng() % 40;
    for (size_t k = 0; k < len; ++k) {
      auto [lo, hi] = ranges[rng() % ranges.size()];
      uint32_t cp = lo + rng() % (hi - lo + 1);
      text::utf8_append(s, cp);
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace nlm::testing
