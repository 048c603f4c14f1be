// Binding of corpus::ReadOptions to CLI flags; the help texts mirror the struct's comments.
#include "cli/read_flags.h"

namespace nlm::cli {

const corpus::ReadOptions& ReadFlags::resolve() {
  options.format = corpus::parse_input_format(format);
  options.text_mode = corpus::parse_text_mode(text_mode);
  return options;
}

void add_read_flags(CLI::App& app, ReadFlags& f) {
  app.add_option("--format", f.format,
                 "Input format: auto (by file name: .jsonl/.json/.ndjson are JSONL, the rest text), jsonl, text")
      ->capture_default_str();
  app.add_option("--text-mode", f.text_mode,
                 "How plain text splits into documents: line, paragraph (blank-line separated), file")
      ->capture_default_str();
  app.add_option("--text-field", f.options.text_field, "JSON member holding the text")->capture_default_str();
  app.add_option("--id-field", f.options.id_field, "JSON member holding the document id")->capture_default_str();
  app.add_flag("--strict", f.options.strict,
               "Stop at the first malformed record instead of skipping and counting it");
}

}  // namespace nlm::cli
