// Reading metrics.jsonl into report curves (see metric_curves.h).
#include "pipeline/metric_curves.h"

#include <fstream>

namespace nlm::pipeline {
using nlohmann::json;

json read_curves(const std::string& metrics_path, const std::vector<CurveKey>& keys) {
  json curves = json::object();
  for (const auto& k : keys) curves[k.name] = json::array();
  std::ifstream in(metrics_path);
  std::string line;
  while (std::getline(in, line)) {
    json m = json::parse(line, nullptr, false);
    if (m.is_discarded() || !m.is_object() || !m.contains("step") || !m["step"].is_number()) continue;
    for (const auto& k : keys) {
      auto it = m.find(k.key);
      if (it != m.end() && it->is_number()) curves[k.name].push_back({m["step"], *it});
    }
  }
  return curves;
}

json last_value(const json& curve, const json& fallback) {
  return curve.is_array() && !curve.empty() ? curve.back()[1] : fallback;
}

json chart(const std::string& title, const std::string& y_label, const json& curves) {
  json kept = json::object();
  for (auto it = curves.begin(); it != curves.end(); ++it)
    if (it->is_array() && !it->empty()) kept[it.key()] = *it;
  return {{"title", title}, {"y_label", y_label}, {"curves", kept}};
}

}  // namespace nlm::pipeline
