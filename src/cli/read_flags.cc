// Binding of corpus::ReadOptions into command schemas.
#include "cli/read_flags.h"

namespace nlm::cli {

void add_read_options(opt::Schema& schema, corpus::ReadOptions& read, corpus::ShardOptions* output) {
  size_t before = schema.fields().size();
  corpus::declare(schema, read);
  for (size_t i = before; i < schema.fields().size(); ++i) schema.fields()[i].no_yaml().no_json();
  if (output)
    schema.derive([&read, output] {
      output->write.text_field = read.text_field;
      output->write.id_field = read.id_field;
    });
}

// ---- the older binding, until every command uses add_read_options --------------------------

const corpus::ReadOptions& ReadFlags::resolve() {
  opt::Namer flags;
  flags.name = [](const std::string& key) { return key == "format" ? "--format" : "--text-mode"; };
  opt::named(flags, [&] {
    options.format = corpus::parse_input_format(format);
    options.text_mode = corpus::parse_text_mode(text_mode);
  });
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
