// DocumentReader: JSONL through simdjson On-Demand (parsed in place from the line buffer, which
// carries SIMDJSON_PADDING), plain text through LineReader in line/paragraph/file modes.
#include "corpus/reader.h"

#include <simdjson.h>

#include <string_view>

#include "core/compressed_stream.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "core/line_reader.h"
#include "text/utf8.h"

namespace nlm::corpus {

static_assert(kLinePadding >= simdjson::SIMDJSON_PADDING, "line padding must cover simdjson's padding");

namespace {
std::string_view strip_compression_ext(std::string_view p) {
  for (std::string_view ext : {".gz", ".zst", ".zstd", ".bz2"})
    if (p.size() > ext.size() && p.substr(p.size() - ext.size()) == ext)
      return p.substr(0, p.size() - ext.size());
  return p;
}
bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}
bool blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != '\v') return false;
  return true;
}
std::string_view rtrim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}
}  // namespace

InputFormat detect_format(const std::string& path) {
  std::string_view p = strip_compression_ext(path);
  if (ends_with(p, ".jsonl") || ends_with(p, ".json") || ends_with(p, ".ndjson"))
    return InputFormat::Jsonl;
  return InputFormat::Text;
}

struct DocumentReader::Impl {
  ReadOptions opt;
  InputFormat format;
  std::unique_ptr<InputStream> in;
  std::unique_ptr<LineReader> lines;
  Diagnostics own_diag;
  Diagnostics* diag;
  ReadStats stats;
  std::shared_ptr<const std::string> source;
  simdjson::ondemand::parser parser;
  std::string repaired;
  bool done = false;

  Impl(const std::string& path, const ReadOptions& o, Diagnostics* d)
      : opt(o), own_diag(o.max_reported, o.strict), diag(d ? d : &own_diag) {
    format = opt.format == InputFormat::Auto ? detect_format(path) : opt.format;
    in = InputStream::open(path);
    lines = std::make_unique<LineReader>(*in);
    source = std::make_shared<const std::string>(path);
    stats.files = 1;
  }

  std::string where(uint64_t line) const { return *source + ":" + std::to_string(line); }

  // Reads one line; converts a damaged stream into a counted end of file.
  bool read_line(std::string_view& line) {
    if (done) return false;
    try {
      if (lines->next(line)) return true;
    } catch (const Error& e) {
      ++stats.truncated_files;
      done = true;
      diag->malformed(where(lines->line_number() + 1), e.what());
      return false;
    }
    done = true;
    return false;
  }

  void accept(Document& doc) {
    ++stats.docs;
    stats.text_bytes += doc.text.size();
  }

  // Repairs invalid UTF-8 in `text`; counts it.
  void repair_text(std::string& text) {
    size_t n = text::utf8_repair_inplace(text);
    if (n) {
      ++stats.invalid_utf8_docs;
      stats.utf8_replacements += n;
    }
  }

  bool next_jsonl(Document& doc) {
    std::string_view line;
    while (read_line(line)) {
      if (blank(line)) continue;
      size_t capacity = line.size() + lines->padding_after(line);
      size_t replacements = 0;
      if (!text::utf8_valid(line)) {
        replacements = text::utf8_repair(line, repaired);
        repaired.reserve(repaired.size() + simdjson::SIMDJSON_PADDING);
        line = repaired;
        capacity = repaired.capacity();
      }
      doc.clear();
      doc.source = source;
      doc.line = lines->line_number();
      std::string problem = parse_object(simdjson::padded_string_view(line.data(), line.size(), capacity), doc);
      if (!problem.empty()) {
        diag->malformed(where(doc.line), problem);
        continue;
      }
      if (replacements) {
        ++stats.invalid_utf8_docs;
        stats.utf8_replacements += replacements;
      }
      accept(doc);
      return true;
    }
    return false;
  }

  // Returns "" on success, else what was wrong (and bumps the matching counter).
  std::string parse_object(simdjson::padded_string_view json, Document& doc) {
    using namespace simdjson;
    ondemand::document d;
    ondemand::object obj;
    if (auto err = parser.iterate(json).get(d)) return bad_json(err);
    if (auto err = d.get_object().get(obj)) {
      ++stats.bad_json;
      return err == INCORRECT_TYPE ? "not a JSON object" : std::string("invalid JSON: ") + error_message(err);
    }
    bool have_text = false;
    for (auto field_result : obj) {
      ondemand::field field;
      if (auto err = std::move(field_result).get(field)) return bad_json(err);
      std::string_view key;
      if (auto err = field.unescaped_key().get(key)) return bad_json(err);
      ondemand::value v = field.value();
      ondemand::json_type type;
      if (auto err = v.type().get(type)) return bad_json(err);
      if (key == opt.text_field) {
        if (type != ondemand::json_type::string) {
          ++stats.wrong_type;
          return "field '" + opt.text_field + "' is not a string";
        }
        std::string_view s;
        if (auto err = v.get_string().get(s)) return bad_json(err);
        doc.text.assign(s);
        have_text = true;
        continue;
      }
      // raw_value decodes a string value (once) to validate it and hands back the decoded
      // text: a second get_string() on the same value would unescape it into the parser's
      // string buffer again, and that buffer only holds one decoding of each string.
      std::string_view raw, decoded;
      if (auto err = raw_value(v, type, raw, decoded)) return bad_json(err);
      if (key == opt.id_field) {
        doc.id.assign(type == ondemand::json_type::string ? decoded : raw);
        continue;
      }
      doc.fields.emplace_back(std::string(key), std::string(raw));
    }
    const char* rest = nullptr;
    if (d.current_location().get(rest) == simdjson::SUCCESS) {
      ++stats.bad_json;
      return "invalid JSON: trailing content after the object";
    }
    if (!have_text) {
      ++stats.missing_text;
      return "no '" + opt.text_field + "' field";
    }
    return {};
  }

  // The value's JSON text in `raw`, after checking it parses; for a string also its unescaped
  // text in `decoded`. Each value is consumed exactly once (simdjson On-Demand's contract).
  simdjson::error_code raw_value(simdjson::ondemand::value& v, simdjson::ondemand::json_type type,
                                 std::string_view& raw, std::string_view& decoded) {
    using namespace simdjson;
    switch (type) {
      // simdjson skips a nested value without a depth limit; its text is kept verbatim and
      // written out again, so a value deeper than kMaxJsonDepth (with the record's own level)
      // is refused here, before any later reader has to recurse through it.
      case ondemand::json_type::object: {
        ondemand::object o;
        if (auto err = v.get_object().get(o)) return err;
        if (auto err = o.raw_json().get(raw)) return err;
        return json_depth(raw) >= kMaxJsonDepth ? DEPTH_ERROR : SUCCESS;
      }
      case ondemand::json_type::array: {
        ondemand::array a;
        if (auto err = v.get_array().get(a)) return err;
        if (auto err = a.raw_json().get(raw)) return err;
        return json_depth(raw) >= kMaxJsonDepth ? DEPTH_ERROR : SUCCESS;
      }
      case ondemand::json_type::string: {
        raw = v.raw_json_token();
        if (auto err = v.get_string().get(decoded)) return err;
        break;
      }
      case ondemand::json_type::number: {
        raw = v.raw_json_token();
        double d;
        if (auto err = v.get_double().get(d)) {
          if (err != NUMBER_OUT_OF_RANGE) return err;
        }
        break;
      }
      case ondemand::json_type::boolean: {
        raw = v.raw_json_token();
        bool b;
        if (auto err = v.get_bool().get(b)) return err;
        break;
      }
      case ondemand::json_type::null: {
        raw = v.raw_json_token();
        bool is_null;
        if (auto err = v.is_null().get(is_null)) return err;
        if (!is_null) return INCORRECT_TYPE;
        break;
      }
    }
    raw = rtrim(raw);
    return SUCCESS;
  }

  std::string bad_json(simdjson::error_code err) {
    ++stats.bad_json;
    if (err == simdjson::DEPTH_ERROR)
      return "JSON nests arrays and objects deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    return std::string("invalid JSON: ") + simdjson::error_message(err);
  }

  bool next_text(Document& doc) {
    std::string_view line;
    switch (opt.text_mode) {
      case TextMode::Line:
        while (read_line(line)) {
          if (blank(line)) continue;
          start_text_doc(doc, lines->line_number());
          doc.text.assign(line);
          return finish_text_doc(doc);
        }
        return false;
      case TextMode::Paragraph: {
        bool started = false;
        while (read_line(line)) {
          if (blank(line)) {
            if (started) return finish_text_doc(doc);
            continue;
          }
          if (!started) {
            start_text_doc(doc, lines->line_number());
            started = true;
          } else {
            doc.text.push_back('\n');
          }
          doc.text.append(line);
        }
        return started ? finish_text_doc(doc) : false;
      }
      case TextMode::File: {
        if (done) return false;
        start_text_doc(doc, 0);
        doc.id = *source;
        bool any = false;
        while (read_line(line)) {
          if (any) doc.text.push_back('\n');
          doc.text.append(line);
          any = true;
        }
        if (!any || blank(doc.text)) return false;
        return finish_text_doc(doc);
      }
    }
    return false;
  }

  void start_text_doc(Document& doc, uint64_t line_no) {
    doc.clear();
    doc.source = source;
    doc.line = line_no;
    doc.id = *source + ":" + std::to_string(line_no);
  }
  bool finish_text_doc(Document& doc) {
    repair_text(doc.text);
    accept(doc);
    return true;
  }
};

DocumentReader::DocumentReader(const std::string& path, const ReadOptions& options,
                               Diagnostics* diagnostics)
    : impl_(std::make_unique<Impl>(path, options, diagnostics)) {}

DocumentReader::~DocumentReader() = default;

bool DocumentReader::next(Document& doc) {
  bool ok = impl_->format == InputFormat::Jsonl ? impl_->next_jsonl(doc) : impl_->next_text(doc);
  impl_->stats.raw_bytes = impl_->in->raw_bytes_read();
  return ok;
}

const ReadStats& DocumentReader::stats() const { return impl_->stats; }
uint64_t DocumentReader::raw_bytes_read() const { return impl_->in->raw_bytes_read(); }
InputFormat DocumentReader::format() const { return impl_->format; }

}  // namespace nlm::corpus
