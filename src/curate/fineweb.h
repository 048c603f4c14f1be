// FineWeb quality filter (Penedo et al. 2024) with datatrove's FineWebQualityFilter defaults:
// too few lines ending in terminal punctuation, too many short lines, characters in duplicated
// lines, and too many newlines per word (lists and menus).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "curate/hash_table.h"
#include "core/options.h"
#include "curate/step.h"

namespace nlm::curate {

// Terminal punctuation of many scripts (Latin, CJK full-width, Arabic, Devanagari, Ethiopic...).
const std::vector<std::string>& default_terminal_punctuation();

struct FineWebOptions {
  // Share of non-empty lines that end in terminal punctuation, lower bound (0.12).
  double min_line_punct_ratio = 0.12;
  // Do not apply the rule above to documents with no punctuated line at all (false).
  bool line_punct_exclude_zero = false;
  // Share of lines no longer than short_line_length code points, upper bound (0.67).
  double max_short_line_ratio = 0.67;
  int64_t short_line_length = 30;
  // Characters in lines that repeat an earlier line / characters without newlines (0.01).
  double max_char_dup_ratio = 0.01;
  // Newlines per word, upper bound (0.3).
  double max_newline_ratio = 0.3;
  // What counts as terminal punctuation at the end of a line.
  std::vector<std::string> terminal_punctuation = default_terminal_punctuation();
};

// Its keys (config files, pipeline stages), defaults and bounds; docs/curate.md's table comes from it.
void declare(opt::Schema& schema, FineWebOptions& options);

// Checks one document; keeps its buffers between documents (one per thread).
class FineWeb {
 public:
  std::optional<Rejection> check(DocContext& ctx, const FineWebOptions& o);

 private:
  // Terminal punctuation by last byte: an ASCII last byte can only end a one-byte mark, so those
  // are a table lookup, and only lines with a non-ASCII last byte are compared with longer marks.
  struct PunctIndex {
    std::vector<std::string> source;  // the marks this index was built from
    bool ascii[128] = {};
    std::vector<std::string> wide;
    bool any = false;  // an empty mark matches every line
    void build(const std::vector<std::string>& marks);
    bool ends(std::string_view line) const;  // line is not empty
  };
  PunctIndex marks_;
  HashCounter seen_;
};

// The same with a fresh FineWeb (for one-off checks).
std::optional<Rejection> fineweb_check(DocContext& ctx, const FineWebOptions& o);

}  // namespace nlm::curate
