// `nativelm dedup`: exact and MinHash/LSH near-duplicate removal over a corpus, in three passes.
//   1. Read every document (files spread over threads): normalised-text hash, shingles,
//      signature, LSH band keys. Hashes and band keys go to external sorters.
//   2. Merge the sorted keys: equal text hashes and equal band keys link documents in a
//      union-find; with the Jaccard check, candidate pairs are verified first (a second read
//      of just the documents involved). Each cluster keeps one document by the keep policy.
//   3. Rewrite the kept documents, in input order, as shards with manifest.json and report.json;
//      each carries the size of its cluster.
// The output depends only on the inputs and options, never on the thread count or on the number
// of MPI ranks (`mpirun -np N nativelm dedup ...`): input files are spread over ranks, keys are
// routed to owner ranks with all-to-all exchanges, and rank 0 merges the links and writes.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "corpus/read_options.h"
#include "curate/dedup/options.h"

namespace nlm::dedup {

struct DedupResult {
  bool up_to_date = false;  // a previous run with the same inputs and options was kept as is
  int rank = 0;             // MPI rank; only rank 0 holds the totals and writes the output
  int ranks = 1;            // MPI ranks that shared the work
  corpus::ReadStats read;
  uint64_t docs_in = 0, bytes_in = 0, docs_out = 0, bytes_out = 0;
  uint64_t exact_docs = 0, exact_bytes = 0;  // removed as exact copies of the kept document
  uint64_t fuzzy_docs = 0, fuzzy_bytes = 0;  // removed as near-duplicates
  uint64_t candidate_pairs = 0;   // LSH pairs considered
  uint64_t rejected_pairs = 0;    // of those, below the Jaccard threshold (with the check)
  uint64_t jaccard_passes = 0;    // blocks the check was split into to stay within --memory
  uint64_t clusters = 0;          // clusters of two or more documents
  std::map<uint64_t, uint64_t> cluster_sizes;  // size -> how many clusters (sizes >= 2)
  struct Example {
    uint64_t size = 0;
    std::string id, excerpt;
  };
  std::vector<Example> examples;  // largest clusters first
  uint64_t spill_runs = 0;
  uint64_t resumed_files = 0;  // files whose first pass was taken from an interrupted run's checkpoint
  double seconds = 0, seconds_read = 0, seconds_cluster = 0, seconds_write = 0;
  std::string to_json() const;
  std::string summary() const;
};

DedupResult run_dedup(const std::vector<std::string>& files, const DedupOptions& options);

// The options as a canonical JSON object (for manifests and resume checks).
std::string options_json(const DedupOptions& options);

}  // namespace nlm::dedup
