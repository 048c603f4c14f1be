// The figures of `corpus stats`: documents, bytes, characters, lines, a document-length
// histogram, the scripts seen and (when counted) the languages, plus what the readers skipped.
// Per-worker totals merge by addition, so the figures do not depend on threads. The pass itself
// runs curate's sources (curate/corpus_stats.h), which know WARC and wiki dumps.
#pragma once
#include <array>
#include <cstdint>
#include <map>
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
  // Documents and bytes per language label; filled only when languages are counted, by `lid`.
  struct LangTally {
    uint64_t docs = 0;
    uint64_t bytes = 0;
  };
  std::map<std::string, LangTally> languages;
  std::string lid;  // the identifier's name ("CLD2", ...); empty when languages were not counted
  // What archive sources counted beyond ReadStats ("warc.records", "warc.html_no_text",
  // "wiki.redirects", ...).
  std::map<std::string, uint64_t> source_counts;

  void add(const Document& doc);
  void merge(const CorpusStats& other);
  std::string to_json() const;
  // A human-readable multi-line table.
  std::string to_table() const;
  // Languages by documents, most first (ties in label order).
  std::vector<std::pair<std::string, LangTally>> sorted_languages() const;
};

}  // namespace nlm::corpus
