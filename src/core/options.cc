// The options mechanism's parsers (units, strict scalars), the typed field builders, the options
// JSON and the Markdown tables. One file so every front end parses a value the same way.
#include "core/options.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include "core/json_escape.h"

namespace nlm::opt {

OptionError::OptionError(std::string key, std::string problem, std::string fix)
    : Error(ErrorKind::Usage, format_error(key + " " + problem, {}, fix)),
      key_(std::move(key)),
      problem_(std::move(problem)),
      fix_(std::move(fix)) {}

void fail(const std::string& key, const std::string& problem, const std::string& fix) {
  throw OptionError(key, problem, fix);
}

void rethrow_named(const OptionError& e, const Namer& namer) {
  std::string name = namer.name ? namer.name(e.key()) : e.key();
  std::string where = namer.where ? namer.where(e.key()) : std::string();
  usage_error(name + " " + e.problem(), where, e.fix());
}

// ---- scalars ---------------------------------------------------------------------------------

namespace {

std::string trimmed(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

}  // namespace

bool parse_bool(const std::string& text, const std::string& key) {
  std::string s = trimmed(text);
  if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
  if (s == "false" || s == "no" || s == "off" || s == "0") return false;
  fail(key, "must be true or false, got " + echoed(text));
}

namespace {

// The whole trimmed text as a T; `expected` names what the value must be in the error.
template <class T>
T parse_integer(const std::string& text, const std::string& key, const char* expected) {
  std::string s = trimmed(text);
  T v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
    if (ec == std::errc::result_out_of_range) fail(key, "is out of range, got " + echoed(text));
    fail(key, std::string("must be ") + expected + ", got " + echoed(text));
  }
  return v;
}

}  // namespace

int64_t parse_int(const std::string& text, const std::string& key) {
  return parse_integer<int64_t>(text, key, "an integer");
}

uint64_t parse_uint(const std::string& text, const std::string& key) {
  return parse_integer<uint64_t>(text, key, "a non-negative integer");
}

double parse_real(const std::string& text, const std::string& key) {
  std::string s = trimmed(text);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v))
    fail(key, "must be a number, got " + echoed(text));
  return v;
}

std::string real_text(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, p) : std::to_string(v);
}

// ---- units -----------------------------------------------------------------------------------

uint64_t parse_size(const std::string& text, const std::string& key, bool allow_zero) {
  std::string s = trimmed(text);
  const std::string fix = "use a number of bytes with an optional K, M, G or T suffix, e.g. 512M or 4G";
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || !std::isfinite(v) || v < 0)
    fail(key, "must be a size, got " + echoed(text), fix);
  std::string unit(p, static_cast<size_t>(s.data() + s.size() - p));
  unit = trimmed(unit);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() >= 2 && unit.back() == 'B') unit.pop_back();                  // "MB", "GB"
  if (unit.size() == 2 && unit.back() == 'I') unit.pop_back();                  // "MiB"
  double mult = unit.empty() || unit == "B" ? 1.0
                : unit == "K"               ? 1024.0
                : unit == "M"               ? 1048576.0
                : unit == "G"               ? 1073741824.0
                : unit == "T"               ? 1099511627776.0
                                            : -1;
  if (mult < 0) fail(key, "has an unknown unit in " + echoed(text), fix);
  double bytes = v * mult;
  if (bytes >= 18446744073709551615.0) fail(key, "is too large, got " + echoed(text), fix);
  if (bytes < 1 && !allow_zero) fail(key, "must be more than zero, got " + echoed(text), fix);
  return static_cast<uint64_t>(bytes);
}

std::string size_text(uint64_t bytes) {
  static const char* units[] = {"T", "G", "M", "K"};
  static const uint64_t mults[] = {1ull << 40, 1ull << 30, 1ull << 20, 1ull << 10};
  for (int i = 0; i < 4; ++i)
    if (bytes >= mults[i] && bytes % mults[i] == 0) return std::to_string(bytes / mults[i]) + units[i];
  return std::to_string(bytes);
}

double parse_duration(const std::string& text, const std::string& key) {
  std::string s = trimmed(text);
  const std::string fix = "use seconds or a duration like 90s, 15m, 2h or 1h30m";
  if (s.empty()) fail(key, "must be a duration, got ''", fix);
  double total = 0;
  const char* p = s.data();
  const char* end = s.data() + s.size();
  while (p < end) {
    double v = 0;
    auto [q, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || !std::isfinite(v) || v < 0) fail(key, "must be a duration, got " + echoed(text), fix);
    p = q;
    std::string unit;
    while (p < end && std::isalpha(static_cast<unsigned char>(*p))) unit += *p++;
    double mult = unit.empty() || unit == "s" ? 1 : unit == "ms" ? 0.001 : unit == "m" ? 60 : unit == "h" ? 3600
                  : unit == "d" ? 86400 : -1;
    if (mult < 0) fail(key, "has an unknown unit " + echoed(unit) + " in " + echoed(text), fix);
    if (unit.empty() && p != end) fail(key, "must be a duration, got " + echoed(text), fix);
    total += v * mult;
  }
  return total;
}

std::string duration_text(double seconds) {
  if (seconds > 0 && std::fmod(seconds, 3600) == 0) return real_text(seconds / 3600) + "h";
  if (seconds > 0 && std::fmod(seconds, 60) == 0) return real_text(seconds / 60) + "m";
  return real_text(seconds) + "s";
}

std::vector<uint32_t> parse_id_list(const std::vector<std::string>& items, const std::string& key, uint64_t limit) {
  std::vector<uint32_t> out;
  auto check = [&](uint64_t id, const std::string& item) {
    if (id > std::numeric_limits<uint32_t>::max() || (limit && id >= limit))
      fail(key, "holds id " + std::to_string(id) + (limit ? ", outside the vocabulary of " + std::to_string(limit)
                                                          : std::string(", which is too large")),
           "token ids go from 0 to the vocabulary size minus one (in " + echoed(item) + ")");
  };
  for (const auto& item : items) {
    size_t start = 0;
    while (start <= item.size()) {
      size_t comma = item.find(',', start);
      std::string part = trimmed(item.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      start = comma == std::string::npos ? item.size() + 1 : comma + 1;
      if (part.empty()) {
        if (comma == std::string::npos && start > item.size() && !out.empty()) break;
        fail(key, "has an empty id in " + echoed(item), "write ids like 1,2,5-7");
      }
      size_t dash = part.find('-', 1);
      if (dash == std::string::npos) {
        uint64_t id = parse_uint(part, key);
        check(id, item);
        out.push_back(static_cast<uint32_t>(id));
      } else {
        uint64_t a = parse_uint(part.substr(0, dash), key), b = parse_uint(part.substr(dash + 1), key);
        if (b < a) fail(key, "has a range that runs backwards: " + echoed(part));
        check(b, item);
        if (b - a > (1u << 24)) fail(key, "has a range of more than 2^24 ids: " + echoed(part));
        for (uint64_t id = a; id <= b; ++id) out.push_back(static_cast<uint32_t>(id));
      }
    }
  }
  return out;
}

// ---- fields ----------------------------------------------------------------------------------

std::string Field::default_flag() const {
  std::string f = "--" + key;
  for (auto& c : f)
    if (c == '_' || c == '.') c = '-';
  return f;
}

void Field::check_bounds() const {
  if (!number) return;
  double v = number();
  auto show = [&](double b) { return type == Type::Real ? real_text(b) : std::to_string(static_cast<int64_t>(b)); };
  if (lo && hi && (v < *lo || v > *hi))
    fail(key, "must be between " + show(*lo) + " and " + show(*hi) + ", got " + text());
  if (lo && v < *lo) fail(key, "must be at least " + show(*lo) + ", got " + text());
  if (hi && v > *hi) fail(key, "must be at most " + show(*hi) + ", got " + text());
}

void Field::assign(const std::string& value) const {
  if (type == Type::List) {
    assign(std::vector<std::string>{value});
    return;
  }
  set(value);
  given = true;
  check_bounds();
}

void Field::assign(const std::vector<std::string>& items) const {
  if (type != Type::List) {
    if (items.size() != 1) fail(key, "takes one value, got a list of " + std::to_string(items.size()));
    assign(items.front());
    return;
  }
  set_list(items);
  given = true;
}

Field& Schema::push(const std::string& key, Type type, std::string type_name, const std::string& doc) {
  Field& f = fields_.emplace_back();
  f.key = key;
  f.type = type;
  f.type_name = std::move(type_name);
  f.doc = doc;
  f.flags = f.default_flag();
  return f;
}

namespace {

template <class T>
void integer_field(Field& f, T& v) {
  f.text = [&v] { return std::to_string(v); };
  f.json = f.text;
  f.number = [&v] { return static_cast<double>(v); };
  std::string key = f.key;
  f.set = [&v, key](const std::string& s) {
    if constexpr (std::is_signed_v<T>) {
      int64_t x = parse_int(s, key);
      if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max())
        fail(key, "is out of range, got " + echoed(s));
      v = static_cast<T>(x);
    } else {
      uint64_t x = parse_uint(s, key);
      if (x > std::numeric_limits<T>::max()) fail(key, "is out of range, got " + echoed(s));
      v = static_cast<T>(x);
    }
  };
}

}  // namespace

Field& Schema::add(const std::string& key, bool& v, const std::string& doc) {
  Field& f = push(key, Type::Bool, "BOOL", doc);
  f.text = [&v] { return std::string(v ? "true" : "false"); };
  f.json = f.text;
  f.set = [&v, key](const std::string& s) { v = parse_bool(s, key); };
  return f;
}
Field& Schema::add(const std::string& key, int& v, const std::string& doc) {
  Field& f = push(key, Type::Int, "N", doc);
  integer_field(f, v);
  return f;
}
Field& Schema::add(const std::string& key, int64_t& v, const std::string& doc) {
  Field& f = push(key, Type::Int, "N", doc);
  integer_field(f, v);
  return f;
}
Field& Schema::add(const std::string& key, uint32_t& v, const std::string& doc) {
  Field& f = push(key, Type::Int, "N", doc);
  integer_field(f, v);
  return f;
}
Field& Schema::add(const std::string& key, uint64_t& v, const std::string& doc) {
  Field& f = push(key, Type::Int, "N", doc);
  integer_field(f, v);
  return f;
}
Field& Schema::add(const std::string& key, double& v, const std::string& doc) {
  Field& f = push(key, Type::Real, "X", doc);
  f.text = [&v] { return real_text(v); };
  f.json = f.text;
  f.number = [&v] { return v; };
  f.set = [&v, key](const std::string& s) { v = parse_real(s, key); };
  return f;
}
Field& Schema::add(const std::string& key, float& v, const std::string& doc) {
  Field& f = push(key, Type::Real, "X", doc);
  f.text = [&v] { return real_text(static_cast<double>(v)); };
  f.json = f.text;
  f.number = [&v] { return static_cast<double>(v); };
  f.set = [&v, key](const std::string& s) { v = static_cast<float>(parse_real(s, key)); };
  return f;
}
Field& Schema::add(const std::string& key, std::string& v, const std::string& doc) {
  Field& f = push(key, Type::Text, "TEXT", doc);
  f.text = [&v] { return v; };
  f.json = [&v] { return json_quote(v); };
  f.set = [&v](const std::string& s) { v = s; };
  return f;
}
Field& Schema::add(const std::string& key, std::vector<std::string>& v, const std::string& doc) {
  Field& f = push(key, Type::List, "TEXT...", doc);
  f.text = [&v] {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
    return s;
  };
  f.json = [&v] {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + json_quote(v[i]);
    return s + "]";
  };
  f.set = [&v](const std::string& s) { v = {s}; };
  f.set_list = [&v](const std::vector<std::string>& items) { v = items; };
  return f;
}
Field& Schema::size(const std::string& key, uint64_t& bytes, const std::string& doc, bool allow_zero) {
  Field& f = push(key, Type::Size, "SIZE", doc);
  f.text = [&bytes] { return size_text(bytes); };
  f.json = [&bytes] { return json_quote(size_text(bytes)); };
  f.number = [&bytes] { return static_cast<double>(bytes); };
  f.set = [&bytes, key, allow_zero](const std::string& s) { bytes = parse_size(s, key, allow_zero); };
  return f;
}
Field& Schema::duration(const std::string& key, double& seconds, const std::string& doc) {
  Field& f = push(key, Type::Duration, "DURATION", doc);
  f.text = [&seconds] { return duration_text(seconds); };
  f.json = [&seconds] { return real_text(seconds); };
  f.number = [&seconds] { return seconds; };
  f.set = [&seconds, key](const std::string& s) { seconds = parse_duration(s, key); };
  return f;
}
Field& Schema::custom(const std::string& key, std::function<std::string()> text,
                      std::function<void(const std::string&)> set, const std::string& type_name,
                      const std::string& doc) {
  Field& f = push(key, Type::Text, type_name, doc);
  f.text = std::move(text);
  auto t = f.text;
  f.json = [t] { return json_quote(t()); };
  f.set = std::move(set);
  return f;
}

const Field* Schema::find(const std::string& key) const {
  for (const auto& f : fields_)
    if (f.key == key) return &f;
  return nullptr;
}

bool Schema::given(const std::string& key) const {
  const Field* f = find(key);
  return f && f->given;
}

void Schema::resolve() const {
  for (const auto& d : derives_) d();
  for (const auto& f : fields_) f.check_bounds();
  for (const auto& c : checks_) c();
}

// ---- output ----------------------------------------------------------------------------------

std::string Schema::to_json() const {
  // Nested by dotted keys, in declaration order of each object's first member.
  struct Node {
    std::vector<std::string> order;
    std::map<std::string, std::string> leaves;
    std::map<std::string, Node> kids;
  };
  Node root;
  for (const auto& f : fields_) {
    if (!f.in_json) continue;
    Node* n = &root;
    std::string rest = f.key;
    for (size_t dot; (dot = rest.find('.')) != std::string::npos; rest = rest.substr(dot + 1)) {
      std::string part = rest.substr(0, dot);
      if (!n->kids.count(part) && !n->leaves.count(part)) n->order.push_back(part);
      n = &n->kids[part];
    }
    if (!n->kids.count(rest) && !n->leaves.count(rest)) n->order.push_back(rest);
    n->leaves[rest] = f.json ? f.json() : json_quote(f.text());
  }
  std::function<std::string(const Node&)> emit = [&](const Node& n) {
    std::string s = "{";
    bool first = true;
    for (const auto& k : n.order) {
      s += (first ? "" : ",") + json_quote(k) + ":";
      first = false;
      auto leaf = n.leaves.find(k);
      s += leaf != n.leaves.end() ? leaf->second : emit(n.kids.at(k));
    }
    return s + "}";
  };
  return emit(root);
}

std::string with_member(const std::string& object, const std::string& key, const std::string& value_json) {
  size_t close = object.rfind('}');
  if (close == std::string::npos) return object;
  bool empty = object.find_first_not_of(" {", 0) == close;
  return object.substr(0, close) + (empty ? "" : ",") + json_quote(key) + ":" + value_json + "}";
}

std::string Schema::markdown() const {
  auto cell = [](std::string s) {
    std::string out;
    for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
  };
  std::string s = "| key | flag | default | description |\n|---|---|---|---|\n";
  for (const auto& f : fields_) {
    if (!f.in_yaml && f.flags.empty()) continue;
    std::string key = f.in_yaml ? "`" + f.key + "`" : "";
    std::string flag;
    if (!f.flags.empty()) {
      std::string names;
      for (char c : f.flags) names += c == ',' ? std::string(", ") : std::string(1, c);
      flag = "`" + names + "`";
    }
    std::string def = f.text();
    std::string shown = def.empty() ? "" : "`" + def + "`";
    std::string doc = f.doc;
    if (f.type == Type::Size || f.type == Type::Duration || f.type == Type::Choice ||
        (f.type == Type::Text && f.type_name != "TEXT"))
      doc += " (" + f.type_name + ")";
    s += "| " + key + " | " + cell(flag) + " | " + cell(shown) + " | " + cell(doc) + " |\n";
  }
  return s;
}

}  // namespace nlm::opt
