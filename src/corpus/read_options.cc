// Parsing of option enums and the malformed-record reporter.
#include "corpus/read_options.h"

#include "core/error.h"
#include "core/log.h"

namespace nlm::corpus {

InputFormat parse_input_format(const std::string& s) {
  if (s == "auto") return InputFormat::Auto;
  if (s == "jsonl") return InputFormat::Jsonl;
  if (s == "text" || s == "txt") return InputFormat::Text;
  usage_error("unknown input format '" + s + "'", "--format", "use auto, jsonl or text");
}

TextMode parse_text_mode(const std::string& s) {
  if (s == "line") return TextMode::Line;
  if (s == "paragraph") return TextMode::Paragraph;
  if (s == "file") return TextMode::File;
  usage_error("unknown text mode '" + s + "'", "--text-mode", "use line, paragraph or file");
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
