// A curation step: a normaliser edits a document's text or fields, a filter judges it. The chain
// (chain.h) runs the steps in order and drops a document at the first rejection, which names the
// filter rule and the measured value so rejects and the report can say why.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "corpus/document.h"

namespace nlm::curate {

class DocContext;

struct Rejection {
  std::string reason;  // "<step>.<rule>", e.g. "gopher_quality.min_words"
  double value = 0;    // what the document measured on that rule
};

class Step {
 public:
  virtual ~Step() = default;
  // The step's config name, e.g. "gopher_quality".
  virtual std::string_view name() const = 0;
  // Edits `doc` (a step that changes doc.text calls ctx.text_changed()) or rejects it.
  virtual std::optional<Rejection> apply(corpus::Document& doc, DocContext& ctx) = 0;
};

}  // namespace nlm::curate
