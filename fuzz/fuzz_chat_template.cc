// Fuzzes the chat-template engine (data/chat_template): the bytes are the template text, parsed
// and rendered over one fixed conversation (system, user, assistant with a tool call, tool, user)
// with and without the generation prompt, with tools and an extra variable, asking for the
// {% generation %} spans. A bad template must end in nlm::Error; a render that succeeds must give
// spans inside the text it returned, in order.
#include "data/chat_template/chat_template.h"
#include "fuzz_util.h"

namespace {

using json = nlohmann::ordered_json;
namespace ct = nlm::data::chat_template;

const json& conversation() {
  static const json messages = json::parse(R"([
    {"role": "system", "content": "Is cúntóir cabhrach thú."},
    {"role": "user", "content": "Dia duit! 你好 — what is 2+2?"},
    {"role": "assistant", "content": "<think>easy</think>4",
     "tool_calls": [{"type": "function", "function": {"name": "add", "arguments": {"a": 2, "b": 2}}}]},
    {"role": "tool", "name": "add", "content": "4"},
    {"role": "user", "content": [{"type": "text", "text": "Go raibh maith agat"}]}
  ])");
  return messages;
}

ct::ChatRenderOptions render_options(bool generation_prompt) {
  ct::ChatRenderOptions o;
  o.add_generation_prompt = generation_prompt;
  o.bos_token = "<s>";
  o.eos_token = "</s>";
  o.tools = json::parse(R"([{"type": "function", "function": {"name": "add", "description": "Adds",
    "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}}}])");
  o.extra = {{"enable_thinking", false}};
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlm::fuzz::expect_only_nlm_errors([&] {
    ct::ChatTemplate tmpl{std::string(nlm::fuzz::as_view(data, size))};
    for (bool generation_prompt : {false, true}) {
      std::vector<std::pair<size_t, size_t>> spans;
      std::string text;
      try {
        text = tmpl.render(conversation(), render_options(generation_prompt), &spans);
      } catch (const nlm::Error&) {
        continue;  // a render error (raise_exception, a type error) is an answer too
      }
      size_t last = 0;
      for (auto [begin, end] : spans) {
        if (begin > end || end > text.size() || begin < last) {
          std::fprintf(stderr, "fuzz: generation span [%zu, %zu) out of order or outside %zu bytes\n", begin,
                       end, text.size());
          std::abort();
        }
        last = end;
      }
    }
  });
  return 0;
}
