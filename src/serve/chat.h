// `nativelm chat MODEL_DIR`: a terminal conversation through the model's chat template, on the
// serve engine (same template rendering, same stop ids, same generation path). Each turn the whole
// conversation is rendered again; the oldest exchanges are dropped, with a note, when the prompt
// would leave too little of the context for the answer.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/sampler.h"

namespace nlm::opt {
class Schema;
}

namespace nlm::serve {

class Engine;

struct ChatOptions {
  std::string model_dir;            // HF model folder with tokenizer.json
  std::string chat_template;        // a Jinja file used instead of the folder's template; "" = the folder's
  std::string system;               // system prompt of every turn; "" = none (until /system)
  model::SamplingOptions sampling;  // max_new_tokens is the answer's length limit
  bool show_prompt = false;         // print each rendered prompt on stderr (to check the template)
  std::string device = "cpu";       // compute device, as tensor::backend_for() names it
};
void declare(opt::Schema& schema, ChatOptions& options);

// The conversation: a system prompt and the exchanges so far, rendered through the engine's
// template. Oldest exchanges go first when a prompt does not fit.
class ChatSession {
 public:
  ChatSession(Engine& engine, std::string system, int answer_room);

  struct Prompt {
    std::string text;           // the rendered conversation, ending in the generation prompt
    std::vector<int32_t> ids;   // text encoded as the server encodes a chat
    int dropped = 0;            // exchanges dropped from the history to make it fit
    bool fits = true;           // false: the new message alone leaves no room for an answer
  };
  // Renders the history plus `user`, dropping the oldest exchanges while the prompt leaves fewer
  // than answer_room tokens of the context; the history forgets them for good. When `user` alone
  // does not fit, the history is left as it was (and fits is false).
  Prompt prompt_for(const std::string& user);
  void add_exchange(const std::string& user, const std::string& answer);
  void reset() { history_.clear(); }
  void set_system(std::string system) { system_ = std::move(system); }
  size_t exchanges() const { return history_.size() / 2; }
  // The conversation as chat messages, ending with `user`.
  nlohmann::ordered_json messages(const std::string& user) const;

 private:
  nlohmann::ordered_json messages(const std::vector<std::string>& history, const std::string& user) const;
  Engine& engine_;
  std::string system_;
  int answer_room_;
  std::vector<std::string> history_;  // user, assistant, user, assistant, ...
};

// The whole command: loads the model, reads user lines from `in` until EOF or /quit, streams each
// answer to `out` followed by a newline; notes (dropped history, skipped lines) go to `err`.
// `interactive` (stdin is a terminal) prints a "> " prompt before each line, and makes Ctrl-C
// stop the answer being generated (keeping what was printed) instead of the process.
void run_chat(const ChatOptions& options, std::istream& in, std::ostream& out, std::ostream& err, bool interactive);

}  // namespace nlm::serve
