// The chat session and `nativelm chat`'s loop (see chat.h).
#include "serve/chat.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>

#include "core/atomic_file.h"
#include "core/options.h"
#include "serve/api_error.h"
#include "serve/engine.h"
#include "serve/options.h"
#include "text/utf8.h"

namespace nlm::serve {

void declare(opt::Schema& s, ChatOptions& o) {
  s.add("model", o.model_dir, "HF model folder (config.json, safetensors, tokenizer.json)").no_yaml().no_json();
  s.add("chat_template", o.chat_template, "Jinja chat template file used instead of the model folder's");
  s.add("system", o.system, "System prompt (change it in the chat with /system TEXT)");
  model::declare(s, o.sampling);
  s.add("show_prompt", o.show_prompt, "Print each turn's rendered prompt on stderr").no_yaml().no_json();
  s.add("device", o.device, "Compute device: cpu, or cuda / cuda:N in builds with CUDA");
  s.check([&o] {
    if (!o.chat_template.empty() && !std::filesystem::is_regular_file(o.chat_template))
      opt::fail("chat_template", "is not a readable file: " + o.chat_template, "give a Jinja template file");
  });
}

ChatSession::ChatSession(Engine& engine, std::string system, int answer_room)
    : engine_(engine), system_(std::move(system)), answer_room_(std::max(answer_room, 1)) {}

nlohmann::ordered_json ChatSession::messages(const std::string& user) const { return messages(history_, user); }

nlohmann::ordered_json ChatSession::messages(const std::vector<std::string>& history, const std::string& user) const {
  auto m = nlohmann::ordered_json::array();
  if (!system_.empty()) m.push_back({{"role", "system"}, {"content", system_}});
  for (size_t i = 0; i < history.size(); ++i)
    m.push_back({{"role", i % 2 == 0 ? "user" : "assistant"}, {"content", history[i]}});
  m.push_back({{"role", "user"}, {"content", user}});
  return m;
}

ChatSession::Prompt ChatSession::prompt_for(const std::string& user) {
  const int64_t limit = engine_.context_length() - answer_room_;
  std::vector<std::string> kept = history_;
  Prompt p;
  for (;;) {
    p.text = engine_.render_chat(messages(kept, user));
    p.ids.clear();
    for (uint32_t t : engine_.tokenize(p.text, false)) p.ids.push_back(static_cast<int32_t>(t));
    if (static_cast<int64_t>(p.ids.size()) <= limit) break;
    if (kept.empty()) {  // the message alone does not fit: it is skipped, the history stays
      p.fits = false;
      p.dropped = 0;
      return p;
    }
    kept.erase(kept.begin(), kept.begin() + 2);  // the oldest user + assistant pair
    ++p.dropped;
  }
  history_ = std::move(kept);
  return p;
}

void ChatSession::add_exchange(const std::string& user, const std::string& answer) {
  history_.push_back(user);
  history_.push_back(answer);
}

namespace {

std::atomic<bool> interrupted{false};
extern "C" void on_sigint(int) { interrupted = true; }

// While a chat runs in a terminal, Ctrl-C stops the answer being generated; at the "> " prompt it
// ends the chat as EOF does (no SA_RESTART, so the pending read fails). The previous handler comes
// back afterwards.
class InterruptGuard {
 public:
  explicit InterruptGuard(bool on) : on_(on) {
    if (!on_) return;
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_);
  }
  ~InterruptGuard() {
    if (on_) sigaction(SIGINT, &old_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  bool on_;
  struct sigaction old_ {};
};
struct Interrupted {};

// A line that starts with '/' and names a command; returns false for ordinary text.
bool is_command(const std::string& line, const std::string& name) {
  return line == name || line.rfind(name + " ", 0) == 0;
}

}  // namespace

void run_chat(const ChatOptions& o, std::istream& in, std::ostream& out, std::ostream& err, bool interactive) {
  ServeOptions so;
  so.model_dir = o.model_dir;
  so.device = o.device;
  so.parallel = 1;  // one conversation: one slot, whose cache the next turn reuses
  std::string source = o.chat_template.empty() ? std::string() : read_file(o.chat_template);
  Engine engine(so, source);
  int room = static_cast<int>(std::min<int64_t>(o.sampling.max_tokens, engine.context_length() / 2));
  ChatSession chat(engine, o.system, room);
  if (interactive)
    err << "nativelm chat: " << engine.model_name() << " (context " << engine.context_length()
        << " tokens); /reset, /system TEXT, /quit\n";
  InterruptGuard guard(interactive);
  std::string line;
  for (size_t n = 1;; ++n) {
    if (interactive) out << "> " << std::flush;
    if (!std::getline(in, line)) {
      if (interactive) out << "\n";  // Ctrl-D leaves the cursor after "> "
      break;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!text::utf8_valid(line)) {
      err << "nativelm chat: line " << n << " is not valid UTF-8; skipped\n";
      continue;
    }
    if (line.empty()) continue;
    if (is_command(line, "/quit")) break;
    if (is_command(line, "/reset")) {
      chat.reset();
      err << "nativelm chat: history cleared\n";
      continue;
    }
    if (is_command(line, "/system")) {
      chat.set_system(line.size() > 8 ? line.substr(8) : std::string());
      err << "nativelm chat: system prompt " << (line.size() > 8 ? "set" : "cleared") << "\n";
      continue;
    }
    ChatSession::Prompt p;
    try {
      p = chat.prompt_for(line);
    } catch (const ApiError& e) {  // the template refused the conversation
      err << "nativelm chat: line " << n << ": " << e.what() << "; skipped\n";
      continue;
    }
    if (p.dropped > 0)
      err << "nativelm chat: dropped the oldest " << p.dropped << (p.dropped == 1 ? " exchange" : " exchanges")
          << " to fit the context of " << engine.context_length() << " tokens\n";
    if (!p.fits) {
      err << "nativelm chat: line " << n << " is too long for the context (" << p.ids.size() << " of "
          << engine.context_length() << " tokens, with room for the answer); skipped\n";
      continue;
    }
    if (o.show_prompt) err << "nativelm chat: prompt (" << p.ids.size() << " tokens):\n" << p.text << "\n";
    std::string answer;
    bool cut = false;
    interrupted = false;
    try {
      answer = engine.generate(p.ids, o.sampling, {}, [&](const std::string& piece) {
        out << piece << std::flush;
        answer += piece;
        if (interrupted.exchange(false)) throw Interrupted{};  // Ctrl-C (only caught in a terminal)
      }).text;
    } catch (const Interrupted&) {
      cut = true;
    }
    out << "\n" << std::flush;
    if (cut) err << "nativelm chat: interrupted; the answer so far stays in the history\n";
    chat.add_exchange(line, answer);
  }
}

}  // namespace nlm::serve
