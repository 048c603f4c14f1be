// Leaderboard loading and text/JSON rendering (see leaderboard.h).
#include "eval/compare/leaderboard.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "text/display_width.h"

namespace nlm::eval {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

void declare(opt::Schema& s, CompareOptions& o) {
  s.add("names", o.names, "Model name per RUN, in order (default: from results.json)");
  s.add("html", o.html, "Write a self-contained HTML page with the table and a bar chart per task");
  s.add("json", o.json, "Write the leaderboard as JSON");
}

namespace {

const std::vector<std::string> kPreferred = {"acc_norm", "acc", "exact_match", "f1", "bleu", "chrf", "rougeLsum",
                                             "rougeL", "rouge1", "word_perplexity", "perplexity", "bits_per_byte",
                                             "byte_perplexity"};

std::string metric_name(const std::string& key) { return key.substr(0, key.find(',')); }

bool is_stderr(const std::string& key) { return metric_name(key).ends_with("_stderr"); }

bool lower_is_better(const std::string& metric) {
  return metric.find("perplexity") != std::string::npos || metric == "bits_per_byte";
}

bool averaged(const std::string& metric) {
  return metric == "acc" || metric == "acc_norm" || metric == "exact_match" || metric == "f1";
}

std::string model_of(const json& j, const fs::path& file) {
  std::string args;
  if (j.contains("config") && j["config"].is_object() && j["config"].contains("model_args") &&
      j["config"]["model_args"].is_string())
    args = j["config"]["model_args"].get<std::string>();
  if (auto p = args.find("pretrained="); p != std::string::npos) {
    args = args.substr(p + 11);
    args = args.substr(0, args.find(','));
  }
  while (args.size() > 1 && args.back() == '/') args.pop_back();
  if (!args.empty()) {
    fs::path p(args);
    if (p.filename() == "model" && p.has_parent_path() && !p.parent_path().filename().empty())
      return p.parent_path().filename().string();
    return p.filename().string();
  }
  const fs::path dir = fs::absolute(file).parent_path();
  return dir.filename().string();
}

json read_results(const std::string& run, fs::path& file) {
  file = fs::is_directory(run) ? fs::path(run) / "results.json" : fs::path(run);
  if (!fs::exists(file))
    usage_error("no results.json", file.string(), "give an 'eval run --output' folder or a results.json file");
  json j = json::parse(read_file(file.string()), nullptr, false);
  if (j.is_discarded() || !j.is_object()) usage_error("not JSON", file.string(), "give a results.json file");
  if (!j.contains("results") || !j["results"].is_object())
    usage_error("not lm-eval results: no \"results\" object", file.string(),
                "give the results.json 'eval run --output' or lm-evaluation-harness wrote");
  for (auto& [task, r] : j["results"].items())
    if (!r.is_object())
      usage_error("not lm-eval results: results." + printable(task, 60) + " is not an object", file.string(),
                  "give the results.json 'eval run --output' or lm-evaluation-harness wrote");
  return j;
}

std::string fixed4(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

std::string pad(const std::string& s, size_t width, bool right) {
  const size_t w = text::display_width(s);
  const std::string fill(width > w ? width - w : 0, ' ');
  return right ? fill + s : s + fill;
}

}  // namespace

std::string main_metric(const json& r) {
  for (const auto& want : kPreferred)
    for (auto& [k, v] : r.items())
      if (v.is_number() && metric_name(k) == want) return k;
  for (auto& [k, v] : r.items())
    if (v.is_number() && !is_stderr(k)) return k;
  return "";
}

Leaderboard load_leaderboard(const std::vector<std::string>& runs, const std::vector<std::string>& names) {
  if (runs.empty()) usage_error("no runs to compare", "eval compare", "give one or more 'eval run --output' folders");
  if (!names.empty() && names.size() != runs.size())
    usage_error("--names has " + std::to_string(names.size()) + " names for " + std::to_string(runs.size()) + " runs",
                "--names", "give one name per RUN, in order");
  Leaderboard b;
  std::map<std::pair<std::string, int>, size_t> column_of;
  std::map<std::string, size_t> row_of;
  // (row, column) -> (value, stderr), filled after every column's metric is known.
  std::vector<std::tuple<size_t, size_t, json>> found;
  for (size_t i = 0; i < runs.size(); ++i) {
    fs::path file;
    const json j = read_results(runs[i], file);
    const std::string model = names.empty() ? model_of(j, file) : names[i];
    if (!row_of.count(model)) {
      row_of[model] = b.rows.size();
      b.rows.push_back({model, {}, kMissing, 0});
    }
    for (auto& [task, r] : j["results"].items()) {
      int shot = 0;
      if (j.contains("n-shot") && j["n-shot"].is_object() && j["n-shot"].contains(task) &&
          j["n-shot"][task].is_number_integer())
        shot = j["n-shot"][task].get<int>();
      const auto key = std::make_pair(task, shot);
      if (!column_of.count(key)) {
        column_of[key] = b.columns.size();
        b.columns.push_back({task, shot, "", true});
      }
      found.emplace_back(row_of[model], column_of[key], r);
    }
  }
  // A column's metric: the most preferred main metric any run of it reports.
  for (const auto& [row, col, r] : found) {
    const std::string m = main_metric(r);
    auto rank = [](const std::string& key) {
      auto it = std::find(kPreferred.begin(), kPreferred.end(), metric_name(key));
      return key.empty() ? kPreferred.size() + 1 : size_t(it - kPreferred.begin());
    };
    auto& c = b.columns[col];
    if (!m.empty() && (c.metric.empty() || rank(m) < rank(c.metric))) c.metric = m;
  }
  for (auto& c : b.columns) c.higher_is_better = !lower_is_better(metric_name(c.metric));
  // Zero-shot and few-shot of a task side by side, tasks in the order first seen.
  std::map<std::string, size_t> task_order;
  for (const auto& c : b.columns) task_order.emplace(c.task, task_order.size());
  std::vector<size_t> order(b.columns.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    const auto &a = b.columns[x], &c = b.columns[y];
    return std::make_pair(task_order[a.task], a.n_shot) < std::make_pair(task_order[c.task], c.n_shot);
  });
  std::vector<size_t> position(order.size());
  std::vector<BoardColumn> sorted;
  for (size_t k = 0; k < order.size(); ++k) {
    position[order[k]] = k;
    sorted.push_back(b.columns[order[k]]);
  }
  b.columns = sorted;
  for (auto& row : b.rows) row.cells.assign(b.columns.size(), BoardCell{});
  for (const auto& [row, col, r] : found) {
    const auto& c = b.columns[position[col]];
    if (c.metric.empty() || !r.contains(c.metric) || !r[c.metric].is_number()) {
      b.rows[row].cells[position[col]] = BoardCell{};
      continue;
    }
    BoardCell cell;
    cell.value = r[c.metric].get<double>();
    const std::string se = metric_name(c.metric) + "_stderr" + c.metric.substr(metric_name(c.metric).size());
    if (r.contains(se) && r[se].is_number()) cell.stderr_ = r[se].get<double>();
    b.rows[row].cells[position[col]] = cell;
  }
  for (const auto& c : b.columns) b.averaged_columns += averaged(metric_name(c.metric));
  for (auto& row : b.rows) {
    double sum = 0;
    for (size_t k = 0; k < b.columns.size(); ++k)
      if (averaged(metric_name(b.columns[k].metric)) && !std::isnan(row.cells[k].value)) {
        sum += row.cells[k].value;
        ++row.averaged;
      }
    if (row.averaged > 0) row.average = sum / double(row.averaged);
  }
  std::stable_sort(b.rows.begin(), b.rows.end(), [](const BoardRow& x, const BoardRow& y) {
    if (std::isnan(x.average) || std::isnan(y.average)) return !std::isnan(x.average) && std::isnan(y.average);
    return x.average > y.average;
  });
  return b;
}

std::string cell_text(const BoardCell& c) {
  if (std::isnan(c.value)) return "–";
  return std::isnan(c.stderr_) ? fixed4(c.value) : fixed4(c.value) + " ± " + fixed4(c.stderr_);
}

std::string column_title(const BoardColumn& c) { return c.task + " " + std::to_string(c.n_shot) + "-shot"; }

std::string leaderboard_text(const Leaderboard& b) {
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> head = {"model"}, metric_row = {""};
  for (const auto& c : b.columns) {
    head.push_back(column_title(c));
    metric_row.push_back(metric_name(c.metric).empty() ? "–" : metric_name(c.metric) + (c.higher_is_better ? " ↑" : " ↓"));
  }
  head.push_back("average");
  metric_row.push_back(b.averaged_columns ? "↑" : "");
  cells.push_back(head);
  cells.push_back(metric_row);
  bool partial = false;
  for (const auto& row : b.rows) {
    std::vector<std::string> line = {row.model};
    for (const auto& c : row.cells) line.push_back(cell_text(c));
    std::string avg = std::isnan(row.average) ? "–" : fixed4(row.average);
    if (!std::isnan(row.average) && row.averaged < b.averaged_columns) {
      avg += "*";
      partial = true;
    }
    line.push_back(avg);
    cells.push_back(line);
  }
  std::vector<size_t> width(head.size(), 0);
  for (const auto& line : cells)
    for (size_t k = 0; k < line.size(); ++k) width[k] = std::max(width[k], text::display_width(line[k]));
  std::string out;
  for (size_t r = 0; r < cells.size(); ++r) {
    std::string line;
    for (size_t k = 0; k < cells[r].size(); ++k)
      line += (k ? "  " : "") + pad(cells[r][k], width[k], k > 0 && r > 1);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (r == 1) {
      size_t total = 0;
      for (size_t w : width) total += w;
      total += 2 * (width.size() - 1);
      std::string rule;
      for (size_t k = 0; k < total; ++k) rule += "─";
      out += rule + "\n";
    }
  }
  if (partial) out += "* averaged over the columns this model has\n";
  return out;
}

ordered_json leaderboard_json(const Leaderboard& b) {
  ordered_json cols = ordered_json::array(), rows = ordered_json::array();
  for (const auto& c : b.columns)
    cols.push_back({{"task", c.task}, {"n_shot", c.n_shot}, {"metric", c.metric}, {"higher_is_better", c.higher_is_better}});
  auto num = [](double v) { return std::isnan(v) ? ordered_json(nullptr) : ordered_json(v); };
  for (const auto& row : b.rows) {
    ordered_json cells = ordered_json::array();
    for (const auto& c : row.cells) cells.push_back({{"value", num(c.value)}, {"stderr", num(c.stderr_)}});
    rows.push_back({{"model", row.model}, {"average", num(row.average)}, {"averaged", row.averaged}, {"cells", cells}});
  }
  return {{"columns", cols}, {"rows", rows}};
}

}  // namespace nlm::eval
