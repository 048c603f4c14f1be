// Structured output for the server (`response_format`): a JSON-schema subset compiled into a small
// graph (a tree, with cycles where local `$ref`s recurse), and an incremental JSON recogniser fed byte by byte (a pushdown automaton; anyOf and type
// lists run as parallel stacks) that says whether a prefix can still become a JSON value the
// schema accepts. The scheduler asks it, for every candidate token, whether the token's bytes keep
// the answer valid, so sampling can only produce such JSON. Schema keywords it does not enforce
// are refused with ApiError 400 naming them, never silently ignored.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/json_pattern.h"

namespace nlm::serve {

// One compiled schema node (owned by JsonSchema).
struct SchemaNode {
  enum Kind { Any, Object, Array, String, Number, Integer, Literal, AnyOf } kind = Any;
  // Object: property keys as compact JSON strings (quoted), sorted, with their schemas; `closed`
  // means only these keys may appear (a schema with properties); `required` is a bit per key.
  bool closed = false;
  std::vector<std::string> keys;
  std::vector<const SchemaNode*> values;
  // Object without properties: the schema of every value (additionalProperties as a schema; null:
  // any value), its keys free strings.
  const SchemaNode* extra = nullptr;
  uint64_t required = 0;
  // With `x-property-order` (an extension; forced tool calls use it so that a call's name comes
  // before its arguments and can stream): per key, the keys that must not come before it (after)
  // and the required keys that must (before_required). Empty: any order.
  std::vector<uint64_t> after, before_required;
  // Array: item i's schema is prefix[i] (prefixItems, a tuple) or, past the prefix, items.
  const SchemaNode* items = nullptr;
  std::vector<const SchemaNode*> prefix;
  uint32_t min_items = 0, max_items = UINT32_MAX;
  bool unique = false;  // uniqueItems: items are literals (at most 64), each written at most once
  const SchemaNode* item(uint32_t i) const { return i < prefix.size() ? prefix[i] : items; }
  // Integer and Number ranges, inclusive (exclusive bounds are moved inward when compiled):
  // `bounded` when the schema gave one. Integers within 15 digits; a bounded number is written
  // without an exponent.
  bool bounded = false;
  int64_t int_min = 0, int_max = 0;
  int64_t multiple = 0;  // Integer: multipleOf (a whole number; 0 = none), which also sets bounded
  double num_min = 0, num_max = 0;
  // String (lengths in code points; an escape counts one), and its format: a fixed character
  // pattern (date YYYY-MM-DD, time HH:MM:SS[.f](Z|±HH:MM), date-time DATE"T"TIME, uuid 8-4-4-4-12
  // hex digits) checked character by character, calendar included.
  uint32_t min_length = 0, max_length = UINT32_MAX;
  enum Format : uint8_t { NoFormat, Date, Time, DateTime, Uuid } format = NoFormat;
  const Pattern* pattern = nullptr;  // `pattern`, stepped per code point (owned by JsonSchema)
  // Literal: the allowed values as compact JSON, sorted (enum, const, true/false/null)
  std::vector<std::string> literals;
  // AnyOf (also oneOf, $ref targets that are a choice, and type lists)
  std::vector<const SchemaNode*> alternatives;
  // The fewest recogniser frames an instance needs, this value's own included (1 for a scalar);
  // the recogniser never enters a node that could not be finished within its nesting bound, so
  // recursive schemas stay finite and no state is a dead end.
  uint32_t depth = 1;
};

class JsonSchema {
 public:
  // Any JSON object (response_format {"type": "json_object"}).
  static std::shared_ptr<const JsonSchema> any_object();
  // Compiles a JSON schema; throws ApiError 400 (param `param`) naming an unsupported keyword,
  // a wrong value, or a schema too large or too deep.
  static std::shared_ptr<const JsonSchema> compile(const nlohmann::json& schema,
                                                   const std::string& param = "response_format");
  const SchemaNode* root() const { return root_; }
  const SchemaNode* any() const { return any_; }
  const SchemaNode* scalar_words() const { return words_; }  // true, false, null

  // Limits (a schema over them is a 400).
  static constexpr int kMaxDepth = 32;         // nesting of schema nodes
  static constexpr size_t kMaxNodes = 4096;
  static constexpr size_t kMaxLiterals = 4096;  // enum values in all
  static constexpr size_t kMaxProperties = 64;  // per object
  // Frames the recogniser may stack (values nested in values, recursive `$ref`s included).
  static constexpr uint32_t kMaxNesting = 64;

 private:
  JsonSchema();
  SchemaNode* make(SchemaNode::Kind k);
  const SchemaNode* build(const nlohmann::json& s, int depth, const std::string& where);
  const SchemaNode* build_ref(const std::string& ref, int depth, const std::string& where);
  // allOf: a schema with its allOf and top-level $ref merged into one, and one merge step.
  nlohmann::json flatten(const nlohmann::json& s, int depth, const std::string& where);
  void merge(nlohmann::json& a, const nlohmann::json& b, const std::string& where) const;
  // uniqueItems: true on an array node (refused unless its items are at most 64 literals).
  void unique_items(SchemaNode& n, const std::string& at) const;
  // The schema a local `$ref` points at, in the document being compiled.
  const nlohmann::json& resolve(const std::string& ref, const std::string& where) const;
  // Computes every node's `depth`, and refuses a schema that has no finite instance, loops
  // through choices without reading a byte, or nests past kMaxNesting.
  void finish();
  std::vector<std::unique_ptr<SchemaNode>> nodes_;
  std::vector<std::unique_ptr<Pattern>> patterns_;
  // While compiling: the document, the nodes of the `$ref`s seen (by pointer), and the ones
  // whose schema is still being built.
  const nlohmann::json* doc_ = nullptr;
  std::string param_;
  std::map<std::string, SchemaNode*> refs_;
  std::set<const SchemaNode*> pending_;
  size_t merges_ = 0;
  const SchemaNode* root_ = nullptr;
  const SchemaNode* any_ = nullptr;
  const SchemaNode* words_ = nullptr;
  size_t literal_count_ = 0;
};

class JsonConstraint {
 public:
  // The schema must outlive the constraint (hold its shared_ptr).
  explicit JsonConstraint(const JsonSchema* schema);

  // Would the text stay a valid prefix after these bytes?
  bool accepts(std::string_view bytes) const;
  // The same, reusing `scratch` (its storage) for the trial: no allocation in the steady state.
  bool accepts(std::string_view bytes, JsonConstraint& scratch) const;
  // Feeds bytes; false (and the state is dead) when they break the JSON.
  bool advance(std::string_view bytes);
  // A complete value the schema accepts, which no further byte can extend: only the end may come.
  bool complete() const;
  // The text so far is a complete value (it may still go on, e.g. the digits of a top-level number).
  bool can_end() const;
  bool dead() const { return live_ == 0; }

  // Whitespace bytes allowed in a row between tokens, so a model cannot loop on whitespace.
  static constexpr int kMaxWhitespace = 8;
  // Nesting of containers allowed where the schema does not fix it (any JSON value).
  static constexpr int kMaxFreeDepth = 16;
  // Parallel stacks (anyOf alternatives that all still fit); more are dropped.
  static constexpr size_t kMaxThreads = 64;

  struct Frame {
    const SchemaNode* node = nullptr;
    uint8_t kind = 0, st = 0, aux = 0;
    bool is_key = false;
    uint32_t n = 0;                  // items / code points / digits in the current part
    uint32_t lo = 0, hi = 0, pos = 0;  // literal range and position; \u value
    uint64_t seen = 0;               // object: keys present; number: the integer part's digits
    uint64_t frac = 0;               // number: the fraction's digits
    bool operator==(const Frame&) const = default;
  };
  struct Stack {
    std::vector<Frame> frames;
    uint8_t ws = 0;
    bool operator==(const Stack&) const = default;
  };

 private:
  // Feeds one byte to one stack in place: false when it dies; anyOf alternatives that also fit
  // are appended to `forks`.
  bool step(Stack& s, uint8_t c, std::vector<Stack>& forks) const;
  const JsonSchema* schema_;
  std::vector<Stack> threads_, forks_;  // threads_[0, live_) are the live stacks; the rest is storage
  size_t live_ = 0;
};

}  // namespace nlm::serve
