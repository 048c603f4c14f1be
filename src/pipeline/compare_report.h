// The `eval compare` command's outputs beyond the library's text table: a self-contained HTML
// page (the leaderboard table and one inline-SVG bar chart per task column, no scripts) and the
// whole command, which lives here because the charts are the report's (svg_chart.h).
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include "eval/compare/leaderboard.h"

namespace nlm::pipeline {

std::string leaderboard_html(const eval::Leaderboard& board);

// Loads the runs, prints the text table to `out`, and writes options.html / options.json.
void run_eval_compare(const std::vector<std::string>& runs, const eval::CompareOptions& options, std::ostream& out);

}  // namespace nlm::pipeline
