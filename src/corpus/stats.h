// `corpus stats`: one streaming pass over inputs that counts documents, bytes, characters, lines,
// a document-length histogram and the scripts seen, plus what the readers skipped. Files are
// spread over threads and the per-file results merged, so the figures do not depend on threads.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "corpus/document.h"
#include "corpus/read_options.h"
#include "text/script.h"

namespace nlm::corpus {

struct CorpusStats {
  // Histogram of characters per document; bucket i holds lengths in [edges[i], edges[i+1]).
  static constexpr std::array<uint64_t, 10> kEdges = {0, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576};
  uint64_t docs = 0;
  uint64_t bytes = 0;   // UTF-8 bytes of text
  uint64_t chars = 0;   // code points
  uint64_t lines = 0;   // lines of text (a document with no newline has one)
  uint64_t empty_docs = 0;
  uint64_t min_chars = UINT64_MAX;
  uint64_t max_chars = 0;
  std::array<uint64_t, kEdges.size()> histogram{};
  text::ScriptCounter scripts;
  ReadStats read;

  void add(const Document& doc);
  void merge(const CorpusStats& other);
  std::string to_json() const;
  // A human-readable multi-line table.
  std::string to_table() const;
};

// Reads every file (threads from nlm::thread_count()) and totals the stats. Shows progress.
CorpusStats compute_corpus_stats(const std::vector<std::string>& files, const ReadOptions& options);

// Options of `corpus stats`: how inputs are read, and how the figures are printed.
struct StatsOptions {
  ReadOptions read;
  // Print CorpusStats::to_json() instead of the table.
  bool json = false;
};
// Its flags (the read options come from cli::add_read_options / corpus::declare).
void declare(opt::Schema& schema, StatsOptions& options);

}  // namespace nlm::corpus
