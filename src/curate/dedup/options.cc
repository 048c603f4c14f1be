// Parsing of the keep policy named on the command line or in a pipeline file.
#include "curate/dedup/options.h"

#include "core/error.h"

namespace nlm::dedup {

KeepPolicy parse_keep_policy(const std::string& s) {
  KeepPolicy p;
  if (s == "first") return p;
  if (s == "longest") {
    p.kind = KeepKind::Longest;
    return p;
  }
  if (s.rfind("field:", 0) == 0 && s.size() > 6) {
    p.kind = KeepKind::Field;
    p.field = s.substr(6);
    return p;
  }
  usage_error("unknown keep policy '" + s + "'", "--keep", "use first, longest or field:NAME");
}

std::string keep_policy_name(const KeepPolicy& p) {
  switch (p.kind) {
    case KeepKind::Longest: return "longest";
    case KeepKind::Field: return "field:" + p.field;
    default: return "first";
  }
}

}  // namespace nlm::dedup
