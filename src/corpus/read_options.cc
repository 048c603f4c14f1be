// Parsing of option enums and the malformed-record reporter.
#include "corpus/read_options.h"

#include "core/error.h"
#include "core/log.h"
#include "core/options.h"

namespace nlm::corpus {

InputFormat parse_input_format(const std::string& s) {
  if (s == "auto") return InputFormat::Auto;
  if (s == "jsonl") return InputFormat::Jsonl;
  if (s == "text" || s == "txt") return InputFormat::Text;
  opt::fail("format", "must be auto, jsonl or text, got " + echoed(s));
}

TextMode parse_text_mode(const std::string& s) {
  if (s == "line") return TextMode::Line;
  if (s == "paragraph") return TextMode::Paragraph;
  if (s == "file") return TextMode::File;
  opt::fail("text_mode", "must be line, paragraph or file, got " + echoed(s));
}

void declare(opt::Schema& s, ReadOptions& o) {
  s.choice("format", o.format,
           {{"auto", InputFormat::Auto}, {"jsonl", InputFormat::Jsonl}, {"text", InputFormat::Text},
            {"txt", InputFormat::Text}},
           "Input format: auto (by file name: .jsonl/.json/.ndjson are JSONL, the rest text), jsonl, text");
  s.choice("text_mode", o.text_mode,
           {{"line", TextMode::Line}, {"paragraph", TextMode::Paragraph}, {"file", TextMode::File}},
           "How plain text splits into documents: line, paragraph (blank-line separated), file");
  s.add("text_field", o.text_field, "JSON member holding the text");
  s.add("id_field", o.id_field, "JSON member holding the document id");
  s.add("strict", o.strict, "Stop at the first malformed record instead of skipping and counting it");
}

const char* input_format_name(InputFormat f) {
  switch (f) {
    case InputFormat::Auto: return "auto";
    case InputFormat::Jsonl: return "jsonl";
    case InputFormat::Text: return "text";
  }
  return "auto";
}

const char* text_mode_name(TextMode m) {
  switch (m) {
    case TextMode::Line: return "line";
    case TextMode::Paragraph: return "paragraph";
    case TextMode::File: return "file";
  }
  return "paragraph";
}

void ReadStats::merge(const ReadStats& o) {
  files += o.files;
  docs += o.docs;
  text_bytes += o.text_bytes;
  raw_bytes += o.raw_bytes;
  bad_json += o.bad_json;
  missing_text += o.missing_text;
  wrong_type += o.wrong_type;
  invalid_utf8_docs += o.invalid_utf8_docs;
  utf8_replacements += o.utf8_replacements;
  truncated_files += o.truncated_files;
}

void Diagnostics::malformed(const std::string& where, const std::string& what) {
  ++total_;
  if (strict_)
    runtime_error(what, where, "fix the input or drop --strict to skip and count such records");
  if (reported_.fetch_add(1) < max_reported_) {
    log::warn("skipped malformed record: " + what + " (" + where + ")");
    if (reported_.load() == max_reported_)
      log::warn("further malformed records are counted but not reported");
  }
}

}  // namespace nlm::corpus
