// DedupResult as report.json / manifest stats, the one-line summary, and the canonical options
// JSON that resume checks compare.
#include <nlohmann/json.hpp>

#include "core/options.h"
#include "core/progress.h"
#include "curate/dedup/dedup.h"

namespace nlm::dedup {

std::string DedupResult::to_json() const {
  using nlohmann::json;
  json hist = json::array();
  for (auto [size, count] : cluster_sizes) hist.push_back({{"size", size}, {"clusters", count}});
  json ex = json::array();
  for (const auto& e : examples) ex.push_back({{"cluster_size", e.size}, {"id", e.id}, {"excerpt", e.excerpt}});
  double mb = static_cast<double>(bytes_in) / 1e6;
  json j = {
      {"documents_in", docs_in},
      {"bytes_in", bytes_in},
      {"documents_out", docs_out},
      {"bytes_out", bytes_out},
      {"removed",
       {{"exact", {{"documents", exact_docs}, {"bytes", exact_bytes}}},
        {"fuzzy", {{"documents", fuzzy_docs}, {"bytes", fuzzy_bytes}}}}},
      {"candidate_pairs", candidate_pairs},
      {"rejected_by_jaccard", rejected_pairs},
      {"jaccard_passes", jaccard_passes},
      {"clusters", clusters},
      {"cluster_sizes", hist},
      {"largest_clusters", ex},
      {"skipped_records", read.skipped()},
      {"truncated_files", read.truncated_files},
      {"invalid_utf8_documents", read.invalid_utf8_docs},
      {"spill_runs", spill_runs},
      {"ranks", ranks},
      {"resumed_files", resumed_files},
      {"seconds", {{"total", seconds}, {"read_and_hash", seconds_read}, {"cluster", seconds_cluster}, {"write", seconds_write}}},
      {"throughput_mb_per_s", seconds > 0 ? mb / seconds : 0.0},
  };
  return j.dump(2);
}

std::string DedupResult::summary() const {
  if (up_to_date) return "dedup: output is up to date (same inputs and options); use --force to redo";
  return "dedup: " + std::to_string(docs_in) + " documents in, " + std::to_string(docs_out) + " kept; removed " +
         std::to_string(exact_docs) + " exact (" + human_bytes(static_cast<double>(exact_bytes)) + ") and " +
         std::to_string(fuzzy_docs) + " near-duplicates (" + human_bytes(static_cast<double>(fuzzy_bytes)) +
         ") in " + std::to_string(clusters) + " clusters; skipped " + std::to_string(read.skipped()) +
         " malformed records; " + human_duration(seconds);
}

std::string options_json(const DedupOptions& o) {
  return opt::with_member(opt::json_of(o), "read", opt::json_of(o.read));
}

}  // namespace nlm::dedup
