// JSON and table rendering of curate stats (nlohmann kept out of the header).
#include "curate/report.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_ints.h"
#include "core/progress.h"

namespace nlm::curate {
using nlohmann::json;
using nlohmann::ordered_json;

void CurateStats::merge(const CurateStats& o) {
  docs_in += o.docs_in;
  bytes_in += o.bytes_in;
  docs_out += o.docs_out;
  bytes_out += o.bytes_out;
  for (const auto& [k, v] : o.removed_by_step) removed_by_step[k] += v;
  for (const auto& [k, v] : o.removed_by_reason) removed_by_reason[k] += v;
  for (const auto& [k, v] : o.languages) languages[k] += v;
  for (const auto& [g, m] : o.counters)
    for (const auto& [k, v] : m) counters[g][k] += v;
  read.merge(o.read);
}

namespace {
// ReadStats' counts by their JSON names, for writing and reading back alike.
constexpr std::pair<const char*, uint64_t corpus::ReadStats::*> kReadCounts[] = {
    {"files", &corpus::ReadStats::files},
    {"docs", &corpus::ReadStats::docs},
    {"text_bytes", &corpus::ReadStats::text_bytes},
    {"raw_bytes", &corpus::ReadStats::raw_bytes},
    {"bad_json", &corpus::ReadStats::bad_json},
    {"missing_text", &corpus::ReadStats::missing_text},
    {"wrong_type", &corpus::ReadStats::wrong_type},
    {"invalid_utf8_docs", &corpus::ReadStats::invalid_utf8_docs},
    {"utf8_replacements", &corpus::ReadStats::utf8_replacements},
    {"truncated_files", &corpus::ReadStats::truncated_files}};
ordered_json read_json(const corpus::ReadStats& r) {
  ordered_json j = ordered_json::object();
  for (const auto& [key, field] : kReadCounts) j[key] = r.*field;
  return j;
}
// Counts read back from a shard's manifest go through json_uint: get<uint64_t>() would convert a
// float written into a hand-edited or corrupt file with undefined behaviour.
uint64_t count_at(const json& j, const char* key) { return json_uint_at(j, key, 0, "shard manifest"); }
std::map<std::string, uint64_t> counts_of(const json& j, const char* key) {
  std::map<std::string, uint64_t> m;
  const json& o = j.at(key);
  if (!o.is_object()) runtime_error(std::string("'") + key + "' is not an object", "shard manifest");
  for (const auto& [k, v] : o.items()) m[k] = json_uint(v, std::string(key) + "." + k, "shard manifest");
  return m;
}
corpus::ReadStats read_from(const json& j) {
  corpus::ReadStats r;
  for (const auto& [key, field] : kReadCounts) r.*field = count_at(j, key);
  return r;
}
}  // namespace

std::string CurateStats::to_json() const {
  ordered_json j;
  j["docs_in"] = docs_in;
  j["bytes_in"] = bytes_in;
  j["docs_out"] = docs_out;
  j["bytes_out"] = bytes_out;
  j["removed_by_step"] = removed_by_step;
  j["removed_by_reason"] = removed_by_reason;
  j["languages"] = languages;
  j["counters"] = counters;
  j["read"] = read_json(read);
  return j.dump();
}

CurateStats CurateStats::from_json(const std::string& text) {
  try {
    json j = json::parse(text);
    CurateStats s;
    auto total = [&](const char* key) { return json_uint(j.at(key), key, "shard manifest"); };  // at(): required
    s.docs_in = total("docs_in");
    s.bytes_in = total("bytes_in");
    s.docs_out = total("docs_out");
    s.bytes_out = total("bytes_out");
    s.removed_by_step = counts_of(j, "removed_by_step");
    s.removed_by_reason = counts_of(j, "removed_by_reason");
    s.languages = counts_of(j, "languages");
    const json& groups = j.at("counters");
    if (!groups.is_object()) runtime_error("'counters' is not an object", "shard manifest");
    for (const auto& [g, m] : groups.items()) s.counters[g] = counts_of(groups, g.c_str());
    s.read = read_from(j.at("read"));
    return s;
  } catch (const json::exception& e) {
    runtime_error(std::string("malformed curate stats: ") + e.what(), "shard manifest");
  }
}

double CurateReport::throughput_mb_s() const {
  return seconds > 0 ? static_cast<double>(processed_bytes) / 1e6 / seconds : 0;
}

std::string CurateReport::to_json() const {
  ordered_json j;
  j["docs_in"] = stats.docs_in;
  j["bytes_in"] = stats.bytes_in;
  j["docs_out"] = stats.docs_out;
  j["bytes_out"] = stats.bytes_out;
  ordered_json funnel = ordered_json::array();
  uint64_t remaining = stats.docs_in;
  // Removals before the chain (WARC records and HTML extraction, size, failed steps) are listed
  // only when there are any.
  std::vector<std::string> order = {"warc", "html", "size", "error"};
  size_t before_chain = order.size();
  order.insert(order.end(), steps.begin(), steps.end());
  for (size_t k = 0; k < order.size(); ++k) {
    const std::string& s = order[k];
    auto it = stats.removed_by_step.find(s);
    uint64_t removed = it == stats.removed_by_step.end() ? 0 : it->second;
    if (k < before_chain && removed == 0) continue;
    remaining -= std::min(remaining, removed);
    funnel.push_back({{"step", s}, {"removed", removed}, {"remaining", remaining}});
  }
  j["funnel"] = funnel;
  j["removed_by_reason"] = stats.removed_by_reason;
  j["languages"] = stats.languages;
  for (const auto& [g, m] : stats.counters) j[g] = m;
  j["read"] = read_json(stats.read);
  j["shards"] = shards;
  j["shards_skipped"] = shards_skipped;
  j["threads"] = threads;
  j["ranks"] = ranks;
  j["seconds"] = seconds;
  j["throughput_mb_s"] = throughput_mb_s();
  j["throughput_mb_s_per_thread"] = threads > 0 ? throughput_mb_s() / threads : 0;
  j["options"] = ordered_json::parse(options_json);
  return j.dump(2) + "\n";
}

std::string CurateReport::to_table() const {
  std::string out;
  char buf[256];
  auto row = [&](const std::string& k, const std::string& v) {
    std::snprintf(buf, sizeof buf, "  %-34s %s\n", k.c_str(), v.c_str());
    out += buf;
  };
  auto pct = [](uint64_t a, uint64_t b) {
    char p[32];
    std::snprintf(p, sizeof p, "%.1f%%", b ? 100.0 * static_cast<double>(a) / static_cast<double>(b) : 0.0);
    return std::string(p);
  };
  out += "curate\n";
  row("documents in / out", std::to_string(stats.docs_in) + " / " + std::to_string(stats.docs_out) +
                                " (" + pct(stats.docs_out, stats.docs_in) + " kept)");
  row("text bytes in / out", human_bytes(static_cast<double>(stats.bytes_in)) + " / " +
                                 human_bytes(static_cast<double>(stats.bytes_out)));
  out += "funnel (documents removed, remaining)\n";
  json j = json::parse(to_json());
  for (const auto& f : j["funnel"])
    row(f["step"].get<std::string>(), std::to_string(f["removed"].get<uint64_t>()) + ", " +
                                          std::to_string(f["remaining"].get<uint64_t>()));
  if (!stats.removed_by_reason.empty()) {
    out += "removals by rule\n";
    std::vector<std::pair<std::string, uint64_t>> v(stats.removed_by_reason.begin(),
                                                    stats.removed_by_reason.end());
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second > b.second; });
    for (size_t i = 0; i < v.size() && i < 15; ++i) row(v[i].first, std::to_string(v[i].second));
  }
  if (!stats.languages.empty()) {
    out += "languages (kept documents)\n";
    std::vector<std::pair<std::string, uint64_t>> v(stats.languages.begin(), stats.languages.end());
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second > b.second; });
    for (size_t i = 0; i < v.size() && i < 10; ++i)
      row(v[i].first.empty() ? "(unknown)" : v[i].first, std::to_string(v[i].second));
  }
  for (const auto& [g, m] : stats.counters) {
    out += g + "\n";
    for (const auto& [k, v] : m) row(k, std::to_string(v));
  }
  out += "input\n";
  row("malformed records skipped", std::to_string(stats.read.skipped()));
  row("truncated/corrupt files", std::to_string(stats.read.truncated_files));
  row("documents with invalid UTF-8", std::to_string(stats.read.invalid_utf8_docs));
  out += "run\n";
  row("shards (skipped as done)", std::to_string(shards) + " (" + std::to_string(shards_skipped) + ")");
  std::snprintf(buf, sizeof buf, "%.2f MB/s on %d threads%s (%.2f MB/s per thread), %s", throughput_mb_s(),
                threads, ranks > 1 ? (" over " + std::to_string(ranks) + " ranks").c_str() : "",
                threads ? throughput_mb_s() / threads : 0.0, human_duration(seconds).c_str());
  row("throughput", buf);
  return out;
}

}  // namespace nlm::curate
