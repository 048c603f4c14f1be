// `nativelm corpus stats`: the figures of a corpus as curate would see it. Inputs go through
// curate's own sources (source.h), so a WARC is counted as the pages curate extracts from it, a
// MediaWiki dump as its articles, and JSONL/text as the reader splits them; what the sources skip
// or refuse is counted beside the reader's malformed records. With `languages`, each document is
// also run through the lid step's identifier (CLD2 or a fastText model), so a user sees which
// languages a dump really holds before choosing `--lang`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "corpus/read_options.h"
#include "corpus/stats.h"

namespace nlm::opt {
class Schema;
}

namespace nlm::curate {

struct CorpusStatsOptions {
  corpus::ReadOptions read;
  // Print CorpusStats::to_json() instead of the table.
  bool json = false;
  // Count documents and bytes per language (the identifier's labels).
  bool languages = false;
  // fastText model for the language count (from `nativelm lid train`); empty uses CLD2.
  std::string lid_model;
  // Bytes of each document the identifier examines, as the lid step's max_bytes.
  int64_t lid_max_bytes = 4096;
};

// Its flags (the read options come from cli::add_read_options / corpus::declare).
void declare(opt::Schema& schema, CorpusStatsOptions& options);

// Reads every file (threads from nlm::thread_count(), one file per task) and totals the stats.
// The totals do not depend on the thread count. Shows progress.
corpus::CorpusStats corpus_stats(const std::vector<std::string>& files, const CorpusStatsOptions& options);

}  // namespace nlm::curate
