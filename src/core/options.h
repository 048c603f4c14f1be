// The one options mechanism (after LevelDB's options.h). Each options struct is a plain struct
// with defaults; beside it, one `declare(opt::Schema&, T&)` function lists each field once with
// its key, doc line, unit and validation. Everything else comes from that declaration: the CLI
// flags (cli/option_flags.h), the YAML keys with file:line errors (core/options_yaml.h), the
// options JSON that manifests and reruns compare, `--help`, and the option tables in docs/.
// This header stays light (no CLI11, YAML or JSON library) because every options header
// includes it.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace nlm::opt {

// A bad option value found by a parser, a range check, a cross-field check or library code.
// It carries the option's key so each front end can name it in the user's terms: the flag on
// the command line, `stage.key (file:line)` in a pipeline file. Its what() reads
// "<key> <problem>; <fix>" for callers that use the library directly.
class OptionError : public Error {
 public:
  OptionError(std::string key, std::string problem, std::string fix = {});
  const std::string& key() const { return key_; }
  const std::string& problem() const { return problem_; }
  const std::string& fix() const { return fix_; }

 private:
  std::string key_, problem_, fix_;
};
[[noreturn]] void fail(const std::string& key, const std::string& problem, const std::string& fix = {});

// ---- units, parsed one way everywhere -------------------------------------------------------
// "512M", "4G", "1500000", "64K" (binary multiples; also KiB/MiB/GiB/TiB, K/M/G/T with an
// optional B). Throws OptionError for `key` on anything else, and for zero when !allow_zero.
uint64_t parse_size(const std::string& text, const std::string& key = "size", bool allow_zero = false);
std::string size_text(uint64_t bytes);  // the shortest exact form: 1073741824 -> "1G"
// "90s", "15m", "2h", "1h30m", "250ms", or plain seconds ("30", "0.5"). Seconds as a double.
double parse_duration(const std::string& text, const std::string& key = "duration");
std::string duration_text(double seconds);
// "1,2,5-7" or a list of such items -> ids, each checked to be < limit (limit 0 = no check).
std::vector<uint32_t> parse_id_list(const std::vector<std::string>& items, const std::string& key,
                                    uint64_t limit = 0);
// Strict scalars: the whole text must parse ("12x" is an error), within the type's range.
bool parse_bool(const std::string& text, const std::string& key);
int64_t parse_int(const std::string& text, const std::string& key);
uint64_t parse_uint(const std::string& text, const std::string& key);
double parse_real(const std::string& text, const std::string& key);
// Shortest text that reads back to the same double ("0.1", "3e-05", "1024").
std::string real_text(double v);

// ---- one declared option --------------------------------------------------------------------
enum class Type { Bool, Int, Real, Text, List, Size, Duration, Choice };

struct Field {
  std::string key;        // YAML/JSON key; dots nest ("schedule.lr" is `schedule: {lr: ...}`)
  std::string flags;      // CLI11 names, e.g. "-o,--output"; empty = not a command-line flag
  std::string doc;        // one line: what it does, what it costs or buys
  std::string type_name;  // shown in --help and docs: N, X, TEXT, SIZE, word|char, ...
  Type type = Type::Text;
  bool in_yaml = true;    // a config/pipeline key
  bool in_json = true;    // part of the options JSON (changing it changes the output)
  bool first = false;     // applied before other fields from the same source (presets)
  std::optional<double> lo, hi;  // inclusive bounds of numeric fields
  mutable bool given = false;        // set by assign(): a source set it (derive steps ask)

  std::function<std::string()> text;                           // the value as text
  std::function<std::string()> json;                           // the value as a JSON value
  std::function<void(const std::string&)> set;                 // parse one text value
  std::function<void(const std::vector<std::string>&)> set_list;  // List fields: the items
  std::function<double()> number;                              // numeric fields: the value

  // Chainable refinements used in declare() functions.
  Field& flag(std::string names) { flags = std::move(names); return *this; }
  Field& no_flag() { flags.clear(); return *this; }
  Field& no_yaml() { in_yaml = false; return *this; }
  Field& no_json() { in_json = false; return *this; }
  Field& min(double v) { lo = v; return *this; }
  Field& max(double v) { hi = v; return *this; }
  Field& range(double a, double b) { lo = a; hi = b; return *this; }
  Field& apply_first() { first = true; return *this; }
  Field& type_label(std::string t) { type_name = std::move(t); return *this; }

  // The default flag: "--" + key with '.' and '_' as '-'.
  std::string default_flag() const;
  // Parses `text` into the field and checks its bounds; OptionError names the key.
  void assign(const std::string& value) const;
  void assign(const std::vector<std::string>& items) const;
  // Bounds check of the current value.
  void check_bounds() const;
};

// The declared options of one struct instance. Fields hold references into that instance, so
// a Schema lives no longer than the struct it was declared over.
class Schema {
 public:
  explicit Schema(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  Field& add(const std::string& key, bool& v, const std::string& doc);
  Field& add(const std::string& key, int& v, const std::string& doc);
  Field& add(const std::string& key, int64_t& v, const std::string& doc);
  Field& add(const std::string& key, uint32_t& v, const std::string& doc);
  Field& add(const std::string& key, uint64_t& v, const std::string& doc);
  Field& add(const std::string& key, double& v, const std::string& doc);
  Field& add(const std::string& key, float& v, const std::string& doc);
  Field& add(const std::string& key, std::string& v, const std::string& doc);
  Field& add(const std::string& key, std::vector<std::string>& v, const std::string& doc);
  // Bytes, written "512M" or "4G"; `allow_zero` when 0 means "no limit".
  Field& size(const std::string& key, uint64_t& bytes, const std::string& doc, bool allow_zero = false);
  Field& duration(const std::string& key, double& seconds, const std::string& doc);
  // An enumerated option. `names` lists (name, value); several names may map to one value
  // (aliases); the first name of a value is the one printed.
  template <class E>
  Field& choice(const std::string& key, E& v, std::vector<std::pair<std::string, E>> names,
                const std::string& doc);
  // Any other type, through its own parse and print functions (e.g. dedup's keep policy).
  Field& custom(const std::string& key, std::function<std::string()> text,
                std::function<void(const std::string&)> set, const std::string& type_name,
                const std::string& doc);

  // A rule over several fields, run by resolve(); it reports with opt::fail(key, ...).
  void check(std::function<void()> rule) { checks_.push_back(std::move(rule)); }
  // Derives values that depend on other fields (e.g. the n-gram length from the shingle kind),
  // run by resolve() before the checks.
  void derive(std::function<void()> step) { derives_.push_back(std::move(step)); }
  // Every front end calls this once after applying all its sources: derive steps, then bounds
  // and cross-field checks. Throws OptionError.
  void resolve() const;

  std::deque<Field>& fields() { return fields_; }
  const std::deque<Field>& fields() const { return fields_; }
  const Field* find(const std::string& key) const;
  // Whether a source assigned `key` (false for unknown keys).
  bool given(const std::string& key) const;

  // The options as one JSON object in declaration order (nested by dotted keys); only fields
  // with in_json. This is what manifests record and reruns compare.
  std::string to_json() const;
  // A Markdown table: option key, flag, default, description (for docs/).
  std::string markdown() const;

 private:
  Field& push(const std::string& key, Type type, std::string type_name, const std::string& doc);
  std::string name_;
  std::deque<Field> fields_;
  std::vector<std::function<void()>> derives_, checks_;
};

// Runs `fn`; an OptionError escaping it is re-thrown as a usage error whose subject is
// `name(key)` and whose location is `where(key)`: how the caller (CLI or pipeline) spells it.
struct Namer {
  std::function<std::string(const std::string& key)> name;
  std::function<std::string(const std::string& key)> where;
};
[[noreturn]] void rethrow_named(const OptionError& e, const Namer& namer);
template <class F>
auto named(const Namer& namer, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const OptionError& e) {
    rethrow_named(e, namer);
  }
}

// The options JSON of a struct through its declare(opt::Schema&, T&) (found by argument-dependent
// lookup), taken on a copy so const options work. Library code uses it for manifests.
template <class T>
std::string json_of(const T& options) {
  T copy = options;
  Schema schema("");
  declare(schema, copy);
  return schema.to_json();
}
// `object` (a JSON object) with one more member appended.
std::string with_member(const std::string& object, const std::string& key, const std::string& value_json);

// ---- template definitions -------------------------------------------------------------------
template <class E>
Field& Schema::choice(const std::string& key, E& v, std::vector<std::pair<std::string, E>> names,
                      const std::string& doc) {
  std::string label;
  std::vector<E> seen;
  for (auto& [n, e] : names) {
    bool first = true;
    for (auto& s : seen) first = first && !(s == e);
    if (first) {
      seen.push_back(e);
      label += (label.empty() ? "" : "|") + n;
    }
  }
  Field& f = push(key, Type::Choice, label, doc);
  f.text = [&v, names] {
    for (auto& [n, e] : names)
      if (e == v) return n;
    return std::string("?");
  };
  f.set = [&v, names, key, label](const std::string& s) {
    for (auto& [n, e] : names)
      if (n == s) {
        v = e;
        return;
      }
    fail(key, "must be one of " + label + ", got " + echoed(s));
  };
  return f;
}

}  // namespace nlm::opt
