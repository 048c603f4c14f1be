// The dedup passes (see dedup.h). Documents are named by a ref (file index << 32 | position in
// file) while files are read in parallel, and by a global index (input order) once the per-file
// counts are known; sorting by ref is sorting by input order, which keeps every choice
// deterministic.
#include "curate/dedup/dedup.h"

#include <algorithm>
#include <chrono>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>

#include "core/comm.h"
#include "core/error.h"
#include "core/external_sort.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/manifest.h"
#include "core/progress.h"
#include "core/stage_output.h"
#include "core/thread_pool.h"
#include "core/union_find.h"
#include "corpus/inputs.h"
#include "corpus/reader.h"
#include "corpus/writer.h"
#include "curate/dedup/checkpoint.h"
#include "curate/dedup/minhash.h"
#include "curate/dedup/shingles.h"
#include "text/dedup_normalize.h"

namespace nlm::dedup {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct BandEntry {
  uint64_t key, ref;
  bool operator<(const BandEntry& o) const { return key != o.key ? key < o.key : ref < o.ref; }
};
struct ExactEntry {
  uint64_t high, low, ref;
  bool operator<(const ExactEntry& o) const {
    if (high != o.high) return high < o.high;
    return low != o.low ? low < o.low : ref < o.ref;
  }
};

// Per-thread scratch for hashing documents.
struct Worker {
  explicit Worker(const MinHashParams& p) : shingler(p), hasher(p) {}
  Shingler shingler;
  MinHasher hasher;
  std::string norm;
  std::vector<uint64_t> shingles, sig, keys;
  std::vector<BandEntry> bands;
  std::vector<ExactEntry> exact;
};

float keep_value(const corpus::Document& doc, const KeepPolicy& keep) {
  auto v = doc.number_field(keep.field);
  return v && std::isfinite(*v) ? static_cast<float>(*v) : -std::numeric_limits<float>::infinity();
}

// True when a should be kept over b (a < b in input order breaks ties).
bool better(uint32_t a, uint32_t b, const KeepPolicy& keep, const std::vector<uint32_t>& bytes,
            const std::vector<float>& value) {
  switch (keep.kind) {
    case KeepKind::Longest:
      if (bytes[a] != bytes[b]) return bytes[a] > bytes[b];
      break;
    case KeepKind::Field:
      if (value[a] != value[b]) return value[a] > value[b];
      break;
    default: break;
  }
  return a < b;
}

// Sends each record of a rank's locally sorted `local` (refs turned into global indices) to the
// rank that owns its key, into that rank's `owned` sorter, in rounds of at most `round_records`
// per rank so memory stays bounded. With one process the records are handed straight to `fn` in
// order; otherwise `fn` sees this rank's owned records in order after the exchange.
template <class T, class Global, class Owner, class Fn>
void route_sorted(ExternalSorter<T>& local, ExternalSorter<T>& owned, Comm& comm, size_t round_records,
                  Global global, Owner owner, Fn fn) {
  if (comm.size() == 1) {
    local.drain([&](T e) {
      e.ref = global(e.ref);
      fn(e);
    });
    return;
  }
  std::vector<std::vector<T>> out(static_cast<size_t>(comm.size()));
  size_t buffered = 0;
  auto round = [&](bool finished) {
    std::vector<std::vector<char>> send(out.size());
    for (size_t d = 0; d < out.size(); ++d) {
      send[d] = to_bytes(out[d]);
      out[d].clear();
    }
    auto got = from_bytes<T>(comm.alltoallv(send));
    owned.add(got.data(), got.size());
    buffered = 0;
    return comm.all_true(finished);
  };
  local.drain([&](T e) {
    e.ref = global(e.ref);
    out[static_cast<size_t>(owner(e))].push_back(e);
    if (++buffered >= round_records) round(false);
  });
  while (!round(true)) {
  }
  owned.drain(fn);
}

std::string excerpt(const std::string& text, size_t max_bytes = 160) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "…";
}

void check_options(const std::vector<std::string>& files, const DedupOptions& options) {
  if (!options.exact && !options.fuzzy)
    usage_error("both exact and fuzzy dedup are off", "dedup", "drop --no-exact or --no-fuzzy");
  if (options.minhash.ngram < 1 || options.minhash.ngram > 64)
    usage_error("n-gram length must be 1..64", "--ngram");
  if (options.jaccard_threshold <= 0 || options.jaccard_threshold > 1)
    usage_error("Jaccard threshold must be in (0, 1]", "--jaccard-threshold");
  if (files.size() >= (1ull << 31)) usage_error("too many input files", "dedup");
}

// One dedup run on this rank: one method per phase, in the order run_dedup_ranked calls them,
// and the state the phases hand on as members.
struct DedupRun {
  DedupRun(const std::vector<std::string>& files, const DedupOptions& options, Comm& comm, const Manifest& manifest,
           DedupResult& result)
      : files(files), options(options), comm(comm), manifest(manifest), result(result), rank(comm.rank()),
        ranks(comm.size()), spill_root(options.shards.dir + "/.dedup-spill"),
        spill_dir(spill_root + (ranks > 1 ? "/rank-" + std::to_string(rank) : "")),
        want_value(options.keep.kind == KeepKind::Field),
        // With several ranks, each rank's budget is shared by the sorter of its own keys and the
        // sorter of the keys it owns after the exchange.
        budget(ranks > 1 ? options.memory / 2 : options.memory),
        exact_sorter(spill_dir, "exact", budget / 8),
        band_sorter(spill_dir, "bands", budget - budget / 8) {}

  // ---- pass 1: hash every document of this rank's files (file i goes to rank i % ranks) ------------
  // Each worker sorts its keys in buffers of its share of the budget and writes them as run files
  // of the file's checkpoint; the sorters only merge them. A file whose checkpoint is complete
  // (an earlier, killed run) is not read again.
  void hash_documents() {
    for (size_t fi = static_cast<size_t>(rank); fi < files.size(); fi += static_cast<size_t>(ranks)) mine.push_back(fi);
    std::vector<std::unique_ptr<Worker>> workers;
    for (int i = 0; i < pool.size(); ++i) workers.push_back(std::make_unique<Worker>(options.minhash));
    infos.resize(files.size());
    corpus::Diagnostics diag(options.read.max_reported, options.read.strict);
    std::vector<std::string> my_files;
    for (size_t fi : mine) my_files.push_back(files[fi]);
    Progress progress("dedup: hashing", corpus::total_size(my_files));
    const std::string work_dir = options.shards.dir + "/.dedup-work";
    make_dirs(work_dir);
    const size_t threads = static_cast<size_t>(pool.size());
    const size_t band_flush = std::max<size_t>(4096, (budget - budget / 8) / sizeof(BandEntry) / threads);
    const size_t exact_flush = std::max<size_t>(4096, budget / 8 / sizeof(ExactEntry) / threads);
    std::atomic<uint64_t> resumed{0};
    pool.parallel_for_worker(mine.size(), [&](size_t k, int wi) {
      const size_t fi = mine[k];
      Worker& w = *workers[static_cast<size_t>(wi)];
      FileCheckpoint& info = infos[fi];
      const std::string tag = checkpoint_tag(manifest.options_json, fi, manifest.inputs[fi]);
      auto adopt = [&] {
        for (auto& [path, records] : info.band_runs) band_sorter.adopt_run(path, records);
        for (auto& [path, records] : info.exact_runs) exact_sorter.adopt_run(path, records);
      };
      if (load_checkpoint(work_dir, tag, info)) {
        adopt();
        ++resumed;
        progress.add(info.bytes.size(), manifest.inputs[fi].bytes);
        return;
      }
      info = {};
      auto flush_bands = [&] {
        if (w.bands.empty()) return;
        std::string path = work_dir + "/" + tag + ".b" + std::to_string(info.band_runs.size()) + ".run";
        ExternalSorter<BandEntry>::write_run(path, w.bands);
        info.band_runs.emplace_back(path, w.bands.size());
        w.bands.clear();
      };
      auto flush_exact = [&] {
        if (w.exact.empty()) return;
        std::string path = work_dir + "/" + tag + ".e" + std::to_string(info.exact_runs.size()) + ".run";
        ExternalSorter<ExactEntry>::write_run(path, w.exact);
        info.exact_runs.emplace_back(path, w.exact.size());
        w.exact.clear();
      };
      w.bands.reserve(band_flush);
      w.exact.reserve(exact_flush);
      corpus::DocumentReader reader(files[fi], options.read, &diag);
      corpus::Document doc;
      uint64_t last = 0;
      const size_t B = w.hasher.bands();
      w.sig.resize(w.hasher.hashes());
      w.keys.resize(B);
      while (reader.next(doc)) {
        const uint64_t ref = (static_cast<uint64_t>(fi) << 32) | info.bytes.size();
        if (info.bytes.size() >= 0xFFFFFFFFu) runtime_error("more than 4G documents in one file", files[fi], "split it");
        info.bytes.push_back(static_cast<uint32_t>(std::min<size_t>(doc.text.size(), 0xFFFFFFFFu)));
        if (want_value) info.value.push_back(keep_value(doc, options.keep));
        text::dedup_normalize(doc.text, w.norm);
        if (options.exact) {
          Hash128 h = hash128(w.norm, options.minhash.seed);
          w.exact.push_back({h.high, h.low, ref});
        }
        if (options.fuzzy) {
          w.shingler.shingles(w.norm, w.shingles);
          if (!w.shingles.empty()) {
            w.hasher.signature(w.shingles.data(), w.shingles.size(), w.sig.data());
            w.hasher.band_keys(w.sig.data(), w.keys.data());
            for (size_t b = 0; b < B; ++b) w.bands.push_back({w.keys[b], ref});
          }
        }
        if (w.bands.size() + B > band_flush) flush_bands();
        if (w.exact.size() >= exact_flush) flush_exact();
        progress.add(1, reader.raw_bytes_read() - last);
        last = reader.raw_bytes_read();
      }
      flush_bands();
      flush_exact();
      info.stats = reader.stats();
      save_checkpoint(work_dir, tag, info);
      adopt();
    });
    result.resumed_files = resumed.load();
    workers.clear();
    progress.finish();
  }

  // Global indices (input order) from every rank's per-file counts, and the read figures of all ranks.
  void number_documents() {
    counts.assign(files.size(), 0);
    for (size_t fi : mine) counts[fi] = infos[fi].bytes.size();
    comm.allreduce_sum(counts);
    offset.assign(files.size() + 1, 0);
    for (size_t i = 0; i < files.size(); ++i) offset[i + 1] = offset[i] + counts[i];
    n = offset.back();
    if (n >= 0xFFFFFFFFull) runtime_error("more than 4G documents", "dedup", "dedup the corpus in parts");
    corpus::ReadStats local;
    for (size_t fi : mine) local.merge(infos[fi].stats);
    std::vector<uint64_t> v = {local.files, local.docs, local.text_bytes, local.raw_bytes, local.bad_json,
                               local.missing_text, local.wrong_type, local.invalid_utf8_docs,
                               local.utf8_replacements, local.truncated_files};
    comm.allreduce_sum(v);
    auto& r = result.read;
    r.files = v[0], r.docs = v[1], r.text_bytes = v[2], r.raw_bytes = v[3], r.bad_json = v[4];
    r.missing_text = v[5], r.wrong_type = v[6], r.invalid_utf8_docs = v[7], r.utf8_replacements = v[8];
    r.truncated_files = v[9];
  }

  // Per-document sizes and keep values, in input order, on rank 0 (which picks the keepers).
  void gather_sizes_and_values() {
    std::vector<uint32_t> my_bytes;
    std::vector<float> my_value;
    for (size_t fi : mine) {
      my_bytes.insert(my_bytes.end(), infos[fi].bytes.begin(), infos[fi].bytes.end());
      my_value.insert(my_value.end(), infos[fi].value.begin(), infos[fi].value.end());
      std::vector<uint32_t>().swap(infos[fi].bytes);
      std::vector<float>().swap(infos[fi].value);
    }
    if (ranks == 1) {
      bytes = std::move(my_bytes);
      value = std::move(my_value);
      return;
    }
    auto all_bytes = from_bytes<uint32_t>(comm.gatherv(to_bytes(my_bytes)));
    auto all_value = from_bytes<float>(comm.gatherv(to_bytes(my_value)));
    if (rank != 0) return;
    bytes.resize(n);
    if (want_value) value.resize(n);
    size_t pos = 0;
    for (int r = 0; r < ranks; ++r)
      for (size_t fi = static_cast<size_t>(r); fi < files.size(); fi += static_cast<size_t>(ranks)) {
        std::copy_n(all_bytes.begin() + static_cast<long>(pos), counts[fi], bytes.begin() + static_cast<long>(offset[fi]));
        if (want_value)
          std::copy_n(all_value.begin() + static_cast<long>(pos), counts[fi], value.begin() + static_cast<long>(offset[fi]));
        pos += counts[fi];
      }
  }

  uint64_t global(uint64_t ref) const { return offset[ref >> 32] + (ref & 0xFFFFFFFFu); }
  size_t round_records() const {
    return std::max<size_t>(1 << 12, budget / 4 / sizeof(BandEntry) / static_cast<size_t>(ranks));
  }

  // ---- pass 2: link duplicates ----------------------------------------------------------------
  // Keys are routed to owner ranks (key mod ranks); each owner links the documents that share its
  // keys, and rank 0 merges every rank's links into the final union-find.

  // Exact copies (same normalised-text hash) are linked to their first copy.
  void link_exact_copies() {
    uf = UnionFind(n);
    exact_rep.resize(n);
    for (uint32_t i = 0; i < n; ++i) exact_rep[i] = i;
    ExternalSorter<ExactEntry> owned(spill_dir, "exact-owned", budget / 8);
    std::vector<std::pair<uint32_t, uint32_t>> links;  // (first copy, later copy)
    bool have = false;
    ExactEntry prev{};
    uint32_t rep = 0;
    route_sorted(exact_sorter, owned, comm, round_records(), [this](uint64_t ref) { return global(ref); },
                 [&](const ExactEntry& e) { return static_cast<int>(e.high % static_cast<uint64_t>(ranks)); },
                 [&](const ExactEntry& e) {
                   uint32_t g = static_cast<uint32_t>(e.ref);
                   if (have && e.high == prev.high && e.low == prev.low)
                     links.emplace_back(rep, g);
                   else
                     rep = g;
                   prev = e;
                   have = true;
                 });
    if (ranks > 1) links = from_bytes<std::pair<uint32_t, uint32_t>>(comm.allgatherv(to_bytes(links)));
    for (auto [r, g] : links) {
      exact_rep[g] = r;
      uf.unite(r, g);
    }
    result.spill_runs += exact_sorter.runs() + owned.runs();
  }

  // Documents sharing a band key are linked, or become candidate pairs for the Jaccard check.
  void link_band_candidates() {
    ExternalSorter<BandEntry> owned(spill_dir, "bands-owned", budget - budget / 8);
    bool have = false;
    uint64_t key = 0;
    uint32_t first = 0, prev = 0;
    route_sorted(band_sorter, owned, comm, round_records(), [this](uint64_t ref) { return global(ref); },
                 [&](const BandEntry& e) { return static_cast<int>(e.key % static_cast<uint64_t>(ranks)); },
                 [&](const BandEntry& e) {
                   uint32_t g = static_cast<uint32_t>(e.ref);
                   if (exact_rep[g] != g) return;  // a later exact copy: already linked to its first copy
                   if (!have || e.key != key) {
                     key = e.key;
                     first = prev = g;
                     have = true;
                     return;
                   }
                   ++result.candidate_pairs;
                   if (!options.jaccard_check) {
                     uf.unite(first, g);
                   } else {
                     pairs.emplace_back(first, g);
                     if (prev != first) pairs.emplace_back(prev, g);
                   }
                   prev = g;
                 });
    result.spill_runs += band_sorter.runs() + owned.runs();
  }

  // With several ranks: sums the figures, and brings every rank's links and candidate pairs to
  // rank 0. Returns false on the other ranks, whose part is then done.
  bool merge_links_on_rank_zero() {
    if (ranks == 1) return true;
    std::vector<uint64_t> v = {result.candidate_pairs, result.spill_runs, result.resumed_files};
    comm.allreduce_sum(v);
    result.candidate_pairs = v[0];
    result.spill_runs = v[1];
    result.resumed_files = v[2];
    // Each rank's links, as (document, its root); candidate pairs when they are still to be checked.
    std::vector<std::pair<uint32_t, uint32_t>> links;
    for (uint32_t i = 0; i < n; ++i)
      if (uint32_t r = uf.find(i); r != i) links.emplace_back(r, i);
    auto all_links = from_bytes<std::pair<uint32_t, uint32_t>>(comm.gatherv(to_bytes(links)));
    auto all_pairs = from_bytes<std::pair<uint32_t, uint32_t>>(comm.gatherv(to_bytes(pairs)));
    std::error_code ec;
    std::filesystem::remove_all(spill_dir, ec);
    if (rank != 0) return false;
    for (auto [r, i] : all_links) uf.unite(r, i);
    pairs = std::move(all_pairs);
    return true;
  }

  // Candidate pairs whose shingle sets reach the Jaccard threshold are linked. Pairs are verified
  // in blocks whose shingle sets fit in --memory, each block with a read of the files holding its
  // documents. A set's size is bounded from the text size: at most one 8-byte shingle per code
  // point (char) or per 2 bytes (word: a letter and a separator).
  void verify_candidates() {
    if (options.jaccard_check && !pairs.empty()) {
      std::sort(pairs.begin(), pairs.end());
      pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
      std::vector<std::unique_ptr<Shingler>> shinglers;
      for (int i = 0; i < pool.size(); ++i) shinglers.push_back(std::make_unique<Shingler>(options.minhash));
      const uint64_t per_byte = options.minhash.shingle == ShingleKind::Char ? 8 : 4;
      auto cost = [&](uint32_t g) { return per_byte * bytes[g] + 64; };
      std::vector<uint32_t> needed;
      std::vector<std::vector<uint64_t>> sets;
      std::vector<char> accept;
      for (size_t begin = 0, end = 0; begin < pairs.size(); begin = end) {
        ++result.jaccard_passes;
        uint64_t estimate = 0;
        needed.clear();
        for (end = begin; end < pairs.size() && (end == begin || estimate <= options.memory); ++end) {
          if (end == begin || pairs[end].first != pairs[end - 1].first) estimate += cost(pairs[end].first);
          estimate += cost(pairs[end].second);
          needed.push_back(pairs[end].first);
          needed.push_back(pairs[end].second);
        }
        std::sort(needed.begin(), needed.end());
        needed.erase(std::unique(needed.begin(), needed.end()), needed.end());
        sets.assign(needed.size(), {});
        pool.parallel_for_worker(files.size(), [&](size_t fi, int wi) {
          auto lo = std::lower_bound(needed.begin(), needed.end(), static_cast<uint32_t>(offset[fi]));
          if (lo == needed.end() || *lo >= offset[fi + 1]) return;
          corpus::Diagnostics quiet(0, false);
          corpus::DocumentReader reader(files[fi], options.read, &quiet);
          corpus::Document doc;
          std::string norm;
          uint32_t g = static_cast<uint32_t>(offset[fi]);
          for (; reader.next(doc) && lo != needed.end() && *lo < offset[fi + 1]; ++g) {
            if (g != *lo) continue;
            text::dedup_normalize(doc.text, norm);
            shinglers[static_cast<size_t>(wi)]->shingle_set(norm, sets[static_cast<size_t>(lo - needed.begin())]);
            ++lo;
          }
        });
        auto set_of = [&](uint32_t g) -> const std::vector<uint64_t>& {
          return sets[static_cast<size_t>(std::lower_bound(needed.begin(), needed.end(), g) - needed.begin())];
        };
        accept.assign(end - begin, 0);
        const size_t chunk = 4096;
        pool.parallel_for((end - begin + chunk - 1) / chunk, [&](size_t c) {
          for (size_t i = begin + c * chunk; i < std::min(end, begin + (c + 1) * chunk); ++i)
            accept[i - begin] = jaccard_sorted(set_of(pairs[i].first), set_of(pairs[i].second)) >= options.jaccard_threshold;
        });
        for (size_t i = begin; i < end; ++i) {
          if (accept[i - begin])
            uf.unite(pairs[i].first, pairs[i].second);
          else
            ++result.rejected_pairs;
        }
      }
    }
    std::vector<std::pair<uint32_t, uint32_t>>().swap(pairs);
  }

  // Cluster sizes and keepers (`size` and `keeper` are indexed by root), the removal figures, and
  // the largest clusters for the report.
  void pick_keepers() {
    size.assign(n, 0);
    keeper.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t r = uf.find(i);
      if (size[r]++ == 0 || better(i, keeper[r], options.keep, bytes, value)) keeper[r] = i;
    }
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t r = uf.find(i);
      result.bytes_in += bytes[i];
      if (keeper[r] == i) {
        if (size[r] >= 2) {
          ++result.clusters;
          ++result.cluster_sizes[size[r]];
          largest.emplace_back(size[r], i);
        }
        continue;
      }
      if (exact_rep[i] == exact_rep[keeper[r]]) {
        ++result.exact_docs;
        result.exact_bytes += bytes[i];
      } else {
        ++result.fuzzy_docs;
        result.fuzzy_bytes += bytes[i];
      }
    }
    const size_t n_examples = std::min(largest.size(), static_cast<size_t>(std::max(0, options.report_examples)));
    std::partial_sort(largest.begin(), largest.begin() + static_cast<long>(n_examples), largest.end(),
                      [](auto& x, auto& y) { return x.first != y.first ? x.first > y.first : x.second < y.second; });
    largest.resize(n_examples);
    result.docs_in = n;
  }

  // ---- pass 3: write the kept documents -----------------------------------------------------------
  void write_keepers(corpus::ShardWriter& writer) {
    result.examples.resize(largest.size());
    Progress out_progress("dedup: writing", corpus::total_size(files));
    corpus::Diagnostics quiet(0, false);
    corpus::Document doc;
    uint32_t g = 0;
    for (size_t fi = 0; fi < files.size(); ++fi) {
      corpus::DocumentReader reader(files[fi], options.read, &quiet);
      uint64_t last = 0;
      for (; reader.next(doc); ++g) {
        out_progress.add(1, reader.raw_bytes_read() - last);
        last = reader.raw_bytes_read();
        uint32_t r = uf.find(g);
        if (keeper[r] != g) continue;
        for (size_t k = 0; k < largest.size(); ++k)
          if (largest[k].second == g) result.examples[k] = {largest[k].first, doc.id, excerpt(doc.text)};
        doc.set_number_field(options.cluster_size_field, size[r]);
        writer.write(doc);
        ++result.docs_out;
        result.bytes_out += doc.text.size();
      }
    }
    out_progress.finish();
    if (g != n)
      runtime_error("inputs changed while dedup ran (" + std::to_string(n) + " documents, then " +
                        std::to_string(g) + ")", "dedup", "rerun on stable inputs");
  }

  const std::vector<std::string>& files;
  const DedupOptions& options;
  Comm& comm;
  const Manifest& manifest;
  DedupResult& result;
  const int rank, ranks;
  const std::string spill_root, spill_dir;
  const bool want_value;
  const uint64_t budget;
  ExternalSorter<ExactEntry> exact_sorter;
  ExternalSorter<BandEntry> band_sorter;
  ThreadPool pool;
  std::vector<size_t> mine;               // this rank's files
  std::vector<FileCheckpoint> infos;      // pass 1's per-file results (this rank's files)
  std::vector<uint64_t> counts, offset;   // documents per file; first global index of each file
  uint64_t n = 0;                         // documents in all files
  std::vector<uint32_t> bytes;            // text bytes per document (rank 0)
  std::vector<float> value;               // keep-policy field values (rank 0, KeepKind::Field)
  UnionFind uf;
  std::vector<uint32_t> exact_rep;        // first exact copy of each document
  std::vector<std::pair<uint32_t, uint32_t>> pairs;  // candidates awaiting the Jaccard check
  std::vector<uint32_t> size, keeper;     // by cluster root
  std::vector<std::pair<uint64_t, uint32_t>> largest;  // (size, root) of the reported clusters
};

}  // namespace

static DedupResult run_dedup_ranked(const std::vector<std::string>& files, const DedupOptions& options, Comm& comm) {
  const auto start = Clock::now();
  DedupResult result;
  check_options(files, options);
  Manifest manifest = plan_stage("dedup", options_json(options), files);
  result.up_to_date = finished_stage(options.shards.dir, manifest, options.force).has_value();
  if (result.up_to_date) return result;

  result.ranks = comm.size();
  DedupRun run(files, options, comm, manifest, result);
  auto t = Clock::now();
  run.hash_documents();
  run.number_documents();
  run.gather_sizes_and_values();
  result.seconds_read = since(t);

  t = Clock::now();
  run.link_exact_copies();
  run.link_band_candidates();
  if (!run.merge_links_on_rank_zero()) {
    result.rank = comm.rank();
    result.seconds = since(start);
    return result;
  }
  run.verify_candidates();
  run.pick_keepers();
  result.seconds_cluster = since(t);

  t = Clock::now();
  corpus::ShardWriter writer(options.shards);
  run.write_keepers(writer);
  result.seconds_write = since(t);
  result.seconds = since(start);
  std::error_code ec;
  std::filesystem::remove_all(run.spill_root, ec);
  std::filesystem::remove_all(options.shards.dir + "/.dedup-work", ec);
  manifest.outputs = writer.close();
  const std::string report = result.to_json();
  publish_stage(options.shards.dir, std::move(manifest), result.seconds, report, report + "\n");
  return result;
}

DedupResult run_dedup(const std::vector<std::string>& files, const DedupOptions& options) {
  return run_on_ranks([&](Comm& comm) { return run_dedup_ranked(files, options, comm); });
}

}  // namespace nlm::dedup
