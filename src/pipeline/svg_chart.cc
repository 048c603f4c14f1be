// SVG markup generation for bars and line charts (fixed palette, nice tick steps).
#include "pipeline/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace nlm::pipeline {
namespace {
const char* kColors[] = {"#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#718096"};

std::string num(double v) {
  char buf[32];
  double a = std::fabs(v);
  if (a >= 1e9) std::snprintf(buf, sizeof buf, "%.2fG", v / 1e9);
  else if (a >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else if (a >= 1e4) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else if (a >= 100 || v == std::floor(v)) std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (a >= 1) std::snprintf(buf, sizeof buf, "%.2f", v);
  else std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

double nice_step(double range, int ticks) {
  double raw = range / std::max(1, ticks);
  double mag = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}
}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string svg_bars(const std::vector<std::pair<std::string, double>>& bars, const std::string& unit) {
  const double label_w = 190, bar_w = 420, row_h = 22, width = label_w + bar_w + 90;
  double height = row_h * static_cast<double>(bars.size()) + 8;
  double peak = 0;
  for (const auto& b : bars) peak = std::max(peak, b.second);
  if (peak <= 0) peak = 1;
  std::string s = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(width) +
                  "\" height=\"" + fmt(height) + "\" role=\"img\">";
  for (size_t i = 0; i < bars.size(); ++i) {
    double y = 4 + row_h * static_cast<double>(i);
    double w = std::max(1.0, bar_w * bars[i].second / peak);
    s += "<text x=\"" + fmt(label_w - 6) + "\" y=\"" + fmt(y + 15) + "\" text-anchor=\"end\">" +
         html_escape(bars[i].first) + "</text>";
    s += "<rect x=\"" + fmt(label_w) + "\" y=\"" + fmt(y + 3) + "\" width=\"" + fmt(w) +
         "\" height=\"16\" fill=\"" + kColors[0] + "\"/>";
    s += "<text x=\"" + fmt(label_w + w + 5) + "\" y=\"" + fmt(y + 15) + "\">" + num(bars[i].second) +
         html_escape(unit) + "</text>";
  }
  return s + "</svg>";
}

std::string svg_lines(const std::vector<Series>& series, const std::string& x_label, const std::string& y_label) {
  const double W = 640, H = 320, L = 60, R = 20, T = 20, B = 45;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series)
    for (auto [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  if (!std::isfinite(x0)) return "<p class=\"muted\">no data points</p>";
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + 1;
  double ys = nice_step(y1 - y0, 5);
  y0 = std::floor(y0 / ys) * ys;
  y1 = std::ceil(y1 / ys) * ys;
  double xs = nice_step(x1 - x0, 6);
  auto px = [&](double x) { return L + (W - L - R) * (x - x0) / (x1 - x0); };
  auto py = [&](double y) { return H - B - (H - T - B) * (y - y0) / (y1 - y0); };
  std::string s = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(W) + "\" height=\"" +
                  fmt(H) + "\" role=\"img\">";
  for (double y = y0; y <= y1 + ys * 0.5; y += ys) {
    s += "<line x1=\"" + fmt(L) + "\" x2=\"" + fmt(W - R) + "\" y1=\"" + fmt(py(y)) + "\" y2=\"" + fmt(py(y)) +
         "\" stroke=\"#e2e8f0\"/>";
    s += "<text x=\"" + fmt(L - 6) + "\" y=\"" + fmt(py(y) + 4) + "\" text-anchor=\"end\">" + num(y) + "</text>";
  }
  for (double x = std::ceil(x0 / xs) * xs; x <= x1 + xs * 0.01; x += xs)
    s += "<text x=\"" + fmt(px(x)) + "\" y=\"" + fmt(H - B + 16) + "\" text-anchor=\"middle\">" + num(x) + "</text>";
  s += "<line x1=\"" + fmt(L) + "\" x2=\"" + fmt(L) + "\" y1=\"" + fmt(T) + "\" y2=\"" + fmt(H - B) + "\" stroke=\"#4a5568\"/>";
  s += "<line x1=\"" + fmt(L) + "\" x2=\"" + fmt(W - R) + "\" y1=\"" + fmt(H - B) + "\" y2=\"" + fmt(H - B) +
       "\" stroke=\"#4a5568\"/>";
  s += "<text x=\"" + fmt((L + W - R) / 2) + "\" y=\"" + fmt(H - 8) + "\" text-anchor=\"middle\">" +
       html_escape(x_label) + "</text>";
  s += "<text transform=\"translate(14," + fmt((T + H - B) / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
       html_escape(y_label) + "</text>";
  for (size_t i = 0; i < series.size(); ++i) {
    const char* c = kColors[i % 6];
    std::string pts;
    for (auto [x, y] : series[i].points)
      if (std::isfinite(x) && std::isfinite(y)) pts += fmt(px(x)) + "," + fmt(py(y)) + " ";
    s += "<polyline fill=\"none\" stroke=\"" + std::string(c) + "\" stroke-width=\"2\" points=\"" + pts + "\"/>";
    if (series[i].points.size() == 1)
      s += "<circle cx=\"" + fmt(px(series[i].points[0].first)) + "\" cy=\"" + fmt(py(series[i].points[0].second)) +
           "\" r=\"3\" fill=\"" + c + "\"/>";
    double ly = T + 14 + 16 * static_cast<double>(i);
    s += "<rect x=\"" + fmt(W - R - 150) + "\" y=\"" + fmt(ly - 9) + "\" width=\"12\" height=\"4\" fill=\"" + c + "\"/>";
    s += "<text x=\"" + fmt(W - R - 132) + "\" y=\"" + fmt(ly - 3) + "\">" + html_escape(series[i].name) + "</text>";
  }
  return s + "</svg>";
}

}  // namespace nlm::pipeline
