// Code masking and placeholder extraction for `synth translate`: fenced blocks and inline code
// become markers and come back byte for byte, a lost, repeated or altered marker is caught, and
// the placeholders of real-looking instructions are found without taking prose for them.
#include <gtest/gtest.h>

#include "synth/translate_text.h"

namespace nlm::synth {
namespace {

using V = std::vector<std::string>;

const std::string kPython =
    "Write a function that reverses a string, then explain `s[::-1]`.\n\n"
    "```python\ndef rev(s):\n    return s[::-1]  # {not a placeholder}\n```\n\n"
    "Call it as `rev(\"abc\")` and print the result with `%s`.";

TEST(TranslateText, FencedBlocksAndInlineCodeAreMaskedAndRestored) {
  const MaskedText m = mask_code(kPython);
  ASSERT_EQ(m.spans.size(), 4u);
  EXPECT_EQ(m.spans[0], "`s[::-1]`");
  EXPECT_EQ(m.spans[1], "```python\ndef rev(s):\n    return s[::-1]  # {not a placeholder}\n```");
  EXPECT_EQ(m.spans[2], "`rev(\"abc\")`");
  EXPECT_EQ(m.spans[3], "`%s`");
  EXPECT_EQ(m.text,
            "Write a function that reverses a string, then explain [[CODE_1]].\n\n[[CODE_2]]\n\n"
            "Call it as [[CODE_3]] and print the result with [[CODE_4]].");
  EXPECT_TRUE(placeholders(m.text).empty());  // the code's braces and %s never reach the check
  EXPECT_EQ(unmask(m.text, m), kPython);
  // A translation that moves the markers is fine; one that loses, repeats, renumbers or edits one is not.
  const std::string eu =
      "Idatzi kate bat alderantzikatzen duen funtzio bat, eta azaldu [[CODE_1]].\n\n[[CODE_2]]\n\n"
      "Deitu [[CODE_3]] bezala eta inprimatu emaitza [[CODE_4]] erabiliz.";
  auto back = unmask(eu, m);
  ASSERT_TRUE(back);
  EXPECT_NE(back->find(m.spans[1]), std::string::npos);
  EXPECT_FALSE(unmask("Idatzi funtzio bat [[CODE_1]]. [[CODE_3]] [[CODE_4]]", m));
  EXPECT_FALSE(unmask(eu + " [[CODE_2]]", m));
  EXPECT_FALSE(unmask(eu + " [[CODE_5]]", m));
  EXPECT_FALSE(unmask("[[CODE_1]] [[CODE_2]] [[CODE_3]] [[CODE_4 ]]", m));
  EXPECT_TRUE(has_prose(m));
}

TEST(TranslateText, EdgeCasesOfFences) {
  // An unclosed fence runs to the end; a tilde fence needs a tilde close; an unmatched backtick is text.
  MaskedText m = mask_code("Run:\n~~~\nls -l\n```\nstill code\n");
  ASSERT_EQ(m.spans.size(), 1u);
  EXPECT_EQ(m.text, "Run:\n[[CODE_1]]");
  m = mask_code("Use ``a`b`` here.");
  ASSERT_EQ(m.spans.size(), 1u);
  EXPECT_EQ(m.spans[0], "``a`b``");
  EXPECT_EQ(m.text, "Use [[CODE_1]] here.");
  m = mask_code("It costs 5` only.");
  EXPECT_TRUE(m.spans.empty());
  EXPECT_EQ(m.text, "It costs 5` only.");
  // Code only: nothing to translate.
  m = mask_code("```sh\nmake -j2\n```");
  EXPECT_FALSE(has_prose(m));
  EXPECT_FALSE(has_prose(mask_code("")));
  // Text that already holds the marker stem gets another one.
  m = mask_code("Keep [[CODE_1]] and `x` apart.");
  EXPECT_EQ(m.stem, "CODE0_");
  EXPECT_EQ(unmask("Gorde [[CODE_1]] eta [[CODE0_1]] bereiz.", m), "Gorde [[CODE_1]] eta `x` bereiz.");
  // Invalid UTF-8 passes through untouched.
  m = mask_code("caf\xc3 `x` \xff");
  EXPECT_EQ(unmask(m.text, m), "caf\xc3 `x` \xff");
}

TEST(TranslateText, PlaceholdersAndUrls) {
  EXPECT_EQ(placeholders("Hello {name}, you have {0} new {count:>3} messages {}."),
            (V{"{0}", "{count:>3}", "{name}", "{}"}));
  EXPECT_EQ(placeholders("Dear {{ user.name }}, see {{var}}"), (V{"{{ user.name }}", "{{var}}"}));
  EXPECT_EQ(placeholders("%s of %d files (%1$d, %-5.2f, %(name)s, 100%%)"),
            (V{"%%", "%(name)s", "%1$d", "%1$s", "%2$d", "%3$-5.2f"}));
  // Reordered by position, as gettext translators do (a real dpkg message and its Basque).
  EXPECT_EQ(placeholders("control file '%s' for package '%s' is missing final newline"),
            placeholders("'%2$s' paketearen '%1$s' kontrol-fitxategiak amaierako lerro-jauzia falta du"));
  EXPECT_NE(placeholders("control file '%s' for package '%d'"), placeholders("'%2$s' paketearen '%1$d'"));
  EXPECT_NE(placeholders("error opening '%s'"), placeholders("errorea '%.255s' irekitzean"));
  // Prose percent signs are not placeholders: "50% of", Basque "%50eko", "100%." .
  EXPECT_TRUE(placeholders("Only 50% of users, %50eko jaitsiera, 100%.").empty());
  EXPECT_EQ(placeholders("See https://example.org/a?b=1, or (www.gnu.org/licenses). Done."),
            (V{"https://example.org/a?b=1", "www.gnu.org/licenses"}));
  EXPECT_TRUE(placeholders("A JSON object {\"a\": 1} and a set {1, 2}").empty());
  // A changed or lost placeholder shows as a different multiset.
  EXPECT_NE(placeholders("Kaixo {name}!"), placeholders("Kaixo {izena}!"));
  EXPECT_NE(placeholders("%s eta %s"), placeholders("%s eta"));
}

TEST(TranslateText, RealEnglishInstructions) {
  // Real-looking instructions from a chat set, as translate sees them.
  const std::string gettext =
      "Translate this gettext message into Irish, keeping the format: `msgid \"%d file deleted\"`. The "
      "plural form uses %d too, and the program prints it with printf(\"%s\\n\", msg).";
  MaskedText m = mask_code(gettext);
  EXPECT_EQ(m.spans.size(), 1u);
  EXPECT_EQ(placeholders(m.text), (V{"%1$d", "%2$s"}));
  const std::string jinja =
      "Fill in the template so that {{ title }} appears in bold and {author} after it; the docs are at "
      "https://jinja.palletsprojects.com/templates/.";
  EXPECT_EQ(placeholders(mask_code(jinja).text),
            (V{"https://jinja.palletsprojects.com/templates/", "{author}", "{{ title }}"}));
}

}  // namespace
}  // namespace nlm::synth
