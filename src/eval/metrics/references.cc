// Reference regrouping and signatures shared by BLEU and chrF (see references.h).
#include "eval/metrics/references.h"

#include "core/error.h"

namespace nlm::eval::metrics {

SegmentReferences gather_references(size_t segments, const std::vector<std::vector<std::string>>& streams,
                                    const std::string& what) {
  if (streams.empty()) usage_error(what + ": no references given", {}, "pass at least one reference stream");
  for (size_t r = 0; r < streams.size(); ++r)
    if (streams[r].size() != segments)
      usage_error(what + ": reference " + std::to_string(r + 1) + " has " + std::to_string(streams[r].size()) +
                      " segments, the hypotheses " + std::to_string(segments),
                  {}, "give line-aligned files with one segment per line");
  SegmentReferences out;
  out.refs.resize(segments);
  for (size_t i = 0; i < segments; ++i) {
    for (const auto& stream : streams)
      if (!stream[i].empty()) out.refs[i].push_back(stream[i]);
    if (out.refs[i].empty())
      usage_error(what + ": segment " + std::to_string(i + 1) + " has only empty references", {},
                  "every segment needs at least one non-empty reference");
    const int n = static_cast<int>(out.refs[i].size());
    out.nrefs = i == 0 ? n : (out.nrefs == n ? n : -1);
  }
  return out;
}

std::string nrefs_text(int nrefs) { return nrefs < 0 ? "var" : std::to_string(nrefs); }

std::string signature_text(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) out += k + ":" + v + "|";
  return out + "version:" + kSacrebleuVersion;
}

}  // namespace nlm::eval::metrics
