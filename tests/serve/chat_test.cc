// `nativelm chat` with piped stdin on a tiny model: greedy answers equal `nativelm generate` on
// the same rendered history token for token, history is kept and /reset clears it, long
// conversations lose their oldest exchanges with a note, and bad lines are skipped, not fatal.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <csignal>
#include <sstream>

#include "data/chat_template/chat_template.h"
#include "data/chat_template/model_template.h"
#include "serve/chat.h"
#include "serve/engine.h"
#include "serve/options.h"
#include "serve_fixture.h"

namespace nlm::testing {
namespace {

namespace ct = data::chat_template;
using ojson = nlohmann::ordered_json;

class Chat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    write_tiny_model(dir_->file("model"));
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string model() { return dir_->file("model"); }

  // `nativelm chat` on `input` (written to a file and piped in).
  RunResult chat(const std::string& input, const std::string& flags) {
    write_text(scratch_.file("in.txt"), input);
    return run_nativelm("chat " + model() + " " + flags + " <" + scratch_.file("in.txt"), scratch_.path());
  }
  // The folder's template applied to `messages` with the generation prompt, independently of chat.
  static std::string render(const ojson& messages) {
    auto t = ct::load_model_chat_template(model());
    ct::ChatRenderOptions o;
    o.add_generation_prompt = true;
    o.bos_token = t.bos_token;
    o.eos_token = t.eos_token;
    return ct::render_chat(t.source, messages, o);
  }
  // `nativelm generate`'s greedy continuation of `prompt` (it echoes the prompt, then a newline).
  std::string generate(const std::string& prompt, int max_tokens) {
    write_text(scratch_.file("prompt.txt"), prompt);
    auto r = run_nativelm("generate -m " + model() + " --no-bos --temperature 0 --max-new-tokens " +
                              std::to_string(max_tokens) + " <" + scratch_.file("prompt.txt"),
                          scratch_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind(prompt, 0), 0u);
    if (r.out.size() < prompt.size() + 1) return {};
    return r.out.substr(prompt.size(), r.out.size() - prompt.size() - 1);
  }
  TempDir scratch_;
  static TempDir* dir_;
};
TempDir* Chat::dir_ = nullptr;

const std::string kIrish = "Conas atá tú inniu?";
const std::string kThai = "วันนี้อากาศดีไหม";
const std::string kCantonese = "你食咗飯未呀？";

TEST_F(Chat, GreedyAnswersEqualGenerateOnTheRenderedHistory) {
  auto r = chat(kIrish + "\n" + kThai + "\n" + kCantonese + "\n", "--temperature 0 --max-new-tokens 12 --show-prompt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ojson messages = ojson::array();
  std::string expected;
  std::vector<std::string> prompts;
  for (const auto& user : {kIrish, kThai, kCantonese}) {
    messages.push_back({{"role", "user"}, {"content", user}});
    std::string prompt = render(messages);
    prompts.push_back(prompt);
    std::string answer = generate(prompt, 12);
    expected += answer + "\n";
    messages.push_back({{"role", "assistant"}, {"content", answer}});
  }
  EXPECT_NE(expected, "\n\n\n");  // the tiny model says something, so the comparison means something
  EXPECT_EQ(r.out, expected);    // no prompt decoration when stdin is not a terminal
  // Each turn's prompt (shown on stderr) is the whole conversation so far: turn 2 holds answer 1.
  for (const auto& p : prompts) EXPECT_NE(r.err.find(p), std::string::npos) << p << "\n---\n" << r.err;
  EXPECT_NE(prompts[1].find(messages[1]["content"].get<std::string>() + "<|im_end|>"), std::string::npos);
  EXPECT_EQ(r.err.find("dropped"), std::string::npos);
}

TEST_F(Chat, ResetClearsHistoryAndQuitEnds) {
  auto r = chat(kIrish + "\n/reset\n" + kThai + "\n/quit\n" + kCantonese + "\n",
                "--temperature 0 --max-new-tokens 8 --show-prompt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string first = render(ojson::array({{{"role", "user"}, {"content", kIrish}}}));
  std::string second = render(ojson::array({{{"role", "user"}, {"content", kThai}}}));
  EXPECT_EQ(r.out, generate(first, 8) + "\n" + generate(second, 8) + "\n");
  size_t at = r.err.find(second);
  ASSERT_NE(at, std::string::npos) << r.err;  // after /reset the prompt is the new message alone
  EXPECT_EQ(r.err.find(kCantonese), std::string::npos);  // nothing after /quit
}

TEST_F(Chat, SystemPromptFromFlagAndCommand) {
  auto r = chat(kIrish + "\n/system Freagair go gearr.\n" + kThai + "\n",
                "--temperature 0 --max-new-tokens 4 --show-prompt --system 'Is cúntóir thú.'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("<|im_start|>system\nIs cúntóir thú.<|im_end|>\n<|im_start|>user\n" + kIrish), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("<|im_start|>system\nFreagair go gearr.<|im_end|>\n<|im_start|>user\n" + kIrish),
            std::string::npos)
      << r.err;
}

TEST_F(Chat, InvalidUtf8LineIsSkippedWithAMessage) {
  auto r = chat("caf\xc3\n\xff\xfe\n" + kIrish + "\n", "--temperature 0 --max-new-tokens 4");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("line 1 is not valid UTF-8; skipped"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 2 is not valid UTF-8; skipped"), std::string::npos) << r.err;
  std::string prompt = render(ojson::array({{{"role", "user"}, {"content", kIrish}}}));
  EXPECT_EQ(r.out, generate(prompt, 4) + "\n");
}

TEST_F(Chat, OverlongHistoryDropsOldestExchangesWithANote) {
  // Context 256, room for 100 new tokens: a prompt may hold 156 tokens. Each line is ~90 bytes
  // (byte-level tokens), so any two of them do not fit together but each fits alone.
  std::string a(90, 'a'), b(90, 'b'), c(90, 'c');
  auto r = chat(a + "\n" + b + "\n" + c + "\n", "--temperature 0 --max-new-tokens 100 --show-prompt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("dropped the oldest 1 exchange to fit the context of 256 tokens"), std::string::npos)
      << r.err;
  std::string last = render(ojson::array({{{"role", "user"}, {"content", c}}}));
  EXPECT_NE(r.err.find(last), std::string::npos) << r.err;  // turn 3 is the new line alone
  size_t n = 0;
  for (char ch : r.out) n += ch == '\n';
  EXPECT_GE(n, 3u);  // all three answered
}

TEST_F(Chat, LineTooLongForTheContextIsSkipped) {
  auto r = chat(std::string(400, 'x') + "\n" + kIrish + "\n", "--temperature 0 --max-new-tokens 4");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("line 1 is too long for the context"), std::string::npos) << r.err;
  std::string prompt = render(ojson::array({{{"role", "user"}, {"content", kIrish}}}));
  EXPECT_EQ(r.out, generate(prompt, 4) + "\n");
}

TEST_F(Chat, SessionDropsOldestPairsAndKeepsTheRest) {
  serve::ServeOptions so;
  so.model_dir = model();
  serve::Engine engine(so);
  serve::ChatSession s(engine, "sys", 100);
  s.add_exchange("u1", "a1");
  s.add_exchange("u2", "a2");
  auto p = s.prompt_for("u3");
  EXPECT_EQ(p.dropped, 0);
  EXPECT_TRUE(p.fits);
  EXPECT_EQ(p.text, render(s.messages("u3")));
  EXPECT_NE(p.text.find("<|im_start|>assistant\na1<|im_end|>"), std::string::npos);
  s.add_exchange(std::string(60, 'x'), std::string(60, 'y'));
  p = s.prompt_for(std::string(60, 'z'));  // 180+ tokens of history: the two short pairs and the long one go
  EXPECT_GE(p.dropped, 1);
  EXPECT_TRUE(p.fits);
  EXPECT_LE(static_cast<int64_t>(p.ids.size()), engine.context_length() - 100);
  EXPECT_EQ(p.text.find("u1"), std::string::npos);
  EXPECT_NE(p.text.find("sys"), std::string::npos);  // the system prompt is never dropped
  EXPECT_EQ(s.exchanges(), 3u - p.dropped);
  size_t kept = s.exchanges();
  s.add_exchange("u5", "a5");
  p = s.prompt_for(std::string(300, 'w'));  // too long alone: skipped, and the history stays
  EXPECT_FALSE(p.fits);
  EXPECT_EQ(p.dropped, 0);
  EXPECT_EQ(s.exchanges(), kept + 1);
  s.reset();
  EXPECT_EQ(s.exchanges(), 0u);
  EXPECT_EQ(s.prompt_for("u4").text, render(ojson::array({{{"role", "system"}, {"content", "sys"}},
                                                           {{"role", "user"}, {"content", "u4"}}})));
}

TEST_F(Chat, TerminalShowsAPromptBeforeEachLine) {
  serve::ChatOptions o;
  o.model_dir = model();
  o.sampling.temperature = 0;
  o.sampling.max_tokens = 4;
  std::istringstream in(kIrish + "\n/reset\n");
  std::ostringstream out, err;
  serve::run_chat(o, in, out, err, /*interactive=*/true);
  std::string answer = generate(render(ojson::array({{{"role", "user"}, {"content", kIrish}}})), 4);
  EXPECT_EQ(out.str(), "> " + answer + "\n> > \n");  // and a newline at EOF, as after Ctrl-D
  EXPECT_NE(err.str().find("/reset, /system TEXT, /quit"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("history cleared"), std::string::npos) << err.str();
}

// Raises SIGINT while the first piece of an answer is written, as Ctrl-C during generation.
class InterruptOnFirstAnswer : public std::stringbuf {
 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    auto r = std::stringbuf::xsputn(s, n);
    std::string piece(s, static_cast<size_t>(n));
    if (!raised_ && piece != "> " && piece != "\n") {
      raised_ = true;
      std::raise(SIGINT);
    }
    return r;
  }

 private:
  bool raised_ = false;
};

TEST_F(Chat, CtrlCInATerminalStopsTheAnswerNotTheChat) {
  serve::ChatOptions o;
  o.model_dir = model();
  o.sampling.temperature = 0;
  o.sampling.max_tokens = 16;
  std::istringstream in(kIrish + "\n" + kThai + "\n");
  InterruptOnFirstAnswer buf;
  std::ostream out(&buf);
  std::ostringstream err;
  serve::run_chat(o, in, out, err, /*interactive=*/true);
  ojson messages = ojson::array({{{"role", "user"}, {"content", kIrish}}});
  std::string full = generate(render(messages), 16);
  std::string text = buf.str();
  ASSERT_EQ(text.rfind("> ", 0), 0u);
  std::string partial = text.substr(2, text.find('\n') - 2);
  EXPECT_LT(partial.size(), full.size()) << full;
  EXPECT_EQ(full.rfind(partial, 0), 0u) << partial << " | " << full;
  EXPECT_NE(err.str().find("interrupted"), std::string::npos) << err.str();
  // The chat goes on: the second line is answered on a history holding the partial answer.
  messages.push_back({{"role", "assistant"}, {"content", partial}});
  messages.push_back({{"role", "user"}, {"content", kThai}});
  EXPECT_EQ(text, "> " + partial + "\n> " + generate(render(messages), 16) + "\n> \n");
}

TEST_F(Chat, MissingTemplateFileIsAUsageError) {
  auto r = chat("hi\n", "--chat-template " + scratch_.file("nope.jinja"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--chat-template"), std::string::npos) << r.err;
}

TEST_F(Chat, ChatTemplateFileOverridesTheFolders) {
  write_text(scratch_.file("t.jinja"),
             "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
             "{% if add_generation_prompt %}[assistant] {% endif %}");
  auto r = chat(kIrish + "\n", "--temperature 0 --max-new-tokens 4 --show-prompt --chat-template " +
                                   scratch_.file("t.jinja"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("[user] " + kIrish + "\n[assistant] "), std::string::npos) << r.err;
  EXPECT_EQ(r.out, generate("[user] " + kIrish + "\n[assistant] ", 4) + "\n");
}

}  // namespace
}  // namespace nlm::testing
