// Per-file results of dedup's first pass (sorted key runs, document sizes and keep values, read
// counts), kept in <output>/.dedup-work/ until the run finishes. A file's checkpoint is named by
// a tag that hashes the options, the file's position and its size and content hash, and counts
// only once its marker file is published (atomically, last), so a run killed at any moment
// resumes by re-reading just the files whose checkpoints are incomplete.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/manifest.h"
#include "corpus/read_options.h"

namespace nlm::dedup {

struct FileCheckpoint {
  std::vector<std::pair<std::string, uint64_t>> band_runs, exact_runs;  // (run file path, records)
  std::vector<uint32_t> bytes;  // text bytes per document (saturating)
  std::vector<float> value;     // keep-policy field values (KeepKind::Field only)
  corpus::ReadStats stats;
};

std::string checkpoint_tag(const std::string& options_json, size_t index, const FileEntry& input);
// Loads a complete checkpoint; false when it is missing, torn or its run files do not match.
bool load_checkpoint(const std::string& dir, const std::string& tag, FileCheckpoint& out);
// Writes the document table, then the marker that makes the checkpoint complete. The run files
// must already be written.
void save_checkpoint(const std::string& dir, const std::string& tag, const FileCheckpoint& cp);

}  // namespace nlm::dedup
