// `nativelm dedup-lines`: line or paragraph dedup across a corpus (C4 / datatrove style). A line
// (or blank-line separated paragraph) whose normalised text occurs in more than `max_docs`
// documents is boilerplate: it is removed from every document but the first that has it.
// Documents left with too little text are dropped. Two passes: segment hashes of every document
// go through an external sort (bounded by `memory`) to count documents per segment; then the
// documents are rewritten in input order.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "corpus/read_options.h"
#include "corpus/writer.h"

namespace nlm::dedup {

enum class SegmentUnit { Line, Paragraph };

struct SegmentDedupOptions {
  corpus::ReadOptions read;
  corpus::ShardOptions shards;
  SegmentUnit unit = SegmentUnit::Line;
  // A segment found in more than this many documents is removed from all but the first. 1 keeps
  // exactly one copy of every repeated segment (C4); larger values only hit boilerplate.
  uint64_t max_docs = 1;
  // Segments shorter than this many bytes after normalisation are never removed (empty lines,
  // "Yes", bullet marks): removing them would shred text without saving anything.
  uint64_t min_segment_bytes = 10;
  // Documents with less text than this left after removal are dropped (0 keeps them all).
  uint64_t min_doc_bytes = 1;
  // Sort buffer budget in bytes; beyond it segment hashes spill to `<output>/.dedup-spill/`.
  uint64_t memory = 1ull << 30;
  // Examples of the most repeated segments listed in the report.
  int report_examples = 10;
  bool force = false;  // redo even when the manifest matches
};

struct SegmentDedupResult {
  bool up_to_date = false;
  corpus::ReadStats read;
  uint64_t docs_in = 0, docs_out = 0, docs_dropped = 0, docs_changed = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  uint64_t segments_in = 0, segments_removed = 0, bytes_removed = 0;
  uint64_t frequent_segments = 0;  // distinct segments over the limit
  struct Example {
    uint64_t docs = 0;
    std::string text;
  };
  std::vector<Example> examples;  // most repeated first
  double seconds = 0;
  std::string to_json() const;
  std::string summary() const;
};

SegmentDedupResult run_segment_dedup(const std::vector<std::string>& files, const SegmentDedupOptions& options);

// Splits text into segments: (begin, end) of each segment's text, where the separator after it
// runs to the next segment's begin. Lines split at '\n'; paragraphs at lines that are blank.
std::vector<std::pair<size_t, size_t>> split_segments(std::string_view text, SegmentUnit unit);

}  // namespace nlm::dedup
