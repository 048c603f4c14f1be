// Unit tests of the chat-template engine: each Jinja construct against the string Jinja2 gives
// under HF's settings (the expected strings were checked with python3-jinja2), plus errors
// that name the template line.
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/chat_template/chat_template.h"
#include "data/chat_template/model_template.h"
#include "test_util.h"

namespace {

using nlm::data::chat_template::ChatRenderOptions;
using nlm::data::chat_template::render_chat;
using json = nlohmann::ordered_json;

std::string r(const std::string& t, const json& extra = nullptr, const json& messages = json::array()) {
  ChatRenderOptions o;
  o.extra = extra;
  o.bos_token = "<s>";
  o.eos_token = "</s>";
  return render_chat(t, messages, o);
}

// The message of the usage error a template raises ("" when it renders).
std::string error_of(const std::string& t, const json& extra = nullptr) {
  try {
    r(t, extra);
  } catch (const nlm::Error& e) {
    EXPECT_EQ(e.exit_code(), 2) << e.what();
    return e.what();
  }
  return "";
}

TEST(ChatTemplate, LiteralsAndArithmetic) {
  EXPECT_EQ(r("{{ 1 + 2 * 3 }}|{{ 7 // 2 }}|{{ -7 % 3 }}|{{ 3 / 2 }}|{{ 2 ** 10 }}"), "7|3|2|1.5|1024");
  EXPECT_EQ(r("{{ 1.0 }}|{{ 1e20 }}|{{ 0.1 + 0.2 }}|{{ 1e-5 }}"), "1.0|1e+20|0.30000000000000004|1e-05");
  EXPECT_EQ(r("{{ none }}|{{ True }}|{{ [1, 'a', {'k': none}] }}|{{ 'a' 'b' }}"), "None|True|[1, 'a', {'k': None}]|ab");
  EXPECT_EQ(r("{{ 'ab' * 3 }}|{{ [1] + [2] }}|{{ 'x' ~ 1 ~ none }}|{{ 'a' + 'b' }}"), "ababab|[1, 2]|x1None|ab");
  EXPECT_EQ(r("{{ '\\u00e9\\n\\t\\x41' }}"), "é\n\tA");
}

TEST(ChatTemplate, ComparisonsAndLogic) {
  EXPECT_EQ(r("{{ 1 == 1.0 }}{{ true == 1 }}{{ 1 < 2 < 3 }}{{ 'a' < 'b' }}{{ 2 != 2 }}"), "TrueTrueTrueTrueFalse");
  EXPECT_EQ(r("{{ 'b' in 'abc' }}{{ 2 in [1, 2] }}{{ 'k' in {'k': 1} }}{{ 3 not in [3] }}"), "TrueTrueTrueFalse");
  EXPECT_EQ(r("{{ 0 or 'x' }}|{{ 1 and 'y' }}|{{ not [] }}|{{ '' or none }}"), "x|y|True|None");
  EXPECT_EQ(r("{{ 'a' if x else 'b' }}{{ 'c' if not x }}", json{{"x", false}}), "bc");
}

TEST(ChatTemplate, Tests) {
  json v = {{"s", "str"}, {"n", nullptr}, {"d", {{"a", 1}}}, {"l", {1, 2}}, {"i", 3}, {"f", 1.5}};
  EXPECT_EQ(r("{{ s is string }}{{ n is none }}{{ d is mapping }}{{ l is iterable }}{{ q is defined }}"
              "{{ q is undefined }}{{ i is integer }}{{ f is float }}{{ i is number }}{{ n is not none }}",
              v),
            "TrueTrueTrueTrueFalseTrueTrueTrueTrueFalse");
  EXPECT_EQ(r("{{ i is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ d.a is defined }}{{ d.b is defined }}", v),
            "TrueTrueTrueTrueFalse");
}

TEST(ChatTemplate, IndexingSlicingAttributes) {
  json v = {{"m", {{"role", "user"}, {"content", "héllo"}}}, {"l", {1, 2, 3, 4}}};
  EXPECT_EQ(r("{{ m.role }}{{ m['content'] }}{{ m.missing }}{{ l[-1] }}{{ l[1:3] }}{{ l[::-1] }}{{ l[::2] }}", v),
            "userhéllo4[2, 3][4, 3, 2, 1][1, 3]");
  EXPECT_EQ(r("{{ m.content[1:3] }}{{ m.content[-1] }}{{ m.content|length }}{{ m.get('x', 'dflt') }}", v),
            "élo5dflt");
  EXPECT_EQ(r("{% for k, x in m.items() %}{{ k }}={{ x }};{% endfor %}{{ m.keys()|list }}", v),
            "role=user;content=héllo;['role', 'content']");
}

TEST(ChatTemplate, StringMethods) {
  EXPECT_EQ(r("{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '\\n\\na'.lstrip('\\n') }}|{{ 'a  '.rstrip() }}"),
            "a b|a|a|a");
  EXPECT_EQ(r("{{ 'a<b>c'.split('<b>') }}{{ ' a  b '.split() }}{{ 'a,b,c'.split(',', 1) }}"),
            "['a', 'c']['a', 'b']['a', 'b,c']");
  EXPECT_EQ(r("{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}{{ 'aXa'.replace('a', 'b') }}"),
            "TrueTruebXb");
  EXPECT_EQ(r("{{ 'hello world'.title() }}|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}|{{ 'á'.upper() }}"),
            "Hello World|ABab|Á");
}

TEST(ChatTemplate, Filters) {
  json v = {{"msgs", {{{"role", "user"}, {"c", "x"}}, {{"role", "bot"}, {"c", "y"}}}}};
  EXPECT_EQ(r("{{ '  x  '|trim }}|{{ 'ab'|upper }}|{{ 'AB'|lower }}|{{ q|default('d') }}|{{ [1, 2]|join('-') }}"),
            "x|AB|ab|d|1-2");
  EXPECT_EQ(r("{{ [1, 2]|first }}{{ [1, 2]|last }}{{ 5|string }}{{ '7'|int + 1 }}{{ 'abc'|list }}"),
            "1258['a', 'b', 'c']");
  EXPECT_EQ(r("{{ 'a-b'|replace('-', '+') }}|{{ 'hELLO'|capitalize }}|{{ 'hi there-you'|title }}"),
            "a+b|Hello|Hi There-You");
  EXPECT_EQ(r("{{ msgs|map(attribute='role')|join(',') }}|{{ msgs|selectattr('role', 'equalto', 'bot')|list|length }}"
              "|{{ msgs|rejectattr('role', 'eq', 'bot')|map(attribute='c')|first }}|{{ [1, 2, 3]|select('odd')|list }}",
              v),
            "user,bot|1|x|[1, 3]");
  EXPECT_EQ(r("{% for k, v in {'a': 1}|items %}{{ k }}{{ v }}{% endfor %}"), "a1");
}

TEST(ChatTemplate, ToJsonIsHfs) {
  json v = {{"x", {{"b", 1}, {"a", {1.5, "é\n\"", nullptr, true}}}}};
  EXPECT_EQ(r("{{ x|tojson }}", v), "{\"b\": 1, \"a\": [1.5, \"é\\n\\\"\", null, true]}");
  EXPECT_EQ(r("{{ x|tojson(indent=2) }}", v),
            "{\n  \"b\": 1,\n  \"a\": [\n    1.5,\n    \"é\\n\\\"\",\n    null,\n    true\n  ]\n}");
  EXPECT_EQ(r("{{ {}|tojson }}{{ []|tojson(indent=4) }}"), "{}[]");
}

TEST(ChatTemplate, SetNamespaceAndScopes) {
  EXPECT_EQ(r("{% set y = 1 %}{% for x in [1, 2] %}{% set y = y + 1 %}{{ y }}{% endfor %}{{ y }}"), "221");
  EXPECT_EQ(r("{% set ns = namespace(n=0) %}{% for x in [1, 2, 3] %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}"), "6");
  EXPECT_EQ(r("{% for x in [1, 2, 3] %}{% if loop.first %}{% set y = 5 %}{% endif %}[{{ y }}]{% endfor %}"), "[5][][]");
  EXPECT_EQ(r("{% set a, b = [1, 2] %}{{ b }}{{ a }}{% set c %}x{{ a }}{% endset %}{{ c }}"), "21x1");
}

TEST(ChatTemplate, ForLoops) {
  EXPECT_EQ(r("{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.length }}"
              "{{ 'F' if loop.first }}{{ 'L' if loop.last }} {% endfor %}"),
            "1033F 2123 3213L ");
  EXPECT_EQ(r("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(r("{% for x in [1, 2, 3, 4] if x is even %}{{ x }}/{{ loop.length }} {% endfor %}"), "2/2 4/2 ");
  EXPECT_EQ(r("{% for x in [1, 2, 3, 4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}"
              "{% endif %}{{ x }}{% endfor %}"),
            "13");
  EXPECT_EQ(r("{% for x in [1, 2, 3] %}{{ loop.cycle('a', 'b') }}{{ loop.previtem }}{% endfor %}"), "ab1a2");
}

TEST(ChatTemplate, IfElifElse) {
  std::string t = "{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %}";
  EXPECT_EQ(r(t, json{{"x", 1}}), "one");
  EXPECT_EQ(r(t, json{{"x", 2}}), "two");
  EXPECT_EQ(r(t, json{{"x", 3}}), "many");
}

TEST(ChatTemplate, Macros) {
  EXPECT_EQ(r("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
              "{{ greet('Áine') }} {{ greet('Bo', punct='?') }}"),
            "Hi Áine! Hi Bo?");
}

TEST(ChatTemplate, WhitespaceControlAndHfSettings) {
  // trim_blocks drops the newline after a block tag; lstrip_blocks the indent before it.
  EXPECT_EQ(r("  {% if true %}\n  x\n  {% endif %}\n  {{ 1 }}  \n{# c #}\nz"), "  x\n  1  \nz");
  EXPECT_EQ(r("a  {%- if true -%}  b  {%- endif %}\n"), "ab");
  EXPECT_EQ(r("a\n  {{- 'b' -}}  \nc"), "abc");
  EXPECT_EQ(r("{% raw %}{{ not parsed }}{% endraw %}"), "{{ not parsed }}");
  EXPECT_EQ(r("x\r\ny\n"), "x\ny");  // newlines normalised, one trailing newline dropped
  EXPECT_EQ(r("  {%+ if true %}\nx\n  {% endif +%}\ny\n"), "  x\n\ny");  // + keeps what HF strips
}

TEST(ChatTemplate, GenerationBlockRendersItsBody) {
  // HF's {% generation %} marks assistant text for masks; rendering keeps the body.
  EXPECT_EQ(r("a{% generation %}b{{ 1 }}{% endgeneration %}c"), "ab1c");
}

TEST(ChatTemplate, Globals) {
  json msgs = json::array({{{"role", "user"}, {"content", "hi"}}});
  ChatRenderOptions o;
  o.bos_token = "<s>";
  o.add_generation_prompt = true;
  EXPECT_EQ(render_chat("{{ bos_token }}{{ messages[0].content }}{{ add_generation_prompt }}{{ tools }}{{ range(3)|list }}",
                        msgs, o),
            "<s>hiTrueNone[0, 1, 2]");
}

TEST(ChatTemplate, DefaultTemplateIsChatMl) {
  json msgs = json::array({{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Dia duit"}}});
  ChatRenderOptions o;
  o.add_generation_prompt = true;
  EXPECT_EQ(render_chat(nlm::data::chat_template::default_chat_template(), msgs, o),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nDia duit<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(nlm::data::chat_template::chat_template_of(json::object()), nlm::data::chat_template::default_chat_template());
  EXPECT_EQ(nlm::data::chat_template::chat_template_of(json{{"chat_template", "x"}}), "x");
  json named = {{"chat_template", json::array({{{"name", "tool_use"}, {"template", "T"}}, {{"name", "default"}, {"template", "D"}}})}};
  EXPECT_EQ(nlm::data::chat_template::chat_template_of(named), "D");
  EXPECT_EQ(nlm::data::chat_template::chat_template_of(named, true), "T");
}

TEST(ChatTemplate, ModelFolderTemplateAndTokens) {
  using nlm::data::chat_template::load_model_chat_template;
  nlm::testing::TempDir dir;
  auto t = load_model_chat_template(dir.path());  // nothing there: ChatML, no tokens
  EXPECT_EQ(t.source, nlm::data::chat_template::default_chat_template());
  EXPECT_EQ(t.bos_token, "");
  nlm::testing::write_text(dir.file("tokenizer_config.json"),
                           R"({"bos_token": {"__type": "AddedToken", "content": "<B>"}, "eos_token": "<E>",
                               "chat_template": "{{ bos_token }}x"})");
  t = load_model_chat_template(dir.path());
  EXPECT_EQ(t.source, "{{ bos_token }}x");
  EXPECT_EQ(t.bos_token, "<B>");
  EXPECT_EQ(t.eos_token, "<E>");
  nlm::testing::write_text(dir.file("chat_template.jinja"), "from file");  // wins over the config
  EXPECT_EQ(load_model_chat_template(dir.path()).source, "from file");
  nlm::testing::write_text(dir.file("tokenizer_config.json"), "{not json");
  EXPECT_THROW(load_model_chat_template(dir.path()), nlm::Error);
}

TEST(ChatTemplate, ErrorsNameTheLine) {
  EXPECT_NE(error_of("a\n{% if x %}\nb").find("template line 2"), std::string::npos);
  EXPECT_NE(error_of("a\n{% if x %}\nb").find("unclosed 'if'"), std::string::npos);
  EXPECT_NE(error_of("\n\n{{ x|nosuchfilter }}").find("unknown filter 'nosuchfilter' (template line 3)"), std::string::npos);
  EXPECT_NE(error_of("{{ x is nosuchtest }}").find("unknown test"), std::string::npos);
  EXPECT_NE(error_of("a\n{{ raise_exception('roles must alternate') }}").find("roles must alternate (template line 2)"),
            std::string::npos);
  EXPECT_NE(error_of("{% include 'x' %}").find("unsupported tag"), std::string::npos);
  EXPECT_NE(error_of("{{ x.y }}").find("undefined"), std::string::npos);
  EXPECT_NE(error_of("{{ 1 + 'a' }}").find("unsupported operand"), std::string::npos);
  EXPECT_NE(error_of("{% endfor %}").find("unexpected"), std::string::npos);
  EXPECT_NE(error_of("{{ 'a' }").find("unclosed tag"), std::string::npos);
  EXPECT_NE(error_of("{# open").find("unclosed comment"), std::string::npos);
  EXPECT_NE(error_of("{{ '%s' % 1 }}").find("not supported"), std::string::npos);
  EXPECT_NE(error_of("a\n{{ {'k': 1}.items }}").find("cannot print the function 'dict.items' (call it with ()) (template line 2)"),
            std::string::npos);
  EXPECT_NE(error_of("{% set ns = namespace() %}\n{% set x = [ns.a, 'a'.upper]|join %}").find("template line 2"),
            std::string::npos);
}

}  // namespace
