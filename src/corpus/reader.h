// Streaming document reader for one input file: JSONL or plain text, plain or compressed. Memory
// is bounded by the longest record. Malformed records are skipped and counted (see ReadStats and
// Diagnostics); invalid UTF-8 is repaired to U+FFFD and counted; a truncated compressed file ends
// that file's documents early and is counted, keeping every document read before the damage.
#pragma once
#include <memory>
#include <string>

#include "corpus/document.h"
#include "corpus/read_options.h"

namespace nlm::corpus {

class DocumentReader {
 public:
  // `diagnostics` may be shared by several readers; when null the reader keeps its own.
  // Throws nlm::Error if the file cannot be opened.
  DocumentReader(const std::string& path, const ReadOptions& options,
                 Diagnostics* diagnostics = nullptr);
  ~DocumentReader();
  DocumentReader(const DocumentReader&) = delete;
  DocumentReader& operator=(const DocumentReader&) = delete;

  // Fills `doc` with the next document; false at the end of the file.
  bool next(Document& doc);
  const ReadStats& stats() const;
  // Raw (compressed) bytes consumed so far, for progress against the file size.
  uint64_t raw_bytes_read() const;
  // The format actually used for this file (Auto resolved).
  InputFormat format() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Format Auto resolved for a file name.
InputFormat detect_format(const std::string& path);

}  // namespace nlm::corpus
