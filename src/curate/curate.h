// `nativelm curate`: runs the step chain over document shards on N threads. Input shard i becomes
// output shard part-<i> (same order of documents, removed ones left out); removed documents go to
// the rejects folder with "reject_reason" and "reject_value". Each finished shard records a
// manifest (under OUT/.shards/), so a rerun with the same inputs and options skips it. At the end
// OUT/manifest.json and OUT/report.json are published. A quality step with keep_fraction first
// runs the chain up to that step over every input to find the global score cut (quality.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "corpus/read_options.h"
#include "curate/chain.h"
#include "curate/report.h"

namespace nlm::curate {

struct CurateOptions {
  corpus::ReadOptions read;
  // Output folder (required). Shards are part-NNNNN<extension>.
  std::string output_dir;
  // Folder for removed documents with their reason; "" writes none.
  std::string rejects_dir;
  // Output file extension; picks the codec (.jsonl, .jsonl.gz, .jsonl.zst, .jsonl.bz2).
  std::string extension = ".jsonl.zst";
  // Codec level (< 0: codec default).
  int level = -1;
  // Documents longer than this many bytes are removed before any step (reason
  // size.max_doc_bytes; 0 = no limit): Gopher's max_words would remove them anyway, after far more work.
  uint64_t max_doc_bytes = 8 << 20;
  // Redo every shard even when its manifest says it is done.
  bool force = false;
  // Threads; <= 0 uses nlm::thread_count(). Shards are the unit of parallelism.
  int threads = 0;
  ChainConfig chain;
};

// The keys and flags of CurateOptions (config.cc): output, rejects, extension, level,
// max_doc_bytes, force, the command-line shortcuts into the chain (steps, lang, min_lang_score,
// lid_model, quality_model, opencc) and the chain's JSON. The chain's YAML keys (steps, profiles, html) are read
// by config.h; the read options by corpus::declare.
void declare(opt::Schema& schema, CurateOptions& options);

// Runs curation; throws nlm::Error on bad options or I/O failure. Bad records are counted.
CurateReport run_curate(const std::vector<std::string>& files, const CurateOptions& options);

}  // namespace nlm::curate
