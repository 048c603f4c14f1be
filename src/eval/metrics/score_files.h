// `nativelm eval bleu|chrf|rouge`: line-aligned hypothesis and reference files (like sacreBLEU's
// command line: line i of every file is segment i; .gz/.zst/.bz2 are read too) scored as a
// corpus, printed as sacreBLEU's one-line format or as JSON.
#pragma once
#include <string>
#include <vector>

#include "eval/metrics/bleu.h"
#include "eval/metrics/chrf.h"
#include "eval/metrics/rouge.h"

namespace nlm::eval::metrics {

struct MetricInputs {
  std::string hyp;                // hypotheses, one segment per line
  std::vector<std::string> refs;  // one or more reference files, line-aligned with hyp
  bool json = false;              // print JSON instead of the one-line summary
  bool sentence_level = false;    // BLEU/chrF: also print a score per segment
};

// The lines of `path` without their '\n' / "\r\n"; invalid UTF-8 is repaired to U+FFFD by the
// metrics. A usage error when the file cannot be read.
std::vector<std::string> read_segments(const std::string& path);

// Each returns what the command prints (ending in '\n'). Usage errors for files of different
// lengths, a segment without a non-empty reference, and bad options.
std::string score_bleu_files(const MetricInputs& in, const BleuOptions& options);
std::string score_chrf_files(const MetricInputs& in, const ChrfOptions& options);
std::string score_rouge_files(const MetricInputs& in, const RougeOptions& options);

}  // namespace nlm::eval::metrics
