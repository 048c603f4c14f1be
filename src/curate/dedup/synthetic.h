// A synthetic corpus with planted near-duplicates of known Jaccard similarity, for the dedup
// tests and benchmarks. Base documents are random words from a large pseudo-word vocabulary; a
// variant replaces m words at positions at least n+1 apart, so exactly n·m of its word n-grams
// change and J(base, variant) = (S - n·m) / (S + n·m) with S = words - n + 1 shingles.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nlm::dedup {

struct SyntheticOptions {
  uint64_t seed = 1;
  size_t bases = 1000;       // independent base documents
  size_t words = 204;        // words per document
  size_t vocab = 1 << 20;    // distinct pseudo-words (large, so unrelated texts share no n-grams)
  int ngram = 5;             // the shingle length the planted levels are computed for
  // One variant per base, cycling through these target Jaccard levels; empty = no variants.
  std::vector<double> levels = {0.95, 0.9, 0.85, 0.7, 0.55, 0.4};
};

struct SyntheticDoc {
  std::string id, text;
  int64_t base = -1;     // index (in the output) of the document this one was derived from
  double jaccard = 1.0;  // planted similarity to that base (exact for word n-gram shingles)
};

// Bases and variants interleaved: base i, then its variant. Deterministic in the seed.
std::vector<SyntheticDoc> make_synthetic_corpus(const SyntheticOptions& options);

}  // namespace nlm::dedup
