// The `normalize` step: Unicode normalisation (ICU NFC/NFKC), mojibake repair (UTF-8 that was
// decoded as Windows-1252/Latin-1 and re-encoded, in the spirit of ftfy), removal of control and
// zero-width characters, whitespace clean-up, and optional Chinese variant conversion (OpenCC).
// Each repair that changed a document is counted under "normalize" in the report.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "core/options.h"
#include "curate/step.h"

namespace nlm::curate {

struct NormalizeOptions {
  // "NFC" (canonical; safe for every language), "NFKC" (also folds compatibility forms such as
  // full-width Latin and ligatures; changes meaning for some scripts) or "none".
  std::string unicode_form = "NFC";
  // Undo UTF-8 text mis-decoded as Windows-1252/Latin-1 ("cafÃ©" → "café", "â€™" → "’").
  bool fix_mojibake = true;
  // Drop C0/C1 control characters other than tab and newline.
  bool remove_control = true;
  // Drop zero-width and invisible characters (U+200B, U+2060, U+FEFF, U+00AD, U+180E); ZWJ and
  // ZWNJ are kept because Persian, Indic scripts and emoji need them.
  bool remove_zero_width = true;
  // CRLF/CR and U+2028/2029 to "\n"; tabs and Unicode spaces to " "; runs of spaces to one;
  // spaces at the start and end of lines removed; at most one blank line in a row; the document
  // trimmed.
  bool normalize_whitespace = true;
  // OpenCC conversion: a config name in /usr/share/opencc ("s2hk", "t2s", "s2twp", ...) or a path
  // to a config .json; "" for none.
  std::string opencc;
};

// Its keys (config files, pipeline stages), defaults and bounds; docs/curate.md's table comes from it.
void declare(opt::Schema& schema, NormalizeOptions& options);

class Normalize : public Step {
 public:
  // Throws a usage nlm::Error for an unknown unicode_form or OpenCC config.
  explicit Normalize(const NormalizeOptions& options);
  ~Normalize() override;
  std::string_view name() const override { return "normalize"; }
  std::optional<Rejection> apply(corpus::Document& doc, DocContext& ctx) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The pieces, exposed for tests: each returns true when it changed `text`.
bool fix_mojibake(std::string& text);
bool clean_characters(std::string& text, bool control, bool zero_width, bool whitespace);

}  // namespace nlm::curate
