// Bad templates fail cleanly: random token soup, hostile nesting, unbounded macro recursion and
// huge repetitions give a usage error (or render), never a crash or a hang.
#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "data/chat_template/chat_template.h"

namespace {

using nlm::data::chat_template::ChatRenderOptions;
using nlm::data::chat_template::render_chat;
using json = nlohmann::ordered_json;

// True when rendering raised nlm's usage error; false when it rendered. Anything else fails.
bool fails(const std::string& t) {
  json msgs = json::array({{{"role", "user"}, {"content", "Dia duit"}}});
  try {
    render_chat(t, msgs, ChatRenderOptions{});
    return false;
  } catch (const nlm::Error& e) {
    EXPECT_EQ(e.exit_code(), 2) << e.what();
    EXPECT_NE(std::string(e.what()).find("template line"), std::string::npos) << e.what();
    return true;
  }
}

TEST(ChatTemplateRobust, RandomTokenSoupNeverCrashes) {
  const char* pieces[] = {"{{", "}}", "{%", "%}", "{#", "#}", "-", "+", " if ", " for ", " in ", " endif ", " endfor ",
                          " set ", "=", "x", "messages", "[", "]", "(", ")", "'s'", "\"", "|", "trim", " is ",
                          "defined", ".", "0", "1.5", ",", ":", "~", "not", " else ", " macro ", " endmacro ",
                          "loop", "\n", "  ", "raw", "endraw", "ns", "namespace(", "*", "//", "%", "\\"};
  std::mt19937 rng(7);
  size_t rendered = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string t;
    int n = 1 + static_cast<int>(rng() % 25);
    for (int k = 0; k < n; ++k) t += pieces[rng() % std::size(pieces)];
    rendered += !fails(t);
  }
  EXPECT_GT(rendered, 0u);
}

TEST(ChatTemplateRobust, LimitsAreErrors) {
  EXPECT_TRUE(fails("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}"));
  std::string nested;
  for (int i = 0; i < 1000; ++i) nested += "{% if true %}";
  EXPECT_TRUE(fails(nested));
  EXPECT_TRUE(fails("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"));
  EXPECT_TRUE(fails("{{ 'abc' * 100000000 }}"));
  EXPECT_TRUE(fails("{{ range(1000000000)|length }}"));
  EXPECT_FALSE(fails("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{{ n }}{% endmacro %}{{ f(50) }}"));
}

}  // namespace
