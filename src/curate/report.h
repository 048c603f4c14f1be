// What a curate run did, totalled over shards: documents and bytes in and out, removals per step
// (the funnel) and per rule, languages of the kept documents, PII and normaliser counts, and what
// the readers skipped. Per-shard stats are stored in the shard manifests so a resumed run still
// reports the whole corpus.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "corpus/read_options.h"
#include "curate/doc_context.h"

namespace nlm::curate {

struct CurateStats {
  uint64_t docs_in = 0, bytes_in = 0, docs_out = 0, bytes_out = 0;
  std::map<std::string, uint64_t> removed_by_step;    // step name → documents
  std::map<std::string, uint64_t> removed_by_reason;  // "<step>.<rule>" → documents
  std::map<std::string, uint64_t> languages;          // kept documents per "lang" ("" unknown)
  Counters counters;                                  // "pii", "normalize", ... (see steps)
  corpus::ReadStats read;

  void merge(const CurateStats& o);
  std::string to_json() const;
  // Throws a runtime nlm::Error on malformed JSON.
  static CurateStats from_json(const std::string& json);
};

struct CurateReport {
  CurateStats stats;
  std::vector<std::string> steps;  // chain order, for the funnel
  size_t shards = 0, shards_skipped = 0;
  double seconds = 0;
  uint64_t processed_bytes = 0;    // input text bytes of the shards run now (not skipped)
  int threads = 1;                 // over all ranks
  int ranks = 1;                   // MPI ranks that ran shards
  std::string options_json = "{}";

  // MB/s of input text over the shards processed in this run.
  double throughput_mb_s() const;
  std::string to_json() const;
  // The table `curate` prints: in/out, funnel, top rules, languages, PII, throughput.
  std::string to_table() const;
};

}  // namespace nlm::curate
