// What BLEU and chrF share with sacreBLEU besides their formulas: references come as streams
// (stream r holds the r-th reference of every segment), empty references are dropped so segments
// may have different numbers of references ("nrefs:var"), and the signature is "key:value" pairs
// joined by '|' with the version last.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace nlm::eval::metrics {

// The sacreBLEU release whose behaviour nativelm's BLEU and chrF follow, written into their
// signatures (docs/eval.md says why).
inline constexpr const char* kSacrebleuVersion = "2.5.1";

struct SegmentReferences {
  std::vector<std::vector<std::string>> refs;  // per segment, the non-empty references
  int nrefs = 0;                               // references per segment; -1 when it varies
};

// Regroups `streams` by segment. A usage error when a stream's length differs from `segments`,
// when there is no stream, or when every reference of a segment is empty (`what` names the
// metric in messages).
SegmentReferences gather_references(size_t segments, const std::vector<std::vector<std::string>>& streams,
                                    const std::string& what);

// "1", "2", ... or "var".
std::string nrefs_text(int nrefs);
// "k1:v1|k2:v2|...|version:<kSacrebleuVersion>".
std::string signature_text(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace nlm::eval::metrics
