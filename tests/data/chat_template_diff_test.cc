// Differential test of single Jinja constructs: each snippet is rendered by nativelm and by
// Jinja2 (HF's settings) with the same variables and must give the same bytes, or both fail.
// Skips when /usr/bin/python3 has no jinja2 (scripts/install-deps.sh installs python3-jinja2).
#include <gtest/gtest.h>

#include "jinja_reference.h"

namespace {

using json = nlohmann::ordered_json;

const char* kSnippets[] = {
    "{{ 1 + 2 * 3 - 4 / 8 }} {{ 7 // -2 }} {{ -7 // 2 }} {{ 7 % -3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }}",
    "{{ 1.5 * 2 }} {{ 10 / 4 }} {{ 1e3 }} {{ 123456789.0 * 1e9 }} {{ 1 / 3 }} {{ 0.0001 }} {{ 2.5e-7 }}",
    "{{ 'a' ~ 1 ~ 2.0 ~ none ~ true ~ [1] ~ {'k': 'v'} }}",
    "{{ \"it's\" }} {{ ['it\\'s', \"q\\\"\"] }} {{ {'a': 'b\\nc'} }}",
    "{{ x }} {{ x|string }} {{ x|tojson }} {{ x|length }}",
    "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ s|trim }}|{{ s.split() }}|{{ s.split(' ') }}",
    "{{ s.upper() }}|{{ s.lower() }}|{{ s.title() }}|{{ s|title }}|{{ s|capitalize }}|{{ s.capitalize() }}",
    "{{ s[0] }}|{{ s[-1] }}|{{ s[1:4] }}|{{ s[::-1] }}|{{ s[::2] }}|{{ s[-3:] }}|{{ s[:-2] }}|{{ s|length }}",
    "{{ s.startswith('D') }}{{ s.endswith(('x', 'n')) }}{{ 'a' in s }}{{ s.replace('a', 'A') }}{{ s.count('a') }}",
    "{{ s.split('a') }}{{ s.split('a', 1) }}{{ s.rsplit('a', 1) }}{{ s.find('a') }}{{ s|replace('a', '') }}",
    "{% for c in s %}{{ loop.index }}{{ c }}{% endfor %}",
    "{{ l }} {{ l|first }} {{ l|last }} {{ l|length }} {{ l[1:] }} {{ l[::-1] }} {{ l|reverse|list }} {{ l|join(', ') }}",
    "{{ l|sort }} {{ l|max }} {{ l|min }} {{ l|sum }} {{ l|unique|list }} {{ l|select('even')|list }} {{ l|reject('odd')|list }}",
    "{{ l|map('string')|join('') }} {{ l|map('abs')|list }} {{ l is iterable }} {{ l is sequence }} {{ l is mapping }}",
    "{{ d }} {{ d|tojson }} {{ d|tojson(indent=2) }} {{ d|items|list }} {{ d.keys()|list }} {{ d.values()|list }}",
    "{{ d.a }} {{ d['b'] }} {{ d.get('zz') }} {{ d.get('a', 5) }} {{ d.zz is defined }} {{ d|length }} {{ 'a' in d }}",
    "{% for k, v in d.items() %}{{ k }}:{{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}",
    "{{ d|tojson(sort_keys=true) }} {{ d|tojson(separators=(',', ':')) }}",
    "{{ ms|map(attribute='role')|list }} {{ ms|selectattr('role', 'equalto', 'user')|list|length }}",
    "{{ ms|rejectattr('role', 'in', ['system'])|map(attribute='content')|join('|') }}",
    "{{ ms|selectattr('content')|list|length }} {{ ms|map(attribute='x', default='-')|list }}",
    "{{ ms[0].role if ms else 'none' }} {{ ms[-1]['content'] }} {{ ms|last|attr('role') }}",
    "{% set ns = namespace(a=1, b='x') %}{% for m in ms %}{% set ns.a = ns.a * 2 %}{% set ns.b = ns.b ~ m.role[0] %}{% endfor %}{{ ns.a }}{{ ns.b }}",
    "{% set t = 0 %}{% for m in ms %}{% set t = t + 1 %}{{ t }}{% endfor %}{{ t }}",
    "{% for m in ms %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }} {% endfor %}",
    "{% for m in ms if m.role != 'system' %}{{ loop.index }}{{ m.role }}{{ loop.length }}{% else %}empty{% endfor %}",
    "{% for m in ms %}{% if loop.index > 2 %}{% break %}{% endif %}{{ m.role }}{% endfor %}",
    "{% for m in ms %}{% for x in [1, 2] %}{{ loop.index }}{% endfor %}{{ loop.index }}{% endfor %}",
    "{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %} {% for x in range(2, 10, 3) %}{{ x }}{% endfor %}",
    "{% if x is none %}N{% elif x is string %}S{% elif x is number %}#{% elif x is mapping %}M{% else %}O{% endif %}",
    "{{ x is defined }}{{ y is defined }}{{ y is undefined }}{{ y|default('dflt') }}{{ ''|default('e', true) }}{{ x|default('z') }}",
    "{{ x is true }}{{ x is false }}{{ x is boolean }}{{ x is integer }}{{ x is float }}{{ x is callable }}",
    "{{ x == 1 }}{{ x != 1 }}{{ x is eq 1 }}{{ x is ne 1 }}{{ x is sameas none }}",
    "{{ 'yes' if x else 'no' }}{{ 'only' if x }}{{ x and 'and' }}{{ x or 'or' }}{{ not x }}",
    "{% macro row(a, b='B', c=none) %}[{{ a }}|{{ b }}|{{ c }}]{% endmacro %}{{ row(1) }}{{ row(1, 2) }}{{ row(1, c=3) }}",
    "{% macro m(x) %}{% if x > 0 %}{{ x }}{{ m(x - 1) }}{% endif %}{% endmacro %}{{ m(3) }}",
    "{% set c %}cap{{ 1 + 1 }}{% endset %}{{ c }}{{ c|length }}",
    "  {% if true %}\n    A\n  {% endif %}\n  B\n{% for i in [1, 2] %}\n  {{ i }}\n{% endfor %}\n",
    "a {%- if true -%} b {%- endif -%} c\n  {{- ' d ' -}}\n  e {# comment #}\n  {#- c2 -#}  f",
    "{% raw %}  {{ x }} {% if %}{% endraw %}\n{%- raw -%}  y  {%- endraw -%}  z",
    "line1\r\nline2\r{{ 'x' }}\n\n",
    // Shapes that tool-calling templates use.
    "{{ ['brave_search', 'wolfram', 'code_interpreter']|reject('equalto', 'code_interpreter')|join(', ') }}",
    "{% for k, v in d|items %}{{ k }}={{ v|tojson }}{{ ', ' if not loop.last }}{% endfor %}",
    "{% macro ty(s) %}{% set m = {'string': 'str', 'integer': 'int', 'number': 'float'} %}"
    "{% if s is mapping and s.type == 'array' %}List[{{ ty(s['items']) }}]{% elif s is mapping and s.type in m %}"
    "{{ m[s.type] }}{% elif s is mapping %}Any{% else %}{{ s }}{% endif %}{% endmacro %}"
    "{{ ty({'type': 'array', 'items': {'type': 'integer'}}) }} {{ ty({'type': 'string'}) }} {{ ty(x) }}",
    "{{ d|tojson(indent=4) }}{{ ms[0]|tojson(indent=2, ensure_ascii=false) }}",
    "{{ (ms|length - 1) }}{{ ms[1:]|length }}{{ ms[:1][0].role if ms }}{{ d.get('a')|default('') }}{{ x.type|default('') }}",
    "{% set ns = namespace(found=false) %}{% for m in ms %}{% if m.role == 'system' %}{% set ns.found = true %}{% endif %}"
    "{% endfor %}{{ ns.found }}{{ s.split('\\n')|length }}{{ s|wordcount if false else '' }}",
    "a\u3000\u00a0 {%- if 1 -%} \u3000b\n\u3000{% if 1 %}c{% endif %}\n{{\u3000'd'\u3000}}{% endif %}",
    "{% set ns = namespace(a=1, s='x') %}{{ ns }}{% set ns.me = ns %}{{ ns }}|{{ [ns.a] }}|{{ ns|tojson }}",
    "{% macro f() %}{{ z }}{{ x }}{% endmacro %}{% set z = 3 %}{{ f() }}{% for x in [9] %}{{ f() }}{% endfor %}",
    "{% for m in ms %}{% set q = loop.index %}{% endfor %}{{ q }}|{% if true %}{% set w = 1 %}{% endif %}{{ w }}",
    "{% for m in ms %}{{ loop.previtem is defined }}{{ loop.nextitem.role if loop.nextitem is defined }};{% endfor %}",
    "{{ ms|selectattr('role', 'equalto', 'system')|list }}{{ ms|map(attribute='role')|unique|list }}",
    "{{ '3.7'|int }}{{ 'x'|int }}{{ 'x'|int(5) }}{{ '12'|float }}{{ 10000000000000000.0 }}{{ 123456789012345678 }}",
    "{% raw %}\nabc\n  {% endraw %}\nz|a\n  {% raw -%}\n  abc  {%- endraw %}\nz|{#- c #}\n  {# d -#}  x|{{ x }}  {% if 1 %}y{% endif %}",
    "{%+ if true %}\n  x\n{% endif +%}\n+\n{% if true -%}\n  y\n{%- endif %}",
    "{{ 'ä'|upper }}{{ 'ÉIRE'|lower }}{{ 'ß'|upper }}{{ 'ǆemal'|title }}{{ 'ﬁx'.upper() }}",
    "{{ '\\u3000 x \\u00a0'|trim }}|{{ '\\u3000a\\u3000b'.split() }}|{{ 'x\\u2028y'.split() }}",
    "{{ [3, 1, 2]|sort(reverse=true) }}{{ ['b', 'A', 'c']|sort }}{{ ['b', 'A', 'c']|sort(case_sensitive=true) }}",
    "{{ 'a\\nb\\n'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}|{{ '<&>'|e }}|{{ 3.7|int }}|{{ '4.5'|float }}|{{ -3|abs }}",
    "{{ [1, 2] + [3] }}{{ 'ab' * 2 }}{{ 2 * 'ab' }}{{ [0] * 3 }}{{ (1, 2) }}{{ () }}",
    "{{ x.y }}",
    "{{ y.z }}",
    "{{ x + 'a' }}",
    "{{ raise_exception('bad: ' ~ x) }}",
    "{{ ms[10] }}|{{ ms[10] is defined }}|{{ s[100] is defined }}",
    "{% for m in none %}{% endfor %}",
    "{{ {'a': 1, 'b': [1, {'c': none}]}|tojson(indent=3) }}",
    "{{ [1, 'é', '\\u0001\\t\\\\', 1.0, 1e100, -0.0, true]|tojson }}",
    "{{ 1 if x is not none and x is not string and x is iterable else 2 }}",
    "{% if not x is defined %}nd{% endif %}{% if not (x is defined) %}nd2{% endif %}",
    "{{ 'a' if 1 else 'b' if 0 else 'c' }}{{ (1 if 0) is defined }}",
    "{{ 'x'|join }}{{ [1, [2, 3]]|list }}{{ d|list }}{{ 'abc'|first }}{{ 'abc'|last }}{{ []|first is defined }}",
};

std::vector<json> variable_sets() {
  json ms = json::array({{{"role", "system"}, {"content", "Bí cabhrach."}},
                         {{"role", "user"}, {"content", "Dia duit, a chara!"}},
                         {{"role", "assistant"}, {"content", "สวัสดีครับ"}},
                         {{"role", "user"}, {"content", ""}}});
  json d = {{"b", 2}, {"a", 1.5}, {"c", {{"x", nullptr}, {"é", {true, false}}}}, {"A", "\"q\""}};
  std::vector<json> out;
  for (json x : {json(1), json(0), json(nullptr), json("téx"), json(true), json(2.5), json::array({1, "a"}), d}) {
    out.push_back({{"x", x}, {"s", "  Dia duit, a chara! Ní\tféidir  "}, {"l", {3, 1, 2, 2, -4}}, {"d", d}, {"ms", ms}});
  }
  out.push_back({{"x", 7}, {"s", "你好，今日天氣幾好呀。"}, {"l", json::array()}, {"d", json::object()}, {"ms", json::array()}});
  out.push_back({{"x", "a"}, {"s", "สวัสดี ครับ\n"}, {"l", {1.5, 2}}, {"d", {{"k", "v"}}}, {"ms", ms}});
  return out;
}

TEST(ChatTemplateDiff, ConstructsMatchJinja2) {
  if (!nlm::testing::have_jinja2())
    GTEST_SKIP() << "/usr/bin/python3 has no jinja2; run scripts/install-deps.sh (installs python3-jinja2)";
  std::vector<json> cases;
  for (const char* t : kSnippets)
    for (auto& vars : variable_sets())
      cases.push_back({{"template", t}, {"messages", json::array()}, {"extra", vars}, {"bos_token", "<s>"}});
  auto want = nlm::testing::jinja_reference(cases);
  size_t rendered = 0;
  for (auto& w : want) rendered += w["ok"].get<bool>();
  size_t diffs = nlm::testing::count_differences(cases, want, "snippet");
  EXPECT_EQ(diffs, 0u) << "of " << cases.size() << " snippet renders";
  // Most snippets must render (the few error cases are deliberate), or they prove little.
  EXPECT_GE(rendered, cases.size() * 8 / 10);
  std::printf("[ constructs ] %zu snippet renders (%zu rendered, %zu errors) identical to Jinja2: %s\n", cases.size(),
              rendered, cases.size() - rendered, diffs == 0 ? "yes" : "no");
}

}  // namespace
