// `nativelm eval compare`: a leaderboard from the results.json files `eval run --output` (or
// lm-evaluation-harness) writes. Rows are models, columns are task × n-shot (zero-shot and
// few-shot of a task side by side), a cell is the task's main metric with its stderr, and rows
// are sorted by their average. This file loads and renders as text and JSON; the HTML page with
// charts is pipeline/compare_report.h.
#pragma once
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/options.h"

namespace nlm::eval {

struct CompareOptions {
  std::vector<std::string> names;  // model name per RUN, in order; empty = from results.json
  std::string html;                // self-contained HTML page with the table and charts
  std::string json;                // the leaderboard as JSON
};
void declare(opt::Schema& schema, CompareOptions& options);

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

struct BoardColumn {
  std::string task;
  int n_shot = 0;
  std::string metric;  // results key, "acc_norm,none"
  bool higher_is_better = true;
};

struct BoardCell {
  double value = kMissing;   // NaN = the model has no result for the column
  double stderr_ = kMissing; // NaN = none reported
};

struct BoardRow {
  std::string model;
  std::vector<BoardCell> cells;  // one per column
  double average = kMissing;     // mean of the present cells of averaged columns
  size_t averaged = 0;           // cells in the average
};

struct Leaderboard {
  std::vector<BoardColumn> columns;
  std::vector<BoardRow> rows;    // best average first; rows without an average last
  size_t averaged_columns = 0;   // columns whose metric is a higher-is-better fraction
};

// The main metric of a task's results: acc_norm, else acc, exact_match, f1, bleu, chrf,
// rouge, word_perplexity, perplexity, bits_per_byte, byte_perplexity, else the first number
// that is not a stderr. "" when the task has no numeric metric.
std::string main_metric(const nlohmann::json& task_results);

// Reads each RUN (an `eval run --output` folder or a results.json path); the model of a run is
// names[i], else config.model_args (its `pretrained=` value, or the last folder name; the folder
// above for a train run's `.../model`), else the run's folder name. Runs of one model share a
// row; a later run's (task, n-shot) replaces an earlier one. Usage errors name the file.
Leaderboard load_leaderboard(const std::vector<std::string>& runs, const std::vector<std::string>& names);

// "0.4512 ± 0.0150", "0.4512", or "–" for a missing cell.
std::string cell_text(const BoardCell& cell);
// Column heading: "TASK 0-shot".
std::string column_title(const BoardColumn& column);

// An aligned table (widths by terminal columns, so Cantonese and Irish names line up).
std::string leaderboard_text(const Leaderboard& board);
nlohmann::ordered_json leaderboard_json(const Leaderboard& board);

}  // namespace nlm::eval
