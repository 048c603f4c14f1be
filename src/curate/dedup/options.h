// Options of `nativelm dedup`: one struct, documented where each field is declared (default and
// what it costs or buys). The CLI, pipeline files and docs/dedup.md all follow it.
#pragma once
#include <cstdint>
#include <string>

#include "corpus/read_options.h"
#include "corpus/writer.h"

namespace nlm::opt {
class Schema;
}

namespace nlm::dedup {

enum class ShingleKind {
  Word,  // word n-grams (ICU word break, so CJK and Thai work); FineWeb style
  Char,  // code point n-grams of the normalised text; NeMo style (n = 24)
};

enum class KeepKind {
  First,    // the earliest document of a cluster (input order)
  Longest,  // the longest text (bytes); ties go to the earliest
  Field,    // the highest numeric value of a metadata field; missing counts as lowest
};

struct KeepPolicy {
  KeepKind kind = KeepKind::First;
  std::string field;  // for KeepKind::Field
};
// "first" | "longest" | "field:NAME"; throws a usage error otherwise.
KeepPolicy parse_keep_policy(const std::string& s);
std::string keep_policy_name(const KeepPolicy& p);

struct MinHashParams {
  // Shingle unit and length. Word 5-grams (FineWeb); char 24-grams with --shingle char (NeMo).
  ShingleKind shingle = ShingleKind::Word;
  int ngram = 5;
  // LSH bands × rows per band = hashes per signature. 14 × 8 = 112 hashes puts the 50 %
  // detection point near Jaccard 0.72 (FineWeb). More bands catch lower similarity; more rows
  // make the curve steeper. Preset "nemo" is 20 × 13 (260 hashes, about 3x slower).
  int bands = 14;
  int rows = 8;
  // Seed of the shingle hashes and of the hash permutations; same seed, same signatures.
  uint64_t seed = 1;
  int hashes() const { return bands * rows; }
  // The similarity at which a pair becomes a candidate with probability 1/2: (1/b)^(1/r).
  double lsh_threshold() const;
};
// Applies a named preset ("fineweb": word 5-grams 14 × 8; "nemo": char 24-grams 20 × 13).
void apply_preset(MinHashParams& p, const std::string& name);

struct DedupOptions {
  corpus::ReadOptions read;
  corpus::ShardOptions shards;
  // Drop documents whose normalised text (NFKC case fold, collapsed whitespace) has the same
  // 128-bit hash as an earlier one.
  bool exact = true;
  // MinHash + LSH near-duplicate removal.
  bool fuzzy = true;
  MinHashParams minhash;
  // Verify every LSH candidate pair by the exact Jaccard similarity of its shingle sets and keep
  // only pairs at or above `jaccard_threshold`. Removes LSH false positives; costs another read
  // of the files holding candidate pairs, in as many passes as their shingle sets need to stay
  // within `memory`.
  bool jaccard_check = false;
  double jaccard_threshold = 0.8;
  // Which document of a cluster survives.
  KeepPolicy keep;
  // Name of the field added to kept documents: how many documents their cluster had (1 when
  // unique), so a later stage can rehydrate (up-weight) documents that were common.
  std::string cluster_size_field = "dup_cluster_size";
  // Memory for the band-key and hash sort buffers, in bytes. Beyond it, sorted runs spill to
  // `<output>/.dedup-spill/` and are merged, so the corpus size does not set peak memory.
  // Per-document state outside the sort (about 24 bytes a document) comes on top, and with the
  // Jaccard check, 8 bytes per candidate pair.
  uint64_t memory = 1ull << 30;
  // How many of the largest clusters the report lists with an excerpt of their kept text.
  int report_examples = 10;
  // Rerun even when the output's manifest shows the same inputs and options.
  bool force = false;
};

// The stage's keys and flags (docs/dedup.md's table is generated from it). Does not include the
// read options (corpus::declare) nor the output folder, which the caller owns.
void declare(opt::Schema& schema, DedupOptions& options);
// The same for `dedup-lines` (segments.h) and `decontam` (decontam.h).
struct SegmentDedupOptions;
struct DecontamOptions;
void declare(opt::Schema& schema, SegmentDedupOptions& options);
void declare(opt::Schema& schema, DecontamOptions& options);

}  // namespace nlm::dedup
