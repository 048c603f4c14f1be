// Task documents and template rendering (see task_docs.h).
#include "eval/tasks/task_docs.h"

#include <fstream>
#include <set>
#include <sstream>

#include "core/compressed_stream.h"
#include "core/error.h"
#include "core/line_reader.h"
#include "data/chat_template/builtins.h"
#include "data/chat_template/lexer.h"
#include "data/chat_template/parser.h"
#include "data/chat_template/render.h"
#include "data/chat_template/value.h"

namespace nlm::eval::tasks {

using nlohmann::ordered_json;
namespace ct = data::chat_template;

namespace {

bool is_int_text(const std::string& s) {
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  return s.size() > i && s.size() < 19 && s.find_first_not_of("0123456789", i) == std::string::npos;
}

// RFC 4180 records: quoted fields may hold commas, quotes ("") and line breaks. `lines` gets the
// 1-based line each record starts on.
std::vector<std::vector<std::string>> parse_csv(const std::string& s, std::vector<size_t>& lines) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, any = false;
  size_t line = 1, start = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '"' && i + 1 < s.size() && s[i + 1] == '"') { cell += '"'; ++i; }
      else if (c == '"') quoted = false;
      else { if (c == '\n') ++line; cell += c; }
    } else if (c == '"') { quoted = true; any = true; }
    else if (c == ',') { row.push_back(std::move(cell)); cell.clear(); any = true; }
    else if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {}
    else if (c == '\n') {
      if (any || !cell.empty()) { row.push_back(std::move(cell)); rows.push_back(std::move(row)); lines.push_back(start); }
      cell.clear(); row.clear(); any = false; start = ++line;
    } else { cell += c; any = true; }
  }
  if (any || !cell.empty()) { row.push_back(std::move(cell)); rows.push_back(std::move(row)); lines.push_back(start); }
  return rows;
}

std::vector<Doc> read_csv(const std::string& path, std::vector<std::string>& skipped) {
  std::ifstream in(path, std::ios::binary);
  if (!in) usage_error("cannot read " + path, path, "check data_files / dataset_path");
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<size_t> lines;
  auto rows = parse_csv(ss.str(), lines);
  std::vector<Doc> docs;
  if (rows.empty()) return docs;
  const auto& header = rows[0];
  std::vector<bool> int_col(header.size(), true);
  for (size_t r = 1; r < rows.size(); ++r)
    for (size_t k = 0; k < header.size() && k < rows[r].size(); ++k)
      if (!is_int_text(rows[r][k])) int_col[k] = false;
  for (size_t r = 1; r < rows.size(); ++r) {
    const std::string where = path + ":" + std::to_string(lines[r]);
    if (rows[r].size() != header.size()) {
      skipped.push_back(where + ": " + std::to_string(rows[r].size()) + " cells, the header has " +
                        std::to_string(header.size()));
      continue;
    }
    Doc d{ordered_json::object(), where};
    for (size_t k = 0; k < header.size(); ++k)
      d.fields[header[k]] = int_col[k] ? ordered_json(std::stoll(rows[r][k])) : ordered_json(rows[r][k]);
    docs.push_back(std::move(d));
  }
  return docs;
}

std::vector<Doc> read_jsonl(const std::string& path, std::vector<std::string>& skipped) {
  std::vector<Doc> docs;
  auto in = InputStream::open(path);
  LineReader lines(*in);
  std::string_view line;
  bool first = true;
  while (lines.next(line)) {
    const std::string where = path + ":" + std::to_string(lines.line_number());
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (first && line.find_first_not_of(" \t") != std::string_view::npos && line[line.find_first_not_of(" \t")] == '[') {
      // A .json file holding one array of objects.
      std::string all(line);
      while (lines.next(line)) { all += '\n'; all += line; }
      auto arr = ordered_json::parse(all, nullptr, false);
      if (arr.is_discarded() || !arr.is_array()) usage_error("not a JSON array of objects", path);
      for (size_t i = 0; i < arr.size(); ++i) {
        if (!arr[i].is_object()) { skipped.push_back(path + ": item " + std::to_string(i) + ": not an object"); continue; }
        docs.push_back({arr[i], path + ": item " + std::to_string(i)});
      }
      return docs;
    }
    first = false;
    auto j = ordered_json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) { skipped.push_back(where + ": not a JSON object"); continue; }
    docs.push_back({std::move(j), where});
  }
  return docs;
}

// A value in a message: JSON-quoted (no control characters), at most 80 bytes.
std::string shown(const std::string& s) {
  std::string q = ordered_json(s).dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  return q.size() > 80 ? q.substr(0, 76) + "...\"" : q;
}

std::string value_text(const ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  return ct::Value::from_json(v).str();
}

}  // namespace

std::vector<Doc> read_docs(const std::string& path, std::vector<std::string>& skipped) {
  std::vector<Doc> all = path.ends_with(".csv") ? read_csv(path, skipped) : read_jsonl(path, skipped);
  if (all.empty()) return all;
  std::vector<Doc> docs;
  const ordered_json schema = all[0].fields;  // a copy: the loop moves the docs
  for (auto& d : all) {
    std::string missing;
    for (auto& [k, v] : schema.items())
      if (!d.fields.contains(k)) { missing = k; break; }
    if (!missing.empty()) { skipped.push_back(d.where + ": lacks field '" + missing + "'"); continue; }
    docs.push_back(std::move(d));
  }
  return docs;
}

bool parse_python_string_list(const std::string& s, std::vector<std::string>& out) {
  out.clear();
  size_t i = 0;
  auto ws = [&] { while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t')) ++i; };
  auto hex = [&](size_t n, uint32_t& cp) {
    if (i + n > s.size()) return false;
    cp = 0;
    for (size_t k = 0; k < n; ++k) {
      char c = s[i + k];
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) return false;
      cp = cp * 16 + uint32_t(d);
    }
    i += n;
    return true;
  };
  auto put = [](std::string& o, uint32_t cp) {
    if (cp < 0x80) o += char(cp);
    else if (cp < 0x800) { o += char(0xC0 | (cp >> 6)); o += char(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { o += char(0xE0 | (cp >> 12)); o += char(0x80 | ((cp >> 6) & 0x3F)); o += char(0x80 | (cp & 0x3F)); }
    else { o += char(0xF0 | (cp >> 18)); o += char(0x80 | ((cp >> 12) & 0x3F)); o += char(0x80 | ((cp >> 6) & 0x3F)); o += char(0x80 | (cp & 0x3F)); }
  };
  ws();
  if (i >= s.size() || s[i] != '[') return false;
  ++i;
  ws();
  if (i < s.size() && s[i] == ']') { ++i; ws(); return i == s.size(); }
  while (true) {
    ws();
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) return false;
    const char q = s[i++];
    std::string item;
    while (true) {
      if (i >= s.size()) return false;
      char c = s[i++];
      if (c == q) break;
      if (c != '\\') { item += c; continue; }
      if (i >= s.size()) return false;
      char e = s[i++];
      uint32_t cp = 0;
      switch (e) {
        case 'n': item += '\n'; break;
        case 't': item += '\t'; break;
        case 'r': item += '\r'; break;
        case '\\': case '\'': case '"': item += e; break;
        case 'x': if (!hex(2, cp)) return false; put(item, cp); break;
        case 'u': if (!hex(4, cp)) return false; put(item, cp); break;
        case 'U': if (!hex(8, cp)) return false; put(item, cp); break;
        default: return false;
      }
    }
    out.push_back(std::move(item));
    ws();
    if (i < s.size() && s[i] == ',') { ++i; ws(); if (i < s.size() && s[i] == ']') { ++i; break; } continue; }
    if (i < s.size() && s[i] == ']') { ++i; break; }
    return false;
  }
  ws();
  return i == s.size();
}

// A row a template cannot render (lm-eval's StrictUndefined would raise): skipped, not fatal.
struct RowSkip {
  std::string why;
};

// The names a template reads from outside itself: every Name node, less the names its own
// for/set/macro statements bind (call keyword names land in `names` too; that only makes the
// check more lenient).
void free_names(const ct::Node& n, std::set<std::string>& used, std::set<std::string>& bound) {
  if (n.kind == ct::NodeKind::Name) used.insert(n.name);
  if (n.kind == ct::NodeKind::For || n.kind == ct::NodeKind::Set || n.kind == ct::NodeKind::SetBlock ||
      n.kind == ct::NodeKind::Macro) {
    bound.insert(n.names.begin(), n.names.end());
    bound.insert(n.name);
  }
  for (const auto& a : n.args)
    if (a) free_names(*a, used, bound);
  for (const auto& b : n.body) free_names(*b, used, bound);
  for (const auto& b : n.else_body) free_names(*b, used, bound);
  for (const auto& [cond, body] : n.branches) {
    if (cond) free_names(*cond, used, bound);
    for (const auto& b : body) free_names(*b, used, bound);
  }
}

struct Parsed {
  ct::Body body;
  std::vector<std::string> fields;  // names the doc must have
};

struct TaskTemplates::Impl {
  const TaskConfig& c;
  std::map<std::string, Parsed> bodies;  // parsed templates by source
  ct::Dict globals = ct::builtin_globals();

  explicit Impl(const TaskConfig& config) : c(config) {}

  const Parsed& body(const std::string& src, const std::string& key, const std::string& where) {
    auto it = bodies.find(src);
    if (it != bodies.end()) return it->second;
    Parsed p;
    try {
      // lm-eval's Environment keeps a trailing newline; the lexer drops one (Jinja2's default), so
      // a template that ends in one gets one more.
      const std::string text = src.ends_with('\n') ? src + "\n" : src;
      p.body = ct::parse(ct::lex(text, ct::LexSettings{false, false}));
    } catch (const Error& e) {
      usage_error(key + ": " + e.what(), where);
    }
    std::set<std::string> used, bound = {"doc", "loop"};
    for (const auto& n : p.body) free_names(*n, used, bound);
    for (const auto& u : used)
      if (!bound.count(u) && !globals.find(u)) p.fields.push_back(u);
    return bodies.emplace(src, std::move(p)).first->second;
  }
  std::string render_template(const std::string& src, const Doc& doc, const std::string& key,
                              const std::string& where) {
    const auto& parsed = body(src, key, where);
    for (const auto& f : parsed.fields)
      if (!doc.fields.contains(f)) throw RowSkip{key + " uses '" + f + "', a field this row lacks"};
    const auto& b = parsed.body;
    ct::Dict vars = globals;
    for (auto& [k, v] : doc.fields.items()) vars.set(k, ct::Value::from_json(v));
    vars.set("doc", ct::Value::from_json(doc.fields));
    try {
      return ct::render(b, vars);
    } catch (const Error& e) {
      usage_error(key + ": " + e.what() + " (rendering " + doc.where + ")", where);
    }
  }
  // A field name gives the field's JSON; else the template's text.
  ordered_json value(const TemplateKey& t, const Doc& doc, const std::string& key) {
    if (t.is_int) return t.int_value;
    if (doc.fields.contains(t.text)) return doc.fields[t.text];
    return render_template(t.text, doc, key, t.where);
  }
};

TaskTemplates::TaskTemplates(const TaskConfig& config) : impl_(std::make_unique<Impl>(config)) {}
TaskTemplates::~TaskTemplates() = default;

bool TaskTemplates::render(const Doc& doc, RenderedDoc& out, std::string& why) const {
  try {
    return render_fields(doc, out, why);
  } catch (const RowSkip& skip) {
    why = skip.why;
    return false;
  }
}

bool TaskTemplates::render_fields(const Doc& doc, RenderedDoc& out, std::string& why) const {
  auto& m = *impl_;
  const auto& c = m.c;
  out = RenderedDoc{};
  if (c.description.present) out.description = m.render_template(c.description.text, doc, "description", c.description.where);
  if (c.doc_to_text.present) out.text = value_text(m.value(c.doc_to_text, doc, "doc_to_text"));
  if (c.doc_to_choice.present) {
    if (c.doc_to_choice.is_list) {
      out.choices = c.doc_to_choice.list;
    } else {
      ordered_json v = m.value(c.doc_to_choice, doc, "doc_to_choice");
      if (v.is_array()) {
        for (auto& x : v) out.choices.push_back(value_text(x));
      } else if (!parse_python_string_list(value_text(v), out.choices)) {
        why = "doc_to_choice gave " + shown(value_text(v)) + ", not a list of strings";
        return false;
      }
    }
    if (out.choices.empty()) { why = "doc_to_choice gave no choices"; return false; }
  }
  ordered_json t = m.value(c.doc_to_target, doc, "doc_to_target");
  if (t.is_string() && c.doc_to_choice.present && is_int_text(t.get<std::string>()) && t.get<std::string>()[0] != '-')
    t = std::stoll(t.get<std::string>());
  if (c.output_type == OutputType::MultipleChoice) {
    if (t.is_number_integer()) {
      out.gold = t.get<int64_t>();
    } else {
      const std::string s = value_text(t);
      for (size_t i = 0; i < out.choices.size(); ++i)
        if (out.choices[i] == s) { out.gold = int64_t(i); break; }
      if (out.gold < 0) { why = "target " + shown(s) + " is not one of the choices"; return false; }
    }
    if (out.gold < 0 || out.gold >= int64_t(out.choices.size())) {
      why = "target index " + std::to_string(out.gold) + " is outside the " + std::to_string(out.choices.size()) + " choices";
      return false;
    }
    out.target = out.choices[size_t(out.gold)];
  } else if (t.is_number_integer() && !out.choices.empty()) {
    if (t.get<int64_t>() < 0 || t.get<int64_t>() >= int64_t(out.choices.size())) { why = "target index outside the choices"; return false; }
    out.target = out.choices[size_t(t.get<int64_t>())];
  } else {
    out.target = value_text(t);
  }
  return true;
}

}  // namespace nlm::eval::tasks
