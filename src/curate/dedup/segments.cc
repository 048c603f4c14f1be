// Line / paragraph dedup passes (see segments.h). Documents are named by ref = file index << 32 |
// position, so "first document" means first in input order whatever the thread count.
#include "curate/dedup/segments.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/external_sort.h"
#include "core/options.h"
#include "curate/dedup/options.h"
#include "core/hash.h"
#include "core/manifest.h"
#include "core/progress.h"
#include "core/stage_output.h"
#include "core/thread_pool.h"
#include "corpus/inputs.h"
#include "corpus/reader.h"
#include "text/dedup_normalize.h"

namespace nlm::dedup {
namespace {

struct SegEntry {
  uint64_t hash, ref;
  bool operator<(const SegEntry& o) const { return hash != o.hash ? hash < o.hash : ref < o.ref; }
};
struct Frequent {
  uint64_t hash, first_ref, docs;
  bool operator<(const Frequent& o) const { return hash < o.hash; }
};

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); });
}

// Hash of a segment's normalised text, or 0 when it is too short to ever remove.
uint64_t segment_hash(std::string_view seg, uint64_t min_bytes, std::string& norm) {
  text::dedup_normalize(seg, norm);
  if (norm.size() < std::max<uint64_t>(min_bytes, 1)) return 0;
  uint64_t h = hash64(norm, 0x5E6D);
  return h ? h : 1;
}

std::string options_json(const SegmentDedupOptions& o) {
  return opt::with_member(opt::json_of(o), "read", opt::json_of(o.read));
}

}  // namespace

std::vector<std::pair<size_t, size_t>> split_segments(std::string_view text, SegmentUnit unit) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t pos = 0;
  bool open = false;
  size_t begin = 0, end = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    size_t stop = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, stop - pos);
    if (unit == SegmentUnit::Line) {
      out.emplace_back(pos, stop);
    } else if (blank(line)) {
      if (open) out.emplace_back(begin, end);
      open = false;
    } else {
      if (!open) begin = pos;
      open = true;
      end = stop;
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  if (open) out.emplace_back(begin, end);
  if (unit == SegmentUnit::Line && !out.empty() && out.back().first == text.size()) out.pop_back();
  return out;
}

std::string SegmentDedupResult::to_json() const {
  nlohmann::json ex = nlohmann::json::array();
  for (auto& e : examples) ex.push_back({{"documents", e.docs}, {"text", e.text}});
  return nlohmann::json{{"documents_in", docs_in},   {"documents_out", docs_out},
                        {"documents_dropped", docs_dropped}, {"documents_changed", docs_changed},
                        {"bytes_in", bytes_in},     {"bytes_out", bytes_out},
                        {"segments_in", segments_in}, {"segments_removed", segments_removed},
                        {"bytes_removed", bytes_removed}, {"frequent_segments", frequent_segments},
                        {"most_repeated", ex},      {"skipped_records", read.skipped()},
                        {"seconds", seconds},
                        {"throughput_mb_per_s", seconds > 0 ? static_cast<double>(bytes_in) / 1e6 / seconds : 0.0}}
      .dump(2);
}

std::string SegmentDedupResult::summary() const {
  if (up_to_date) return "dedup-lines: output is up to date (same inputs and options); use --force to redo";
  return "dedup-lines: removed " + std::to_string(segments_removed) + " of " + std::to_string(segments_in) +
         " segments (" + human_bytes(static_cast<double>(bytes_removed)) + ") from " + std::to_string(docs_changed) +
         " documents; dropped " + std::to_string(docs_dropped) + "; kept " + std::to_string(docs_out) + " of " +
         std::to_string(docs_in) + "; skipped " + std::to_string(read.skipped()) + " malformed records";
}

SegmentDedupResult run_segment_dedup(const std::vector<std::string>& files, const SegmentDedupOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  SegmentDedupResult result;
  Manifest manifest = plan_stage("dedup.lines", options_json(options), files);
  result.up_to_date = finished_stage(options.shards.dir, manifest, options.force).has_value();
  if (result.up_to_date) return result;
  if (files.size() >= (1ull << 31)) usage_error("too many input files", "dedup-lines");
  const std::string spill_dir = options.shards.dir + "/.dedup-spill";

  // Pass 1: every document's distinct segment hashes, sorted by (hash, document).
  ExternalSorter<SegEntry> sorter(spill_dir, "segments", options.memory);
  {
    ThreadPool pool;
    corpus::Diagnostics diag(options.read.max_reported, options.read.strict);
    Progress progress("dedup-lines: counting", corpus::total_size(files));
    pool.parallel_for(files.size(), [&](size_t fi) {
      corpus::DocumentReader reader(files[fi], options.read, &diag);
      corpus::Document doc;
      std::string norm;
      std::vector<SegEntry> local, batch;
      uint64_t local_index = 0, last = 0;
      while (reader.next(doc)) {
        const uint64_t ref = (static_cast<uint64_t>(fi) << 32) | local_index++;
        local.clear();
        for (auto [b, e] : split_segments(doc.text, options.unit))
          if (uint64_t h = segment_hash(std::string_view(doc.text).substr(b, e - b), options.min_segment_bytes, norm))
            local.push_back({h, ref});
        std::sort(local.begin(), local.end());
        local.erase(std::unique(local.begin(), local.end(), [](auto& x, auto& y) { return x.hash == y.hash; }), local.end());
        batch.insert(batch.end(), local.begin(), local.end());
        if (batch.size() >= 1 << 15) {
          sorter.add(batch.data(), batch.size());
          batch.clear();
        }
        progress.add(1, reader.raw_bytes_read() - last);
        last = reader.raw_bytes_read();
      }
      sorter.add(batch.data(), batch.size());
    });
    progress.finish();
  }
  std::vector<Frequent> frequent;
  {
    uint64_t hash = 0, first = 0, docs = 0;
    auto close = [&] {
      if (docs > options.max_docs) frequent.push_back({hash, first, docs});
    };
    sorter.drain([&](const SegEntry& e) {
      if (docs && e.hash == hash) {
        ++docs;
        return;
      }
      close();
      hash = e.hash;
      first = e.ref;
      docs = 1;
    });
    if (docs) close();
  }
  result.frequent_segments = frequent.size();
  std::vector<Frequent> top = frequent;
  const size_t n_ex = std::min(top.size(), static_cast<size_t>(std::max(0, options.report_examples)));
  std::partial_sort(top.begin(), top.begin() + static_cast<long>(n_ex), top.end(),
                    [](auto& a, auto& b) { return a.docs != b.docs ? a.docs > b.docs : a.hash < b.hash; });
  top.resize(n_ex);
  result.examples.resize(n_ex);

  // Pass 2: rewrite in input order.
  corpus::ShardWriter writer(options.shards);
  {
    Progress progress("dedup-lines: writing", corpus::total_size(files));
    corpus::Diagnostics diag(0, false);  // the first pass already reported them
    corpus::Document doc;
    std::string norm, out;
    for (size_t fi = 0; fi < files.size(); ++fi) {
      corpus::DocumentReader reader(files[fi], options.read, &diag);
      uint64_t local_index = 0, last = 0;
      while (reader.next(doc)) {
        const uint64_t ref = (static_cast<uint64_t>(fi) << 32) | local_index++;
        ++result.docs_in;
        result.bytes_in += doc.text.size();
        progress.add(1, reader.raw_bytes_read() - last);
        last = reader.raw_bytes_read();
        auto segs = split_segments(doc.text, options.unit);
        result.segments_in += segs.size();
        out.assign(doc.text, 0, segs.empty() ? doc.text.size() : segs[0].first);
        bool changed = false;
        for (size_t i = 0; i < segs.size(); ++i) {
          auto [b, e] = segs[i];
          size_t next = i + 1 < segs.size() ? segs[i + 1].first : doc.text.size();
          std::string_view seg = std::string_view(doc.text).substr(b, e - b);
          uint64_t h = segment_hash(seg, options.min_segment_bytes, norm);
          auto it = std::lower_bound(frequent.begin(), frequent.end(), Frequent{h, 0, 0});
          if (h && it != frequent.end() && it->hash == h) {
            for (size_t k = 0; k < top.size(); ++k)
              if (top[k].hash == h && result.examples[k].text.empty()) result.examples[k] = {top[k].docs, std::string(seg.substr(0, 200))};
            if (it->first_ref != ref) {
              ++result.segments_removed;
              result.bytes_removed += next - b;
              changed = true;
              continue;
            }
          }
          out.append(doc.text, b, next - b);
        }
        if (changed) {
          while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\r' || out.back() == '\t')) out.pop_back();
          ++result.docs_changed;
          if (out.size() < options.min_doc_bytes) {
            ++result.docs_dropped;
            continue;
          }
          doc.text.swap(out);
        }
        ++result.docs_out;
        result.bytes_out += doc.text.size();
        writer.write(doc);
      }
      result.read.merge(reader.stats());
    }
    progress.finish();
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::error_code ec;
  std::filesystem::remove_all(spill_dir, ec);
  manifest.outputs = writer.close();
  const std::string report = result.to_json();
  publish_stage(options.shards.dir, std::move(manifest), result.seconds, report, report + "\n");
  return result;
}

}  // namespace nlm::dedup
