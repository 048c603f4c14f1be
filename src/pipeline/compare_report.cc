// HTML leaderboard and the `eval compare` command (see compare_report.h).
#include "pipeline/compare_report.h"

#include <cmath>
#include <ostream>

#include "core/atomic_file.h"
#include "core/clock.h"
#include "pipeline/svg_chart.h"

namespace nlm::pipeline {

std::string leaderboard_html(const eval::Leaderboard& b) {
  std::string h =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>nativelm eval compare</title><style>"
      "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1a202c;padding:0 1em}"
      "h2{border-bottom:2px solid #2b6cb0;padding-bottom:4px;margin-top:2em}"
      "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #e2e8f0;padding:3px 8px}"
      "th{background:#f7fafc;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}"
      ".muted{color:#718096}.chart text{font:12px sans-serif;fill:#2d3748}</style></head><body>"
      "<h1>Leaderboard</h1><p class=\"muted\">nativelm eval compare, " +
      utc_now("%Y-%m-%d %H:%M UTC") + "</p>";
  h += "<table><tr><th>model</th>";
  for (const auto& c : b.columns)
    h += "<th>" + html_escape(eval::column_title(c)) + "<br><span class=\"muted\">" +
         html_escape(c.metric.substr(0, c.metric.find(','))) + (c.higher_is_better ? " ↑" : " ↓") + "</span></th>";
  h += "<th>average</th></tr>";
  for (const auto& row : b.rows) {
    h += "<tr><th>" + html_escape(row.model) + "</th>";
    for (const auto& cell : row.cells) h += "<td class=\"n\">" + html_escape(eval::cell_text(cell)) + "</td>";
    std::string avg = eval::cell_text({row.average, eval::kMissing});
    if (!std::isnan(row.average) && row.averaged < b.averaged_columns) avg += "*";
    h += "<td class=\"n\">" + html_escape(avg) + "</td></tr>";
  }
  h += "</table><p class=\"muted\">Cells: the task's main metric ± its standard error; – = no result. The average "
       "is over acc, acc_norm, exact_match and f1 columns (* = over the columns the model has).</p>";
  for (const auto& c : b.columns) {
    std::vector<std::pair<std::string, double>> bars;
    for (const auto& row : b.rows)
      if (!std::isnan(row.cells[&c - b.columns.data()].value)) bars.emplace_back(row.model, row.cells[&c - b.columns.data()].value);
    h += "<h2>" + html_escape(eval::column_title(c)) + "</h2><p class=\"muted\">" +
         html_escape(c.metric) + (c.higher_is_better ? " (higher is better)" : " (lower is better)") + "</p>";
    h += bars.empty() ? "<p class=\"muted\">no results</p>" : svg_bars(bars);
  }
  return h + "</body></html>\n";
}

void run_eval_compare(const std::vector<std::string>& runs, const eval::CompareOptions& o, std::ostream& out) {
  const eval::Leaderboard board = eval::load_leaderboard(runs, o.names);
  out << eval::leaderboard_text(board);
  if (!o.html.empty()) write_file_atomic(o.html, leaderboard_html(board));
  if (!o.json.empty()) write_file_atomic(o.json, eval::leaderboard_json(board).dump(2) + "\n");
}

}  // namespace nlm::pipeline
