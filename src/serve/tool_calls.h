// Tool calling for /v1/chat/completions: which text format a model writes its tool calls in
// (picked from its chat template, as llama.cpp does), parsing an answer back into OpenAI
// `tool_calls`, holding back streamed text once a call may have begun, and the prefix and JSON
// schema that force a call while sampling (tool_choice "required" or a named function).
//
// Formats recognised:
//  - Hermes / Qwen: `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`, one or more, with
//    text around them as content (the last closing tag may be missing when the answer ended);
//  - Llama 3.x JSON: the whole answer is `{"name": ..., "parameters": {...}}` (or "arguments"),
//    optionally after `<|python_tag|>`, or several such objects separated by `;`;
//  - Mistral: `[TOOL_CALLS]` then a JSON list of {"name", "arguments"} (the marker is a special
//    token that the decoder drops, so a list at the start of the answer also counts).
// A call whose JSON does not parse, or names a function the request did not declare, leaves the
// whole answer as plain content.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/json_constraint.h"

namespace nlm::serve {

enum class ToolCallFormat { Hermes, Llama3Json, Mistral };

// The format a chat template asks for: `[TOOL_CALLS]` → Mistral, `<tool_call>` → Hermes,
// `<|python_tag|>` or a `"parameters"` JSON example → Llama 3.x; anything else (ChatML, a template
// without tool support) → Hermes, the format most open models are tuned on.
ToolCallFormat tool_call_format_of(const std::string& chat_template);
const char* tool_call_format_name(ToolCallFormat f);

struct ToolCall {
  std::string id;         // "call_..." (set by the caller)
  std::string name;
  std::string arguments;  // a JSON text, as OpenAI's function.arguments
};

struct ParsedAnswer {
  std::string content;          // the text outside the calls (all of it when there are none)
  std::vector<ToolCall> calls;  // empty: a plain answer
};

// Parses `text` in format `f`; `names` are the declared functions (a call to any other name is
// not a call). Never throws: malformed calls give the text back as content.
ParsedAnswer parse_tool_calls(const std::string& text, ToolCallFormat f, const std::vector<std::string>& names);

// A part of a streamed tool call: the first one of call `index` carries its name (the caller adds
// the id and type), the later ones the next part of its arguments' JSON text.
struct ToolCallDelta {
  size_t index = 0;
  std::string name;  // on the call's first delta only
  std::string arguments;
};

// Streaming: passes text through as content until a tool call may have begun, then holds the
// rest back. Within the held text, a call whose JSON gives its declared name before an object of
// arguments streams as deltas: the name once it is complete, then the arguments as they grow
// (the model's JSON text without the spaces between tokens, so the pieces join to what
// parse_tool_calls gives for the usual answer). Any other call (arguments as a string, or before
// the name) goes out whole at the end. finish() parses what was held.
class ToolCallStream {
 public:
  ToolCallStream(ToolCallFormat f, std::vector<std::string> names, bool parallel = true)
      : f_(f), names_(std::move(names)), parallel_(parallel) {}
  // The part of the text so far that can be sent as content now; the call deltas it completed
  // are in take_deltas().
  std::string push(const std::string& piece);
  std::vector<ToolCallDelta> take_deltas() { return std::move(deltas_); }
  // At the end: the content not yet sent (only when the held text is not a call), and the calls.
  ParsedAnswer finish();
  bool holding() const { return holding_; }
  // How many calls have sent their first delta (finish()'s calls before this index went out).
  size_t streamed() const { return args_sent_.size(); }
  // The bytes of call `index`'s arguments streamed so far.
  size_t args_sent(size_t index) const;

 private:
  void scan_held();

  ToolCallFormat f_;
  std::vector<std::string> names_;
  bool parallel_ = true;
  std::string all_;
  size_t sent_ = 0;
  bool holding_ = false;
  std::vector<size_t> args_sent_;  // per streamed call: bytes of its (space-free) arguments sent
  size_t resume_ = 0, resume_index_ = 0;  // where scan_held starts: after the last closed call
  std::vector<ToolCallDelta> deltas_;
};

// tool_choice "required" or a named function: the text put after the generation prompt (the
// model continues from it: "<tool_call>\n", "[TOOL_CALLS]" or nothing) and the schema of the JSON
// that must follow: one call to one of `tools` (OpenAI tool objects; `only` names the one to call,
// "" = any). A tool whose parameters use keywords outside the constraint's subset is called with
// a free-form JSON object as arguments instead.
struct ForcedToolCall {
  std::string prefix;
  std::shared_ptr<const JsonSchema> schema;
};
ForcedToolCall forced_tool_call(ToolCallFormat f, const nlohmann::json& tools, const std::string& only);

// The messages as chat templates expect them: an assistant turn's tool_calls[].function.arguments
// given as a JSON string (OpenAI's shape) becomes the object it holds (HF templates print it with
// tojson); anything else is left as it came.
nlohmann::ordered_json messages_for_template(const nlohmann::ordered_json& messages);

}  // namespace nlm::serve
