// The document-reading flags (--format, --text-mode, --text-field, --id-field, --strict) that
// every command reading corpora shares, bound to one corpus::ReadOptions.
#pragma once
#include <memory>
#include <string>

#include "cli/command.h"
#include "corpus/read_options.h"

namespace nlm::cli {

struct ReadFlags {
  corpus::ReadOptions options;
  std::string format = "auto";
  std::string text_mode = "paragraph";
  // Converts the string flags into `options` (throws a usage error on a bad value).
  const corpus::ReadOptions& resolve();
};

void add_read_flags(CLI::App& app, ReadFlags& flags);

}  // namespace nlm::cli
