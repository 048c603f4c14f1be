// Small inline-SVG charts for the HTML report: horizontal bars and line charts with axes. They
// produce plain SVG markup so the report needs no script or chart library at view time.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace nlm::pipeline {

// Escapes text for HTML/SVG content and attributes.
std::string html_escape(const std::string& s);

// Horizontal bar chart: one labelled bar per (label, value), values printed at the bar's end.
std::string svg_bars(const std::vector<std::pair<std::string, double>>& bars, const std::string& unit = "");

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y)
};
// Line chart with x/y axes, tick labels and a legend; each series gets its own colour.
std::string svg_lines(const std::vector<Series>& series, const std::string& x_label, const std::string& y_label);

}  // namespace nlm::pipeline
