// UTF-8 validation and repair (maximal-subpart replacement), length, and script counting.
#include <gtest/gtest.h>

#include "text/script.h"
#include "text/utf8.h"

using namespace nlm::text;

namespace {
std::string repaired(std::string_view s, size_t* count = nullptr) {
  std::string out;
  size_t n = utf8_repair(s, out);
  if (count) *count = n;
  return out;
}
const std::string R = "\xEF\xBF\xBD";  // U+FFFD
}  // namespace

TEST(Utf8, ValidTextIsUntouched) {
  std::string s = "Dia dhuit! 你好 𠀋 naïve e\xCC\x81";
  EXPECT_TRUE(utf8_valid(s));
  size_t n = 99;
  EXPECT_EQ(repaired(s, &n), s);
  EXPECT_EQ(n, 0u);
}

TEST(Utf8, MaximalSubpartReplacement) {
  size_t n;
  // A lone continuation byte, an invalid lead byte, and a truncated 3-byte sequence.
  EXPECT_EQ(repaired("a\x80" "b", &n), "a" + R + "b");
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(repaired("\xFF", &n), R);
  EXPECT_EQ(repaired("\xE4\xBD" "x", &n), R + "x");  // truncated 你 is one replacement
  EXPECT_EQ(n, 1u);
  // Surrogates encoded in UTF-8 (ED A0 80) are invalid: ED then two stray bytes.
  EXPECT_EQ(repaired("\xED\xA0\x80", &n), R + R + R);
  EXPECT_EQ(n, 3u);
  // Overlong encoding of '/' (C0 AF).
  EXPECT_EQ(repaired("\xC0\xAF", &n), R + R);
  // Truncated at the end of input.
  EXPECT_EQ(repaired("ok\xF0\x9F\x98", &n), "ok" + R);
  EXPECT_EQ(n, 1u);
  EXPECT_TRUE(utf8_valid(repaired("\xF5\x80\x80\x80 \xC3")));
}

TEST(Utf8, InplaceRepairAndLength) {
  std::string s = "x\xFEy";
  EXPECT_EQ(utf8_repair_inplace(s), 1u);
  EXPECT_EQ(s, "x" + R + "y");
  EXPECT_EQ(utf8_length("a你𠀋"), 3u);
  std::string out;
  utf8_append(out, 0x2000B);
  EXPECT_EQ(out, "𠀋");
  size_t i = 0;
  EXPECT_EQ(utf8_next(out, i), 0x2000Bu);
  EXPECT_EQ(i, 4u);
}

TEST(Script, CountsByScript) {
  ScriptCounter c;
  c.add("abc 你好 Приветик 1");
  auto v = c.sorted();
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v[0].first, "Cyrillic");
  EXPECT_EQ(v[0].second, 8u);
  EXPECT_EQ(c.count(script_of(U'你')), 2u);
  EXPECT_EQ(script_name(script_of('a')), "Latin");
  EXPECT_EQ(script_name(script_of(U'粵')), "Han");
  EXPECT_EQ(script_name(script_of(U'ก')), "Thai");
}
