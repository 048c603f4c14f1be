// Rendering of report.json and report.html. Sections are drawn from what each stage's summary
// holds, by convention: "funnel" (curation), "languages", "cluster_sizes" and
// "largest_clusters" (dedup), "fertility" (tokenizer), "curves" (loss curves as name → [[x, y]]),
// "charts" (more line charts: [{"title", "y_label", "curves"}], e.g. dpo's rewards), "samples"
// (prompt and completion), "plan" (train's size: auto), "synth" (the synth stage's rejection funnel,
// tokens, cost and sample outputs), and scalar figures as a table.
#include "pipeline/report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "core/clock.h"
#include "core/json_ints.h"
#include "core/progress.h"
#include "pipeline/svg_chart.h"

namespace nlm::pipeline {
using nlohmann::json;

namespace {
json parse_or_empty(const std::string& s) {
  json j = json::parse(s.empty() ? "{}" : s, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

std::string scalar_text(const json& v) {
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v.get<double>());
    return buf;
  }
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// Scalar members (and one level of nested scalars) as a two-column table.
std::string figures_table(const json& j) {
  std::string rows;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it->is_primitive()) {
      rows += "<tr><th>" + html_escape(it.key()) + "</th><td>" + html_escape(scalar_text(*it)) + "</td></tr>";
    } else if (it->is_object()) {
      for (auto in = it->begin(); in != it->end(); ++in)
        if (in->is_primitive())
          rows += "<tr><th>" + html_escape(it.key() + "." + in.key()) + "</th><td>" +
                  html_escape(scalar_text(*in)) + "</td></tr>";
        else if (in->is_object())
          for (auto deep = in->begin(); deep != in->end(); ++deep)
            if (deep->is_primitive())
              rows += "<tr><th>" + html_escape(it.key() + "." + in.key() + "." + deep.key()) + "</th><td>" +
                      html_escape(scalar_text(*deep)) + "</td></tr>";
    }
  }
  return rows.empty() ? "" : "<table class=\"figures\">" + rows + "</table>";
}

// A line chart over steps of curves given as name -> [[step, value], ...].
std::string line_chart(const json& curves, const std::string& y_label) {
  std::vector<Series> series;
  for (auto it = curves.begin(); it != curves.end(); ++it) {
    Series s{it.key(), {}};
    if (it->is_array())
      for (const auto& p : *it)
        if (p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number())
          s.points.push_back({p[0].get<double>(), p[1].get<double>()});
    series.push_back(std::move(s));
  }
  return svg_lines(series, "step", y_label);
}

// The train stage's plan with size: auto (plan::plan_summary_json): a few lines.
std::string plan_section(const json& p) {
  auto num = [&](const char* key, const char* f) {
    char buf[48];
    std::snprintf(buf, sizeof buf, f, p.value(key, 0.0));
    return std::string(buf);
  };
  auto count = [&](const char* key) { return human_count(p.value(key, 0.0)); };
  std::string h = "<h3>Planned model (size: auto)</h3><p>" + html_escape(p.value("shape", std::string())) + " (" +
                  count("params") + " parameters)<br>binds: <b>" + html_escape(p.value("binds", std::string())) +
                  "</b>: " + html_escape(p.value("binds_why", std::string())) + "<br>" + num("epochs", "%.2f") +
                  " epochs of " + count("dataset_tokens") + " tokens (" + count("train_tokens") +
                  " trained), " + num("steps", "%.0f") + " steps of " + num("batch_tokens", "%.0f") +
                  " tokens, lr " + html_escape(p.value("lr", std::string())) + "<br>budget " +
                  num("budget_hours", "%.3g") + " h on " + html_escape(p.value("hardware", std::string())) + " at " +
                  num("achieved_tflops", "%.3g") + " TFLOP/s " + html_escape(p.value("throughput", std::string())) +
                  " (expected " + num("expected_hours", "%.3g") + " h)";
  if (p.contains("explicit") && p["explicit"].is_array() && !p["explicit"].empty()) {
    std::string keys;
    for (const auto& k : p["explicit"]) keys += (keys.empty() ? "" : ", ") + scalar_text(k);
    h += "<br>set explicitly, not from the plan: " + html_escape(keys);
  }
  return h + "</p>";
}

// The synth stage's figures: the funnel as a table in the run's order (work counts, each
// rejection reason, what was kept), tokens and cost, and sample outputs.
std::string synth_section(const json& s) {
  std::string h = "<h3>Synthetic data: rejection funnel</h3><table><tr><th>step</th><th>count</th></tr>";
  if (s.contains("funnel") && s["funnel"].is_array())
    for (const auto& row : s["funnel"]) {
      if (!row.is_object()) continue;
      const std::string step = row.value("step", std::string());
      const std::string count = html_escape(scalar_text(row.value("count", json(0))));
      if (step == "kept")
        h += "<tr class=\"kept\"><th>kept</th><th>" + count + "</th></tr>";
      else
        h += "<tr><td>" + html_escape(row.value("rejected", false) ? "rejected: " + step : step) + "</td><td>" + count +
             "</td></tr>";
    }
  h += "</table>";
  if (s.contains("tokens") && s["tokens"].is_object()) {
    const json& t = s["tokens"];
    const int64_t p = json_int_at(t, "prompt", 0, "synth stats"), c = json_int_at(t, "completion", 0, "synth stats");
    char cost[48];
    std::snprintf(cost, sizeof cost, "$%.4f", s.value("cost_usd", 0.0));
    h += "<h3>Synthetic data: tokens and cost</h3><table><tr><th>prompt tokens</th><td>" + std::to_string(p) +
         "</td></tr><tr><th>completion tokens</th><td>" + std::to_string(c) + "</td></tr><tr><th>total tokens</th><td>" +
         std::to_string(p + c) + "</td></tr><tr><th>estimated cost (USD)</th><td>" + cost + "</td></tr></table>";
  }
  if (s.contains("samples") && s["samples"].is_array() && !s["samples"].empty()) {
    h += "<h3>Synthetic data: sample outputs</h3>";
    for (const auto& x : s["samples"]) {
      if (!x.is_object()) continue;
      const std::string source = x.value("source", std::string()), in = x.value("input", std::string());
      h += "<div class=\"sample\">";
      if (!source.empty()) h += "<span class=\"muted\">" + html_escape(source) + "</span>\n";
      if (!in.empty()) h += "<b>" + html_escape(in) + "</b>\n";
      h += html_escape(x.value("output", std::string())) + "</div>";
    }
  }
  return h;
}

std::string stage_section(const StageReport& st) {
  json j = parse_or_empty(st.summary);
  std::string h = "<section><h2>" + html_escape(st.name) + "</h2>";
  if (j.contains("funnel") && j["funnel"].is_array()) {
    std::vector<std::pair<std::string, double>> bars;
    if (j.contains("docs_in")) bars.push_back({"input", j["docs_in"].get<double>()});
    for (const auto& f : j["funnel"])
      bars.push_back({"after " + f.value("step", std::string("?")), f.value("remaining", 0.0)});
    h += "<h3>Curation funnel (documents kept after each step)</h3>" + svg_bars(bars);
  }
  if (j.contains("languages") && j["languages"].is_object() && !j["languages"].empty()) {
    std::vector<std::pair<std::string, double>> bars;
    for (auto it = j["languages"].begin(); it != j["languages"].end(); ++it)
      bars.push_back({it.key().empty() ? "(unknown)" : it.key(), it->get<double>()});
    std::sort(bars.begin(), bars.end(), [](auto& a, auto& b) { return a.second > b.second; });
    if (bars.size() > 15) bars.resize(15);
    h += "<h3>Language mix (kept documents)</h3>" + svg_bars(bars);
  }
  if (j.contains("cluster_sizes") && j["cluster_sizes"].is_array() && !j["cluster_sizes"].empty()) {
    std::vector<std::pair<std::string, double>> bars;
    for (const auto& c : j["cluster_sizes"])
      bars.push_back({"size " + scalar_text(c.value("size", json(0))), c.value("clusters", 0.0)});
    if (bars.size() > 20) bars.resize(20);
    h += "<h3>Duplicate clusters by size</h3>" + svg_bars(bars, " clusters");
  }
  if (j.contains("largest_clusters") && j["largest_clusters"].is_array() && !j["largest_clusters"].empty()) {
    h += "<h3>Most duplicated documents</h3><table><tr><th>copies</th><th>id</th><th>text</th></tr>";
    for (const auto& e : j["largest_clusters"])
      h += "<tr><td>" + scalar_text(e.value("cluster_size", json(0))) + "</td><td>" +
           html_escape(e.value("id", std::string())) + "</td><td>" + html_escape(e.value("excerpt", std::string())) +
           "</td></tr>";
    h += "</table>";
  }
  if (j.contains("fertility") && j["fertility"].is_object()) {
    h += "<h3>Tokenizer fertility per language</h3><table><tr><th>language</th>";
    std::vector<std::string> cols;
    for (auto it = j["fertility"].begin(); it != j["fertility"].end(); ++it) {
      for (auto c = it->begin(); c != it->end(); ++c)
        if (std::find(cols.begin(), cols.end(), c.key()) == cols.end()) cols.push_back(c.key());
    }
    for (const auto& c : cols) h += "<th>" + html_escape(c) + "</th>";
    h += "</tr>";
    for (auto it = j["fertility"].begin(); it != j["fertility"].end(); ++it) {
      h += "<tr><td>" + html_escape(it.key()) + "</td>";
      for (const auto& c : cols) h += "<td>" + (it->contains(c) ? html_escape(scalar_text((*it)[c])) : "") + "</td>";
      h += "</tr>";
    }
    h += "</table>";
  }
  if (j.contains("plan") && j["plan"].is_object()) h += plan_section(j["plan"]);
  if (j.contains("curves") && j["curves"].is_object())
    h += "<h3>Loss curves</h3>" + line_chart(j["curves"], "loss (nats/token)");
  if (j.contains("charts") && j["charts"].is_array())
    for (const auto& c : j["charts"])
      if (c.is_object() && c.contains("curves") && c["curves"].is_object() && !c["curves"].empty())
        h += "<h3>" + html_escape(c.value("title", std::string("Curves"))) + "</h3>" +
             line_chart(c["curves"], c.value("y_label", std::string()));
  if (j.contains("leaderboard") && j["leaderboard"].is_array() && !j["leaderboard"].empty()) {
    // Rows: task and metric; columns: each few-shot count, side by side.
    std::vector<int64_t> shots;
    std::vector<std::pair<std::string, std::string>> keys;
    for (const auto& r : j["leaderboard"]) {
      const int64_t n = json_int_at(r, "n_shot", 0, "leaderboard");
      if (std::find(shots.begin(), shots.end(), n) == shots.end()) shots.push_back(n);
      std::pair<std::string, std::string> k{r.value("task", std::string()), r.value("metric", std::string())};
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    }
    std::sort(shots.begin(), shots.end());
    h += "<h3>Task scores</h3><table><tr><th>task</th><th>metric</th>";
    for (int64_t n : shots) h += "<th>" + std::to_string(n) + "-shot</th>";
    h += "</tr>";
    for (const auto& [task, metric] : keys) {
      h += "<tr><td>" + html_escape(task) + "</td><td>" + html_escape(metric.substr(0, metric.find(','))) + "</td>";
      for (int64_t n : shots) {
        std::string cell = "–";
        for (const auto& r : j["leaderboard"])
          if (r.value("task", std::string()) == task && r.value("metric", std::string()) == metric &&
              json_int_at(r, "n_shot", 0, "leaderboard") == n && r["value"].is_number()) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.4f", r["value"].get<double>());
            cell = buf;
            if (r.contains("stderr") && r["stderr"].is_number()) {
              std::snprintf(buf, sizeof buf, " ± %.4f", r["stderr"].get<double>());
              cell += buf;
            }
          }
        h += "<td>" + html_escape(cell) + "</td>";
      }
      h += "</tr>";
    }
    h += "</table>";
  }
  if (j.contains("synth") && j["synth"].is_object()) h += synth_section(j["synth"]);
  if (j.contains("samples") && j["samples"].is_array()) {
    h += "<h3>Sample generations</h3>";
    for (const auto& s : j["samples"])
      h += "<div class=\"sample\"><b>" + html_escape(s.value("prompt", std::string())) + "</b>" +
           html_escape(s.value("completion", std::string())) + "</div>";
  }
  json figures = json::object();
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "funnel" && it.key() != "languages" && it.key() != "cluster_sizes" &&
        it.key() != "largest_clusters" && it.key() != "fertility" && it.key() != "curves" && it.key() != "charts" &&
        it.key() != "samples" && it.key() != "options" && it.key() != "leaderboard" && it.key() != "plan" &&
        it.key() != "synth" && it.key() != "formats" && it.key() != "runs" && it.key() != "files")
      figures[it.key()] = *it;
  std::string table = figures_table(figures);
  if (!table.empty()) h += "<details open><summary>Figures</summary>" + table + "</details>";
  return h + "</section>";
}

// Every "formats" row of the quantize and export stages, in one table: what each deployable
// file weighs, what it costs in bits per byte, and how fast nativelm's engine decodes it.
std::string formats_table(const ReportData& d) {
  std::string rows;
  for (const auto& s : d.stages) {
    json j = parse_or_empty(s.summary);
    if (!j.is_object() || !j.contains("formats") || !j["formats"].is_array()) continue;
    for (const auto& r : j["formats"]) {
      if (!r.is_object()) continue;
      auto cell = [&](const char* key, const char* fmt) {
        if (!r.contains(key) || !r[key].is_number()) return std::string("<td class=\"muted\">not measured</td>");
        char buf[48];
        std::snprintf(buf, sizeof buf, fmt, r[key].get<double>());
        return "<td>" + std::string(buf) + "</td>";
      };
      rows += "<tr><td>" + html_escape(s.name) + "</td><td>" + html_escape(r.value("format", std::string())) +
              "</td><td>" + human_bytes(r.value("bytes", 0.0)) + "</td>" + cell("bits_per_byte", "%.4f") +
              cell("tokens_per_second", "%.0f") + "</tr>";
    }
  }
  if (rows.empty()) return "";
  return "<h2>Formats</h2><p class=\"muted\">bits per byte on held-out text; tokens/s: greedy decode on "
         "nativelm's engine, one sequence (GGUF files: run llama.cpp's llama-perplexity and llama-bench)</p>"
         "<table><tr><th>stage</th><th>format</th><th>size</th><th>bits/byte</th><th>tokens/s</th></tr>" +
         rows + "</table>";
}
}  // namespace

std::string report_json(const ReportData& d) {
  json j;
  j["name"] = d.name;
  j["pipeline"] = d.pipeline;
  j["generated_at"] = utc_now("%Y-%m-%d %H:%M UTC");
  json stages = json::array();
  for (const auto& s : d.stages)
    stages.push_back({{"stage", s.name},
                      {"status", s.status},
                      {"ran_in_this_build", s.ran},
                      {"seconds", s.seconds},
                      {"summary", parse_or_empty(s.summary)}});
  j["stages"] = stages;
  return j.dump(2) + "\n";
}

std::string report_html(const ReportData& d) {
  std::string h =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>nativelm report: " +
      html_escape(d.name) +
      "</title><style>"
      "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:980px;color:#1a202c;padding:0 1em}"
      "h1{margin-bottom:0}h2{border-bottom:2px solid #2b6cb0;padding-bottom:4px;margin-top:2em}"
      "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #e2e8f0;padding:3px 8px;text-align:left;"
      "vertical-align:top}th{background:#f7fafc}.muted{color:#718096}.chart text{font:12px sans-serif;fill:#2d3748}"
      ".sample{background:#f7fafc;border-left:3px solid #2b6cb0;padding:6px 10px;margin:6px 0;white-space:pre-wrap}"
      "</style></head><body>";
  h += "<h1>" + html_escape(d.name) + "</h1><p class=\"muted\">nativelm build of " + html_escape(d.pipeline) +
       ", " + utc_now("%Y-%m-%d %H:%M UTC") + "</p>";
  h += "<h2>Stages</h2><table><tr><th>stage</th><th>status</th><th>seconds</th></tr>";
  for (const auto& s : d.stages) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", s.seconds);
    h += "<tr><td>" + html_escape(s.name) + "</td><td>" + html_escape(s.ran ? "ran (" + s.status + ")" : s.status) +
         "</td><td>" + secs + "</td></tr>";
  }
  h += "</table>";
  h += formats_table(d);
  for (const auto& s : d.stages) h += stage_section(s);
  return h + "</body></html>\n";
}

}  // namespace nlm::pipeline
