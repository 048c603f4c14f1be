// Jinja2's built-in filters and tests, attribute and item access (including the bound str and
// dict methods templates call, like .strip() and .get()) and the global functions HF adds
// (range, namespace, dict, raise_exception, strftime_now). Failures are template errors naming
// the line of the call.
#pragma once
#include <cstdint>
#include <string>

#include "data/chat_template/value.h"

namespace nlm::data::chat_template {

// Bytes of any string a template builds and of its output. A chat rendering is at most a few MB
// (a 128k-token context is about 0.5 MB); 16 MB leaves room and keeps a string doubled in a loop
// cheap to refuse.
inline constexpr uint64_t kMaxTemplateText = uint64_t{1} << 24;


bool has_filter(const std::string& name);
bool has_test(const std::string& name);
Value apply_filter(const std::string& name, const Value& subject, const CallArgs& args);
bool apply_test(const std::string& name, const Value& subject, const CallArgs& args);

// obj.name (Jinja tries the attribute, then the item) and obj[key] (the item, then the
// attribute). Missing ones are undefined; any access on undefined is an error.
Value get_attr(const Value& obj, const std::string& name, int line);
// A bound method of a dict (get, items, keys, values), or undefined.
Value get_method(const Value& dict, const std::string& name);
Value get_item(const Value& obj, const Value& key, int line);
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step, int line);
// The items a for loop visits: list items, dict keys, string characters; undefined is empty.
List iterate(const Value& v, int line);

// The globals every template sees besides the caller's variables.
Dict builtin_globals();

}  // namespace nlm::data::chat_template
