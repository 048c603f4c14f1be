// The JSON nesting scan (core/json_depth.h) that guards every nlohmann-read file: brackets inside
// strings and escaped quotes do not count, it stops at the limit, and the error names the file.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "core/json_depth.h"

namespace {

TEST(JsonDepth, CountsArraysAndObjectsOutsideStrings) {
  EXPECT_EQ(nlm::json_depth("1"), 0u);
  EXPECT_EQ(nlm::json_depth("[]"), 1u);
  EXPECT_EQ(nlm::json_depth(R"({"a": [1, {"b": [[]]}], "c": {}})"), 5u);
  EXPECT_EQ(nlm::json_depth(R"({"a": "[[[[{{{{", "b\"[[": "\\"})"), 1u);
  EXPECT_EQ(nlm::json_depth("]]]][]"), 1u);  // stray closes never go below zero
}

TEST(JsonDepth, StopsPastTheLimitAndNamesTheFile) {
  std::string deep = std::string(10'000'000, '[') + std::string(10'000'000, ']');
  EXPECT_EQ(nlm::json_depth(deep, 512), 513u);
  EXPECT_NO_THROW(nlm::check_json_depth(std::string(512, '[') + std::string(512, ']'), "ok.json"));
  try {
    nlm::check_json_depth(deep, "model/tokenizer.json");
    FAIL() << "no error";
  } catch (const nlm::Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_NE(std::string(e.what()).find("deeper than 512 levels (model/tokenizer.json)"), std::string::npos)
        << e.what();
  }
}

}  // namespace
