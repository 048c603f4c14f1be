// The document-reading options (--format, --text-mode, --text-field, --id-field, --strict) that
// every command reading corpora shares: corpus::declare's fields added to a command's schema.
#pragma once
#include "core/options.h"
#include "corpus/read_options.h"
#include "corpus/writer.h"

namespace nlm::cli {

// Adds the read fields to `schema` (as flags, outside the options JSON: they say how inputs are
// read, which the manifest records with the inputs). With `output`, written records keep the
// field names they were read with.
void add_read_options(opt::Schema& schema, corpus::ReadOptions& read, corpus::ShardOptions* output = nullptr);

}  // namespace nlm::cli
