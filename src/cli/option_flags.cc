// CLI11 binding of opt::Schema fields: flags record what the user typed; apply() parses it with the
// field's own parser, so the command line and YAML accept exactly the same values.
#include "cli/option_flags.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace nlm::cli {

namespace {

// "--memory" for "-m,--memory": the spelling errors use.
std::string long_name(const std::string& flags) {
  std::string best;
  size_t start = 0;
  while (start <= flags.size()) {
    size_t comma = flags.find(',', start);
    std::string n = flags.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (best.empty() || n.rfind("--", 0) == 0) best = n;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return best;
}

bool negating(const std::string& flags) { return long_name(flags).rfind("--no-", 0) == 0; }

}  // namespace

CLI::Option* literal_list(CLI::Option* option) {
  return option->expected(CLI::detail::expected_max_vector_size, CLI::detail::expected_max_vector_size)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->type_name("TEXT");
}

FlagBinding::FlagBinding(CLI::App& app, opt::Schema& schema) : schema_(&schema) {
  for (const opt::Field& f : schema.fields()) {
    if (f.flags.empty()) continue;
    const opt::Field* fp = &f;
    std::string doc = f.doc;
    if (f.type == opt::Type::Bool) {
      bool neg = negating(f.flags);
      // The field's doc says what the setting does when on; the help line is for the flag, which
      // turns it off ("--no-bos  Turn off, on by default: put the BOS token before ...").
      if (neg && !doc.empty()) {
        std::string what = doc;
        // Lower-case the first word unless it is a name ("MinHash", "BOS", "LoRA").
        const std::string first = what.substr(0, what.find_first_of(" :,;("));
        if (std::isupper(static_cast<unsigned char>(first[0])) &&
            std::none_of(first.begin() + 1, first.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); }))
          what[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[0])));
        doc = (f.text() == "true" ? "Turn off, on by default: " : "Turn off: ") + what;
      }
      app.add_flag_function(
          f.flags, [this, fp, neg](int64_t) { given_.push_back({fp, {neg ? "false" : "true"}}); }, doc);
      continue;
    }
    CLI::Option* o = nullptr;
    if (f.type == opt::Type::List) {
      o = literal_list(app.add_option_function<std::vector<std::string>>(
          f.flags, [this, fp](const std::vector<std::string>& v) { given_.push_back({fp, v}); }, doc));
    } else {
      o = app.add_option_function<std::string>(
          f.flags, [this, fp](const std::string& v) { given_.push_back({fp, {v}}); }, doc);
    }
    o->type_name(f.type_name);
    std::string def = f.text();
    if (!def.empty()) o->default_str(def);
  }
  app.add_flag("--print-options", print_,
               "Print the resolved options as JSON (what manifest.json records) and exit without running");
}

bool FlagBinding::apply() {
  auto namer_ = namer();
  opt::named(namer_, [&] {
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& [field, values] : given_)
        if (field->first == (pass == 0)) field->assign(values);
    schema_->resolve();
  });
  if (print_) {
    std::printf("%s\n", schema_->to_json().c_str());
    return false;
  }
  return true;
}

bool FlagBinding::given(const std::string& key) const {
  for (const auto& [field, values] : given_)
    if (field->key == key) return true;
  return false;
}

opt::Namer FlagBinding::namer() const {
  opt::Namer n;
  const opt::Schema* schema = schema_;
  // From the config file: set there (Field::given) and not overridden on the command line.
  auto from_config = [this, schema](const std::string& key) {
    return config_.name && !given(key) && schema->given(key);
  };
  n.name = [this, schema, from_config](const std::string& key) {
    if (from_config(key)) return config_.name(key);
    const opt::Field* f = schema->find(key);
    if (f && !f->flags.empty()) return long_name(f->flags);
    return key;  // an option without a flag
  };
  n.where = [this, from_config](const std::string& key) {
    return from_config(key) && config_.where ? config_.where(key) : std::string();
  };
  return n;
}

}  // namespace nlm::cli
