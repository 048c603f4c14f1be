// Tool-call formats: detection, parsing, streaming hold-back and forced calls (see tool_calls.h).
#include "serve/tool_calls.h"

#include <algorithm>
#include <optional>

#include "serve/api_error.h"

namespace nlm::serve {

namespace {

using json = nlohmann::json;

const std::string kHermesOpen = "<tool_call>", kHermesClose = "</tool_call>";
const std::string kMistralMarker = "[TOOL_CALLS]";
const std::string kPythonTag = "<|python_tag|>";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_space(const std::string& s, size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

// One call object: {"name": declared name, "arguments" or "parameters": object or JSON text};
// "type" and "id" keys are allowed beside them. nullopt for anything else.
// Answers are parsed keeping their keys in order: the arguments text then reads as the model
// wrote it (and as a streamed call's pieces join up).
using answer_json = nlohmann::ordered_json;

std::optional<ToolCall> call_of(const answer_json& j, const std::vector<std::string>& names) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) return std::nullopt;
  ToolCall c;
  c.name = j["name"].get<std::string>();
  if (std::find(names.begin(), names.end(), c.name) == names.end()) return std::nullopt;
  int args = 0;
  c.arguments = "{}";
  for (auto& [k, v] : j.items()) {
    if (k == "arguments" || k == "parameters") {
      ++args;
      if (v.is_object()) {
        c.arguments = v.dump();  // UTF-8 kept as it is (no \u escapes)
      } else if (v.is_string() && answer_json::parse(v.get<std::string>(), nullptr, false).is_object()) {
        c.arguments = v.get<std::string>();
      } else {
        return std::nullopt;
      }
    } else if (k != "name" && k != "type" && k != "id") {
      return std::nullopt;
    }
  }
  if (args > 1) return std::nullopt;
  return c;
}

std::optional<ToolCall> call_of(const std::string& text, const std::vector<std::string>& names) {
  answer_json j = answer_json::parse(text, nullptr, false);  // invalid JSON or UTF-8: discarded
  if (j.is_discarded()) return std::nullopt;
  return call_of(j, names);
}

// The end of the JSON object or list starting at s[i] ('{' or '['): the index after its closing
// bracket, or npos when it does not close. Strings and escapes are skipped; the JSON itself is
// checked by the parser afterwards.
size_t json_end(const std::string& s, size_t i) {
  int depth = 0;
  bool in_string = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string::npos;
}

ParsedAnswer plain(const std::string& text) { return {text, {}}; }

ParsedAnswer parse_hermes(const std::string& text, const std::vector<std::string>& names) {
  size_t p = text.find(kHermesOpen);
  if (p == std::string::npos) return plain(text);
  ParsedAnswer r;
  r.content = text.substr(0, p);
  while (p != std::string::npos) {
    const size_t b = p + kHermesOpen.size();
    const size_t e = text.find(kHermesClose, b);
    auto call = call_of(text.substr(b, e == std::string::npos ? std::string::npos : e - b), names);
    if (!call) return plain(text);
    r.calls.push_back(std::move(*call));
    if (e == std::string::npos) break;  // the answer ended inside the last call
    const size_t after = e + kHermesClose.size();
    p = text.find(kHermesOpen, after);
    r.content += text.substr(after, p == std::string::npos ? std::string::npos : p - after);
  }
  return r;
}

ParsedAnswer parse_llama3(const std::string& text, const std::vector<std::string>& names) {
  size_t i = skip_space(text, 0);
  if (text.compare(i, kPythonTag.size(), kPythonTag) == 0) i = skip_space(text, i + kPythonTag.size());
  ParsedAnswer r;
  while (i < text.size()) {
    if (text[i] != '{') return plain(text);
    const size_t e = json_end(text, i);
    if (e == std::string::npos) return plain(text);
    auto call = call_of(text.substr(i, e - i), names);
    if (!call) return plain(text);
    r.calls.push_back(std::move(*call));
    i = skip_space(text, e);
    if (i < text.size() && text[i] == ';') i = skip_space(text, i + 1);
  }
  if (r.calls.empty()) return plain(text);
  return r;
}

ParsedAnswer parse_mistral(const std::string& text, const std::vector<std::string>& names) {
  size_t m = text.find(kMistralMarker);
  size_t i;
  ParsedAnswer r;
  if (m != std::string::npos) {
    r.content = text.substr(0, m);
    i = skip_space(text, m + kMistralMarker.size());
  } else {
    i = skip_space(text, 0);
  }
  if (i >= text.size() || text[i] != '[') return plain(text);
  const size_t e = json_end(text, i);
  if (e == std::string::npos) return plain(text);
  answer_json list = answer_json::parse(text.substr(i, e - i), nullptr, false);
  if (!list.is_array() || list.empty()) return plain(text);
  for (auto& item : list) {
    auto call = call_of(item, names);
    if (!call) return plain(text);
    r.calls.push_back(std::move(*call));
  }
  r.content += text.substr(e);
  return r;
}

// What the text shows so far of one call object, for streaming it (see ToolCallStream).
struct CallView {
  std::string name;          // the "name" string, once it is complete
  bool args_first = false;   // an arguments value began before the name was complete
  bool object_args = false;  // "arguments" (or "parameters") holds an object ...
  std::string args;          // ... whose text so far, without the spaces between tokens, is this
  bool bad = false;          // not the JSON of a call object: nothing more streams
};

// Scans the call object starting at s[i] ('{'); returns the index after it, or npos while it is
// open (or when it went wrong: v.bad).
size_t scan_call(const std::string& s, size_t i, CallView& v) {
  enum State { ExpectKey, InKey, ExpectColon, ExpectValue, InString, InScalar, InNested, AfterValue };
  State st = ExpectKey;
  int depth = 0;  // inside a nested value
  bool in_string = false, escape = false, copying = false;
  size_t begin = 0;
  std::string key;
  auto is_args = [&] { return key == "arguments" || key == "parameters"; };
  for (++i; i < s.size(); ++i) {
    const char c = s[i];
    switch (st) {
      case ExpectKey:
        if (c == '"') {
          st = InKey;
          begin = i + 1;
        } else if (c == '}') {
          return i + 1;
        } else if (!is_space(c)) {
          v.bad = true;
          return std::string::npos;
        }
        break;
      case InKey:
      case InString:
        if (escape) {
          escape = false;
        } else if (c == '\\') {
          escape = true;
        } else if (c == '"') {
          if (st == InKey) {
            key = s.substr(begin, i - begin);
            st = ExpectColon;
          } else {
            if (key == "name") v.name = s.substr(begin, i - begin);
            st = AfterValue;
          }
        }
        break;
      case ExpectColon:
        if (c == ':') {
          st = ExpectValue;
        } else if (!is_space(c)) {
          v.bad = true;
          return std::string::npos;
        }
        break;
      case ExpectValue:
        if (is_space(c)) break;
        if (is_args() && v.name.empty()) v.args_first = true;
        if (c == '"') {
          st = InString;
          begin = i + 1;
        } else if (c == '{' || c == '[') {
          st = InNested;
          depth = 1;
          copying = is_args() && c == '{';
          if (copying) {
            v.object_args = true;
            v.args = "{";
          }
        } else {
          st = InScalar;
        }
        break;
      case InNested:
        if (copying && (in_string || !is_space(c))) v.args += c;
        if (in_string) {
          if (escape) escape = false;
          else if (c == '\\') escape = true;
          else if (c == '"') in_string = false;
        } else if (c == '"') {
          in_string = true;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if ((c == '}' || c == ']') && --depth == 0) {
          st = AfterValue;
          copying = false;
        }
        break;
      case InScalar:
      case AfterValue:
        if (c == ',') {
          st = ExpectKey;
        } else if (c == '}') {
          return i + 1;
        } else if (st == AfterValue && !is_space(c)) {
          v.bad = true;
          return std::string::npos;
        }
        break;
    }
  }
  return std::string::npos;
}

// The length of the longest proper prefix of `marker` that `s` ends with.
size_t partial_marker(const std::string& s, const std::string& marker) {
  for (size_t k = std::min(s.size(), marker.size() - 1); k > 0; --k)
    if (s.compare(s.size() - k, k, marker, 0, k) == 0) return k;
  return 0;
}

}  // namespace

ToolCallFormat tool_call_format_of(const std::string& t) {
  if (t.find(kMistralMarker) != std::string::npos) return ToolCallFormat::Mistral;
  if (t.find(kHermesOpen) != std::string::npos) return ToolCallFormat::Hermes;
  if (t.find(kPythonTag) != std::string::npos || t.find("\"parameters\"") != std::string::npos)
    return ToolCallFormat::Llama3Json;
  return ToolCallFormat::Hermes;
}

const char* tool_call_format_name(ToolCallFormat f) {
  switch (f) {
    case ToolCallFormat::Hermes: return "hermes";
    case ToolCallFormat::Llama3Json: return "llama3-json";
    case ToolCallFormat::Mistral: return "mistral";
  }
  return "?";
}

ParsedAnswer parse_tool_calls(const std::string& text, ToolCallFormat f, const std::vector<std::string>& names) {
  switch (f) {
    case ToolCallFormat::Hermes: return parse_hermes(text, names);
    case ToolCallFormat::Llama3Json: return parse_llama3(text, names);
    case ToolCallFormat::Mistral: return parse_mistral(text, names);
  }
  return plain(text);
}

std::string ToolCallStream::push(const std::string& piece) {
  all_ += piece;
  if (holding_) {
    scan_held();
    return "";
  }
  // Formats whose call may be the whole answer: decided by its first non-space character.
  if (sent_ == 0 && f_ != ToolCallFormat::Hermes) {
    const size_t i = skip_space(all_, 0);
    if (i == all_.size()) return "";  // only spaces so far: wait
    const bool starts_call = f_ == ToolCallFormat::Llama3Json
                                 ? all_[i] == '{' || kPythonTag.compare(0, std::min(kPythonTag.size(), all_.size() - i),
                                                                        all_, i, kPythonTag.size()) == 0
                                 : all_[i] == '[';
    if (starts_call) {
      holding_ = true;
      scan_held();
      return "";
    }
  }
  if (f_ == ToolCallFormat::Llama3Json) {
    std::string out = all_.substr(sent_);
    sent_ = all_.size();
    return out;
  }
  const std::string& marker = f_ == ToolCallFormat::Hermes ? kHermesOpen : kMistralMarker;
  const size_t p = all_.find(marker, sent_ >= marker.size() ? sent_ - marker.size() : 0);
  size_t upto = all_.size() - partial_marker(all_, marker);
  if (p != std::string::npos) {
    upto = p;
    holding_ = true;
  }
  std::string out = all_.substr(sent_, upto - sent_);
  sent_ = upto;
  if (holding_) scan_held();
  return out;
}

void ToolCallStream::scan_held() {
  // The start of each call object in the held text, in order, as far as it goes.
  size_t i = std::max(sent_, resume_), index = resume_index_;
  auto next_object = [&](size_t from) -> size_t {  // '{' of the next call, or npos
    switch (f_) {
      case ToolCallFormat::Hermes: {
        const size_t p = all_.find(kHermesOpen, from);
        if (p == std::string::npos) return p;
        const size_t j = skip_space(all_, p + kHermesOpen.size());
        return j < all_.size() && all_[j] == '{' ? j : std::string::npos;
      }
      case ToolCallFormat::Mistral: {
        size_t j = skip_space(all_, from);
        if (index == 0) {
          if (all_.compare(j, kMistralMarker.size(), kMistralMarker) == 0) j = skip_space(all_, j + kMistralMarker.size());
          if (j >= all_.size() || all_[j] != '[') return std::string::npos;
        } else if (j >= all_.size() || all_[j] != ',') {
          return std::string::npos;
        }
        j = skip_space(all_, j + 1);
        return j < all_.size() && all_[j] == '{' ? j : std::string::npos;
      }
      case ToolCallFormat::Llama3Json: {
        size_t j = skip_space(all_, from);
        if (index == 0 && all_.compare(j, kPythonTag.size(), kPythonTag) == 0) j = skip_space(all_, j + kPythonTag.size());
        if (index > 0) {
          if (j >= all_.size() || all_[j] != ';') return std::string::npos;
          j = skip_space(all_, j + 1);
        }
        return j < all_.size() && all_[j] == '{' ? j : std::string::npos;
      }
    }
    return std::string::npos;
  };
  while (index <= args_sent_.size() && (parallel_ || index == 0)) {
    const size_t start = next_object(i);
    if (start == std::string::npos) return;
    CallView v;
    const size_t end = scan_call(all_, start, v);
    if (index == args_sent_.size()) {  // not begun: its name first, when it is a declared one
      if (v.bad || v.args_first || v.name.empty() ||
          std::find(names_.begin(), names_.end(), v.name) == names_.end())
        return;
      args_sent_.push_back(0);
      deltas_.push_back({index, v.name, ""});
    }
    size_t& sent = args_sent_[index];
    if (v.object_args && v.args.size() > sent) {
      deltas_.push_back({index, "", v.args.substr(sent)});
      sent = v.args.size();
    }
    if (end == std::string::npos) return;
    i = end;
    ++index;
    resume_ = i;  // a closed call is sent in full: the next scan starts after it
    resume_index_ = index;
  }
}

size_t ToolCallStream::args_sent(size_t index) const {
  return index < args_sent_.size() ? args_sent_[index] : 0;
}

ParsedAnswer ToolCallStream::finish() {
  if (!holding_) return plain(all_.substr(sent_));
  ParsedAnswer p = parse_tool_calls(all_, f_, names_);
  if (p.calls.empty()) return plain(all_.substr(sent_));
  // The content sent already is the text before the first call, which p.content begins with.
  p.content.erase(0, std::min(sent_, p.content.size()));
  return p;
}

ForcedToolCall forced_tool_call(ToolCallFormat f, const json& tools, const std::string& only) {
  const std::string args_key = f == ToolCallFormat::Llama3Json ? "parameters" : "arguments";
  json alternatives = json::array();
  std::vector<std::string> names;
  for (const json& t : tools) {
    const json& fn = t["function"];
    const std::string name = fn["name"].get<std::string>();
    if (!only.empty() && name != only) continue;
    json params = fn.contains("parameters") && fn["parameters"].is_object() ? fn["parameters"]
                                                                              : json{{"type", "object"}};
    try {
      JsonSchema::compile(params, "tools");
    } catch (const ApiError&) {  // keywords outside the subset: any object as arguments
      params = {{"type", "object"}};
    }
    names.push_back(name);
    alternatives.push_back({{"type", "object"},
                            {"properties", {{"name", {{"const", name}}}, {args_key, params}}},
                            {"required", {"name", args_key}},
                            {"x-property-order", {"name", args_key}},
                            {"additionalProperties", false}});
  }
  // The name from the list and any object as arguments.
  const json names_only = {{"type", "object"},
                           {"properties", {{"name", {{"enum", names}}}, {args_key, {{"type", "object"}}}}},
                           {"required", {"name", args_key}},
                           {"x-property-order", {"name", args_key}},
                           {"additionalProperties", false}};
  auto whole = [f](const json& call) {  // Mistral writes a list of calls
    return f == ToolCallFormat::Mistral ? json{{"type", "array"}, {"items", call}, {"minItems", 1}, {"maxItems", 1}}
                                        : call;
  };
  const json call = alternatives.size() == 1 ? alternatives[0]
                    : alternatives.size() <= 16 ? json{{"anyOf", alternatives}}
                                                : names_only;  // anyOf takes at most 16
  ForcedToolCall r;
  r.prefix = f == ToolCallFormat::Mistral ? kMistralMarker : f == ToolCallFormat::Hermes ? kHermesOpen + "\n" : "";
  try {
    r.schema = JsonSchema::compile(whole(call), "tools");
  } catch (const ApiError&) {  // the tools together are over the schema's size limits
    r.schema = JsonSchema::compile(whole(names_only), "tools");
  }
  return r;
}

nlohmann::ordered_json messages_for_template(const nlohmann::ordered_json& messages) {
  nlohmann::ordered_json out = messages;
  for (auto& m : out) {
    if (!m.is_object() || !m.contains("tool_calls") || !m["tool_calls"].is_array()) continue;
    for (auto& tc : m["tool_calls"]) {
      if (!tc.is_object() || !tc.contains("function") || !tc["function"].is_object()) continue;
      auto& fn = tc["function"];
      if (!fn.contains("arguments") || !fn["arguments"].is_string()) continue;
      auto parsed = nlohmann::ordered_json::parse(fn["arguments"].get<std::string>(), nullptr, false);
      if (parsed.is_object()) fn["arguments"] = std::move(parsed);
    }
  }
  return out;
}

}  // namespace nlm::serve
