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

// Found by fuzz/fuzz_chat_template (fuzz/findings/fuzz_chat_template/lexer_tag_then_invalid_utf8):
// a tag opener followed by invalid UTF-8 made the raw-block check compare past the end of the
// template (std::out_of_range escaped instead of a template error): the lexer decodes valid UTF-8
// only. A template that is not UTF-8 is now a template error (Jinja2 only ever sees text).
TEST(ChatTemplateRobust, TagOpenerBeforeInvalidUtf8) {
  for (const std::string& t : {std::string("\xbb({%\x82`\xdd"), std::string("{%\xdd"), std::string("{%- \xc3"),
                              std::string("{% raw \xe3\x80"), std::string("{%")})
    fails(t);
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

// Rendered text of a template that must render.
std::string rendered(const std::string& t) {
  json msgs = json::array({{{"role", "user"}, {"content", "Dia duit"}}});
  return render_chat(t, msgs, ChatRenderOptions{});
}

// Integer arithmetic past int64 was undefined behaviour (UBSan in fuzz_chat_template), and
// 1 ** 10**18 looped 10**18 times; now overflow is a template error and powers are quick.
TEST(ChatTemplateRobust, IntegerOverflowIsAnError) {
  for (const char* t : {"{{ 9223372036854775807 + 1 }}", "{{ -9223372036854775807 - 2 }}",
                        "{{ 4294967296 * 4294967296 }}", "{{ 2 ** 64 }}", "{{ -(-9223372036854775807 - 1) }}",
                        "{{ (-9223372036854775807 - 1) // -1 }}", "{{ (-9223372036854775807 - 1) | abs }}",
                        "{{ [9223372036854775807, 1] | sum }}", "{{ 1e300 | int }}", "{{ '1e300' | int }}"})
    EXPECT_TRUE(fails(t)) << t;
  EXPECT_EQ(rendered("{{ 1 ** 1000000000000000000 }} {{ (-1) ** 1000000000000000001 }} {{ 0 ** 0 }} {{ 2 ** 62 }}"),
            "1 -1 1 4611686018427387904");
  EXPECT_EQ(rendered("{{ (-9223372036854775807 - 1) % -1 }} {{ -7 // 2 }} {{ -7 % 2 }} {{ 7 % -2 }}"), "0 -4 1 -1");
  EXPECT_EQ(rendered("{{ range(9223372036854775800, 9223372036854775807, 5) | list | length }}"), "2");
  EXPECT_EQ(rendered("{{ [1, 2, 3][9223372036854775800::9223372036854775807] | length }}"), "0");
  EXPECT_EQ(rendered("{{ messages | map(attribute='99999999999999999999999') | list | length }}"), "1");
}

// Work and size budgets: nested loops, strings doubled in a loop, replace() and indent() that
// multiply their input end in a template error instead of hours or gigabytes.
TEST(ChatTemplateRobust, WorkAndSizeAreBounded) {
  EXPECT_TRUE(fails("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"));
  // An inner loop with no turns still built range(100000) on each of 100000 turns (fuzz_chat_template,
  // hours of work): what calls and filters build or read counts against the budget.
  EXPECT_TRUE(fails("{% for i in range(100000) %}{% for j in range(100000) .i%}{% endfor %}{% endfor %}"));
  EXPECT_TRUE(fails("{% for i in range(100000) %}{% if range(100000) | length > 5 %}{% endif %}{% endfor %}"));
  EXPECT_TRUE(fails("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"));
  EXPECT_TRUE(fails("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}"));
  EXPECT_TRUE(fails("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}"));
  EXPECT_TRUE(fails("{{ ('x' * 1000000) | replace('', 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy') }}"));
  EXPECT_TRUE(fails("{{ ('\n' * 1000000) | indent(1000, true, true) }}"));
  EXPECT_TRUE(fails("{{ 'x' | indent(100000) }}"));
  EXPECT_TRUE(fails("{{ [1] * 2000000 }}"));
  EXPECT_TRUE(fails("{{ 'a' | replace('a', 'b', 'many') }}"));
  EXPECT_TRUE(fails("{{ 'a' | indent(1.5) }}"));
  EXPECT_EQ(rendered("{{ 'a\nb' | indent(-3) }}|{{ 'a' | replace('a', 'bc') }}|{{ {'k': [1]} | tojson(indent=-1) }}"),
            "a\nb|bc|{\n\"k\": [\n1\n]\n}");
  EXPECT_EQ(rendered("{% for i in range(100) %}{% for j in range(1000) %}{% endfor %}{% endfor %}done"), "done");
}

// A loop that reads, copies or compares one large string on every turn did a 16 MB memcpy per
// turn within the step budget (fuzz_chat_template timed out in CI, stop 24): strings are shared,
// and operators, method lookups and loops pay for the bytes they touch.
TEST(ChatTemplateRobust, LargeStringWorkIsBounded) {
  const std::string big = "{% set x = 'x' * 16000000 %}{% for i in range(300000) %}";
  EXPECT_TRUE(fails(big + "{% if x == x %}{% endif %}{% endfor %}"));
  EXPECT_TRUE(fails(big + "{% if 'y' in x %}{% endif %}{% endfor %}"));
  EXPECT_TRUE(fails(big + "{% set y = x ~ '' %}{% endfor %}"));
  EXPECT_TRUE(fails(big + "{% set y = x + '' %}{% endfor %}"));
  EXPECT_TRUE(fails(big + "{% set y = x.upper %}{% endfor %}"));
  EXPECT_TRUE(fails(big + "{% set y = x[5:] %}{% endfor %}"));
  EXPECT_TRUE(fails(big + "{% set y = x[-1] %}{% endfor %}"));
  EXPECT_TRUE(fails(big + "{% for c in x %}{% endfor %}{% endfor %}"));
  // A list holding a large list compares item by item at every level: charged by its weight.
  const std::string deep = "{% set a = [[0] * 200000] %}{% for i in range(300000) %}";
  EXPECT_TRUE(fails(deep + "{% if a == a %}{% endif %}{% endfor %}"));
  EXPECT_TRUE(fails(deep + "{% if a in [a] %}{% endif %}{% endfor %}"));
  EXPECT_TRUE(fails(deep + "{% if a | unique | list %}{% endif %}{% endfor %}"));
  // Reading it is a pointer copy: 50,000 lookups of a 1 MB string (50 GB of copying before).
  EXPECT_EQ(rendered("{% set x = 'x' * 1000000 %}{% for i in range(50000) %}{% if x %}{% endif %}{% endfor %}"
                     "{{ x | length }}"),
            "1000000");
}

// An empty string or list times 2^32 looped 2^32 times to build nothing (fuzz_chat_template timed
// out in a CI rehearsal on '' * 4294967296): it is empty at once.
TEST(ChatTemplateRobust, EmptyRepeatedHugeTimesIsEmptyAtOnce) {
  EXPECT_EQ(rendered("[{{ '' * 4294967296 }}|{{ 4611686018427387904 * '' }}|{{ [] * 4294967296 }}]"), "[||[]]");
  EXPECT_EQ(rendered("{{ (('' ~ '') * 9223372036854775807) | length }}"), "0");
}

// A long conversation still renders: 4 MB of message text through trim and concatenation.
TEST(ChatTemplateRobust, LongConversationFitsTheBudget) {
  json msgs = json::array();
  for (int i = 0; i < 64; ++i)
    msgs.push_back({{"role", i % 2 ? "assistant" : "user"}, {"content", std::string(65536, 'a' + i % 26)}});
  const std::string t =
      "{% for m in messages %}{{ '<|' ~ m['role'] ~ '|>\\n' ~ m['content'] | trim ~ '<|end|>' }}{% endfor %}";
  std::string out = render_chat(t, msgs, ChatRenderOptions{});
  EXPECT_EQ(out.size(), 64u * 65536 + 32 * (std::string("<|user|>\n<|end|>").size() +
                                         std::string("<|assistant|>\n<|end|>").size()));
}

// A namespace attribute wrapped in a list at every loop turn built a 100,000-level chain that
// overflowed the stack when printed; storing a value nested past kMaxValueDepth is an error.
TEST(ChatTemplateRobust, DeeplyNestedValuesAreRefused) {
  const std::string grow = "{% set ns = namespace(x=1) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}";
  EXPECT_TRUE(fails(grow + "{{ ns.x }}"));
  EXPECT_TRUE(fails(grow + "{{ ns.x | tojson }}"));
  EXPECT_TRUE(fails("{% set ns = namespace(x=1) %}{% for i in range(1000) %}{% set ns.x = {'k': ns.x} %}{% endfor %}"));
  EXPECT_EQ(rendered("{% set ns = namespace(x=1) %}{% for i in range(3) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}"),
            "[[[1]]]");
}

}  // namespace
