// Error lines stay one clean line whatever the input holds (issue 11): control characters are
// escaped, echoed values are capped, library exception text is put in nativelm's words.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "core/message_check.h"
#include "core/options.h"

namespace {
using namespace nlm;

bool has_control(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7F) return true;
  return s.find("\xC2\x9B") != std::string::npos;
}

TEST(ErrorText, PrintableEscapesControlCharacters) {
  EXPECT_EQ(printable("a\rb\nc\td\x1b[31me\x7f"), "a\\rb\\nc\\td\\x1b[31me\\x7f");
  EXPECT_EQ(printable("csi \xC2\x9B" "31m"), "csi \\u009b31m");       // C1 control
  EXPECT_EQ(printable("bad \xFF\xC3 end"), "bad \\xff\\xc3 end");      // invalid UTF-8
  EXPECT_EQ(printable("caf\xC3\xA9 \xE7\xB2\xB5 \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE7\xB2\xB5 \xF0\x9F\x98\x80");
  EXPECT_EQ(echoed("x"), "'x'");
}

TEST(ErrorText, PrintableCapsWithAnEllipsisOnACharacterBoundary) {
  std::string long_value(100000, 'a');
  std::string p = printable(long_value);
  EXPECT_EQ(p, std::string(160, 'a') + "\xE2\x80\xA6");
  std::string wide;
  for (int i = 0; i < 100; ++i) wide += "\xE7\xB2\xB5";  // 3 bytes each
  p = printable(wide);
  EXPECT_EQ(p, wide.substr(0, 159) + "\xE2\x80\xA6");  // 53 whole characters
  p = printable(std::string(1000, '\x1b'));
  EXPECT_LE(p.size(), 163u);
  EXPECT_EQ(p.substr(0, 8), "\\x1b\\x1b");
  EXPECT_FALSE(has_control(p));
}

TEST(ErrorText, JsonLibraryMessagesBecomeNativelmWords) {
  std::string parse_what, type_what;
  try {
    nlohmann::json j = nlohmann::json::parse("{\"vocab\": [1, 2,}");
    ADD_FAILURE() << j.dump();
  } catch (const nlohmann::json::exception& e) {
    parse_what = e.what();
  }
  try {
    (void)nlohmann::json::parse("{\"a\": 1}")["a"].get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    type_what = e.what();
  }
  ASSERT_NE(parse_what.find("[json.exception"), std::string::npos);
  std::string m = clean_message("tokenizer.json is not valid JSON: " + parse_what);
  EXPECT_EQ(m.find("[json.exception"), std::string::npos) << m;
  EXPECT_EQ(m.rfind("tokenizer.json is not valid JSON: syntax error at line 1, column ", 0), 0u) << m;
  m = clean_message("bad config: " + type_what);
  EXPECT_EQ(m.find("[json.exception"), std::string::npos) << m;
  EXPECT_EQ(m, "bad config: a value has the wrong type: it must be string, but is number");
  // format_error cleans too, and cleaning twice changes nothing.
  std::string f = format_error("corrupt index: " + parse_what, "model.safetensors.index.json", "");
  EXPECT_EQ(f.find("[json.exception"), std::string::npos) << f;
  EXPECT_EQ(clean_message(f), f);
}

TEST(ErrorText, LongMessagesAreShortenedInTheMiddle) {
  std::string what = "input";
  for (int i = 0; i < 20000; ++i) what += " word";
  what += "\x1b[2J";
  // The message check would (rightly) flag this deliberately overlong message.
  nlm::MessageObserver check = nlm::set_message_observer(nullptr);
  std::string m = format_error(what, "somewhere", "the fix");
  nlm::set_message_observer(check);
  EXPECT_LE(m.size(), nlm::kMaxMessageBytes);
  EXPECT_TRUE(nlm::message_is_clean(m)) << m;
  EXPECT_FALSE(has_control(m));
  EXPECT_EQ(m.rfind("input word word", 0), 0u);
  EXPECT_NE(m.find("\\x1b[2J (somewhere); the fix"), std::string::npos) << m;
  EXPECT_EQ(clean_message(m), m);
  // One long word (a value another library echoed) is capped on its own.
  m = clean_message("Value " + std::string(100000, '7') + " not in range");
  EXPECT_EQ(m, "Value " + std::string(200, '7') + "\xE2\x80\xA6 not in range");
  EXPECT_EQ(clean_message(m), m);
}

// What the test binaries' message check (tests/message_check_env.cc) relies on: errors and
// warnings reach the observer once formed, cleaned.
std::vector<std::string>* g_seen = nullptr;
void record(std::string_view m) { g_seen->emplace_back(m); }

TEST(ErrorText, ErrorsAndWarningsReachTheObserverCleaned) {
  std::vector<std::string> seen;
  g_seen = &seen;
  nlm::MessageObserver previous = nlm::set_message_observer(record);
  try {
    nlm::usage_error("bad value \x1b[2J\r\n" + std::string(5000, 'x'), "here", "fix it");
  } catch (const Error&) {
  }
  nlm::log::warn("skipped malformed record: \x07" "bell\nnext line " + std::string(1000, 'y'));
  nlm::set_message_observer(previous);
  ASSERT_EQ(seen.size(), 2u);
  for (const auto& m : seen) EXPECT_TRUE(nlm::message_is_clean(m)) << m;
  EXPECT_EQ(seen[0].rfind("bad value \\x1b[2J\\r\\n", 0), 0u) << seen[0];
  EXPECT_EQ(seen[1].rfind("skipped malformed record: \\x07bell\\nnext line", 0), 0u) << seen[1];
}

TEST(ErrorText, MessageRule) {
  EXPECT_TRUE(nlm::message_is_clean("plain message (file:3); fix \xE2\x80\xA6 caf\xC3\xA9"));
  EXPECT_FALSE(nlm::message_is_clean("tab\there"));
  EXPECT_FALSE(nlm::message_is_clean("del\x7f"));
  EXPECT_FALSE(nlm::message_is_clean("c1 \xC2\x9b"));
  EXPECT_FALSE(nlm::message_is_clean("bad utf8 \xff"));
  EXPECT_TRUE(nlm::message_is_clean(std::string(nlm::kMaxMessageBytes, 'a')));
  EXPECT_FALSE(nlm::message_is_clean(std::string(nlm::kMaxMessageBytes + 1, 'a')));
}

TEST(ErrorText, OptionValuesAreEchoedEscapedAndCapped) {
  std::string value = "\x1b[31m" + std::string(100000, '9') + "\r\n";
  try {
    (void)opt::parse_int(value, "threads");
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_LT(m.size(), 300u) << m;
    EXPECT_FALSE(has_control(m)) << m;
    EXPECT_EQ(m.rfind("threads must be an integer, got '\\x1b[31m999", 0), 0u) << m;
    EXPECT_NE(m.find("\xE2\x80\xA6'"), std::string::npos) << m;
  }
  try {
    (void)opt::parse_size("12\nline two\x1b", "memory", false);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'12\\nline two\\x1b'"), std::string::npos) << e.what();
  }
}

}  // namespace

namespace {

// Run only by MessageCheck.FailsTheTestThatFormsABadMessage, in a child process: a warning of
// 60 short words (about 400 bytes) that the message check must turn into a test failure.
TEST(MessageCheck, DISABLED_OverlongWarning) {
  std::string words;
  for (int i = 0; i < 60; ++i) words += " word" + std::to_string(i);
  nlm::log::warn("overlong warning:" + words);
}

TEST(MessageCheck, FailsTheTestThatFormsABadMessage) {
  std::string cmd = "/proc/" + std::to_string(getpid()) +
                    "/exe --gtest_also_run_disabled_tests --gtest_filter=MessageCheck.DISABLED_OverlongWarning 2>&1";
  std::FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  int status = pclose(p);
  EXPECT_NE(status, 0) << out;
  EXPECT_NE(out.find("breaks the message rule"), std::string::npos) << out;
  EXPECT_NE(out.find("overlong warning: word0 word1"), std::string::npos) << out;
  EXPECT_NE(out.find("[  FAILED  ] MessageCheck.DISABLED_OverlongWarning"), std::string::npos) << out;
}

}  // namespace
