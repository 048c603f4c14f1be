// The shard loop: per-worker chains, per-shard readers and writers, per-shard manifests for
// resume, and the final manifest and report. Under mpirun each rank runs the shards whose index
// is its rank modulo the rank count; every shard's bytes depend only on its input and the
// options, so the output is the one process's, byte for byte. Rank 0 alone sets the folder up,
// totals the ranks' stats and publishes the manifest and report.
#include "curate/curate.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/comm.h"
#include "core/error.h"
#include "core/log.h"
#include "core/manifest.h"
#include "core/options.h"
#include "core/progress.h"
#include "core/runtime.h"
#include "core/stage_output.h"
#include "core/thread_pool.h"
#include "corpus/inputs.h"
#include "curate/source.h"
#include "corpus/writer.h"

namespace nlm::curate {
namespace fs = std::filesystem;

namespace {
std::string shard_name(size_t i, const std::string& ext) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "part-%05zu", i);
  return buf + ext;
}

// The options as the schema gives them, with the read options as "read".
std::string options_json(const CurateOptions& o) {
  return opt::with_member(opt::json_of(o), "read", opt::json_of(o.read));
}

struct ShardJob {
  size_t index;
  std::string input;
  std::string out_path, rej_path, manifest_dir;
  Manifest plan;  // this shard's manifest.json, less outputs, seconds and stats
};

CurateStats run_shard(const ShardJob& job, const CurateOptions& o, Chain& chain,
                      corpus::Diagnostics& diag, Progress& progress) {
  CurateStats st;
  corpus::WriteOptions wo;
  wo.text_field = o.read.text_field;
  wo.id_field = o.read.id_field;
  wo.level = o.level;
  corpus::JsonlWriter out(job.out_path, wo);
  std::unique_ptr<corpus::JsonlWriter> rej;
  if (!job.rej_path.empty()) rej = std::make_unique<corpus::JsonlWriter>(job.rej_path, wo);
  std::unique_ptr<DocSource> source = open_source(job.input, o.read, o.chain.html, &diag);
  DocSource& reader = *source;
  corpus::Document doc;
  uint64_t last_raw = 0;
  chain.counters().clear();
  while (reader.next(doc)) {
    ++st.docs_in;
    st.bytes_in += doc.text.size();
    progress.add(1, reader.raw_bytes_read() - last_raw);
    last_raw = reader.raw_bytes_read();
    std::optional<Rejection> r;
    std::string step;
    if (reader.rejection()) {  // removed by the source: a page extraction refused or found empty
      r = reader.rejection();
      step = r->reason.substr(0, r->reason.find('.'));
    } else if (o.max_doc_bytes > 0 && doc.text.size() > o.max_doc_bytes) {
      r = Rejection{"size.max_doc_bytes", static_cast<double>(doc.text.size())};
      step = "size";
    } else {
      try {
        r = chain.run(doc);
        if (r) step = chain.step_names()[chain.last_step()];
      } catch (const std::exception& e) {
        // A step failing on one document (an ICU or OpenCC error, say) removes that document.
        diag.malformed(doc.where(), std::string("curate step failed: ") + e.what());
        r = Rejection{"error.step_failed", 0};
        step = "error";
      }
    }
    if (r) {
      ++st.removed_by_step[step];
      ++st.removed_by_reason[r->reason];
      if (rej) {
        if (doc.text.size() > std::max<uint64_t>(o.max_doc_bytes, 1 << 20))
          doc.text.resize(1 << 20);  // keep rejects of huge documents small; the reason says why
        doc.set_string_field("reject_reason", r->reason);
        doc.set_number_field("reject_value", r->value);
        rej->write(doc);
      }
      continue;
    }
    ++st.docs_out;
    st.bytes_out += doc.text.size();
    ++st.languages[chain.context().lang()];
    out.write(doc);
  }
  st.read = reader.read_stats();
  reader.add_counters(st.counters);
  for (const auto& [g, m] : chain.counters())
    for (const auto& [k, v] : m) st.counters[g][k] += v;
  out.commit();
  if (rej) rej->commit();
  return st;
}

// keep_fraction's global cut: runs the chain up to and including the quality step (scoring only)
// over every input, counts the documents reaching it per rounded score (a fixed table of 10^6 + 1
// counts, so memory does not grow with the corpus), and returns the highest score whose
// documents at or above it make up at least keep_fraction of them. Counts are sums, so the cut
// does not depend on the thread count or, summed over MPI ranks (each scores its own shards), on
// the rank count.
double quality_cut(const std::vector<std::string>& all_files, const CurateOptions& o, int threads, Comm& comm) {
  std::vector<std::string> files;
  for (size_t i = 0; i < all_files.size(); ++i)
    if (static_cast<int>(i % static_cast<size_t>(comm.size())) == comm.rank()) files.push_back(all_files[i]);
  CurateOptions first = o;
  auto at = std::find(first.chain.steps.begin(), first.chain.steps.end(), "quality");
  first.chain.steps.erase(at + 1, first.chain.steps.end());
  first.chain.quality.threshold = 0;
  first.chain.quality.keep_fraction = 0;
  const size_t bins = static_cast<size_t>(kQualityScale) + 1;
  threads = static_cast<int>(std::max<size_t>(1, std::min<size_t>(files.size(), static_cast<size_t>(threads))));
  std::vector<std::unique_ptr<Chain>> chains(static_cast<size_t>(threads));
  for (auto& c : chains) c = std::make_unique<Chain>(first.chain);
  std::vector<std::vector<uint64_t>> counts(static_cast<size_t>(threads), std::vector<uint64_t>(bins, 0));
  Progress progress("curate: quality cut", corpus::total_size(files));
  ThreadPool pool(threads);
  pool.parallel_for_worker(files.size(), [&](size_t k, int w) {
    Chain& chain = *chains[static_cast<size_t>(w)];
    std::vector<uint64_t>& count = counts[static_cast<size_t>(w)];
    // Diagnostics are counted in the main pass; this one stays quiet about bad records.
    corpus::Diagnostics quiet(0, false);
    std::unique_ptr<DocSource> source = open_source(files[k], first.read, first.chain.html, &quiet);
    corpus::Document doc;
    uint64_t last_raw = 0;
    while (source->next(doc)) {
      progress.add(1, source->raw_bytes_read() - last_raw);
      last_raw = source->raw_bytes_read();
      if (source->rejection() || (o.max_doc_bytes > 0 && doc.text.size() > o.max_doc_bytes)) continue;
      try {
        if (chain.run(doc)) continue;
      } catch (const std::exception&) {
        continue;
      }
      double s = doc.number_field(first.chain.quality.field).value_or(0);
      ++count[std::min(bins - 1, static_cast<size_t>(s * kQualityScale + 0.5))];
    }
  });
  progress.finish();
  std::vector<uint64_t> total(bins, 0);
  uint64_t n = 0;
  for (const auto& c : counts)
    for (size_t i = 0; i < bins; ++i) total[i] += c[i];
  comm.allreduce_sum(total);
  for (uint64_t c : total) n += c;
  const double want = o.chain.quality.keep_fraction * static_cast<double>(n);
  uint64_t kept = 0;
  size_t cut = bins;
  while (cut > 0 && static_cast<double>(kept) < want) kept += total[--cut];
  double threshold = static_cast<double>(std::min(cut, bins - 1)) / kQualityScale;
  log::info("curate: quality keep_fraction " + opt::real_text(o.chain.quality.keep_fraction) + " of " +
            std::to_string(n) + " documents: cut at score " + opt::real_text(threshold) + " keeps " +
            std::to_string(kept));
  return threshold;
}
// Each rank's stats as JSON, framed by their lengths, gathered on rank 0 and merged there.
CurateStats gather_stats(const CurateStats& mine, Comm& comm) {
  if (comm.size() == 1) return mine;
  std::string j = mine.to_json();
  uint64_t n = j.size();
  std::vector<char> send(sizeof n + j.size());
  std::memcpy(send.data(), &n, sizeof n);
  std::memcpy(send.data() + sizeof n, j.data(), j.size());
  std::vector<char> all = comm.gatherv(send);
  CurateStats total;
  for (size_t p = 0; p + sizeof n <= all.size();) {
    std::memcpy(&n, all.data() + p, sizeof n);
    p += sizeof n;
    total.merge(CurateStats::from_json(std::string(all.data() + p, n)));
    p += n;
  }
  return total;
}

CurateReport run_curate_ranked(const std::vector<std::string>& files, const CurateOptions& options, Comm& comm) {
  auto start = std::chrono::steady_clock::now();
  const bool lead = comm.rank() == 0;
  if (options.output_dir.empty()) opt::fail("output", "is required", "pass -o DIR");
  options.chain.validate();
  CurateOptions resolved = options;
  const bool cut_quality =
      options.chain.quality.keep_fraction > 0 &&
      std::find(options.chain.steps.begin(), options.chain.steps.end(), "quality") != options.chain.steps.end();
  if (cut_quality) {
    // The per-shard plans below carry the cut as the step's threshold, so a changed cut reruns them.
    resolved.chain.quality.threshold =
        quality_cut(files, options, options.threads > 0 ? options.threads : thread_count(), comm);
  }
  const CurateOptions& o = resolved;
  std::string opts = options_json(o);
  if (lead) {
    make_dirs(o.output_dir);
    if (!o.rejects_dir.empty()) make_dirs(o.rejects_dir);
    retract_stage(o.output_dir);
  }
  comm.all_true(true);  // the folder is ready before any rank writes into it

  // Plan: which shards are already done.
  std::vector<ShardJob> jobs;
  std::vector<CurateStats> done_stats;
  std::vector<FileEntry> inputs;
  CurateReport report;
  report.steps = o.chain.steps;
  report.shards = files.size();
  report.options_json = opts;
  report.ranks = comm.size();
  for (size_t i = 0; i < files.size(); ++i) {
    const bool mine = static_cast<int>(i % static_cast<size_t>(comm.size())) == comm.rank();
    // Hashing an input reads it whole: a rank hashes its own shards, and rank 0 all of them for
    // the final manifest.
    inputs.push_back(mine || lead ? describe_file(files[i]) : FileEntry{});
    if (!mine) continue;  // another rank's
    ShardJob job;
    job.index = i;
    job.input = files[i];
    std::string name = shard_name(i, o.extension);
    job.out_path = (fs::path(o.output_dir) / name).string();
    if (!o.rejects_dir.empty()) job.rej_path = fs::absolute(fs::path(o.rejects_dir) / name).string();
    job.manifest_dir = (fs::path(o.output_dir) / ".shards" / shard_name(i, "")).string();
    job.plan = plan_stage("curate.shard", opts, {inputs.back()});
    bool rej_ok = o.rejects_dir.empty() || fs::exists(job.rej_path);
    if (auto done = finished_stage(job.manifest_dir, job.plan, o.force); done && rej_ok) {
      try {
        report.stats.merge(CurateStats::from_json(done->stats_json));
        ++report.shards_skipped;
        continue;
      } catch (const Error&) {
        // unreadable stats: redo the shard
      }
    }
    jobs.push_back(std::move(job));
  }
  if (report.shards_skipped)
    log::info("curate: " + std::to_string(report.shards_skipped) + " of " +
              std::to_string(files.size()) + " shards already done; skipping them" +
              (comm.size() > 1 ? " (rank " + std::to_string(comm.rank()) + ")" : ""));

  int threads = o.threads > 0 ? o.threads : thread_count();
  threads = static_cast<int>(std::max<size_t>(1, std::min<size_t>(jobs.size(), static_cast<size_t>(threads))));
  report.threads = threads;
  std::vector<std::string> job_files;
  for (const auto& j : jobs) job_files.push_back(j.input);
  Progress progress("curate", corpus::total_size(job_files));
  corpus::Diagnostics diag(o.read.max_reported, o.read.strict);
  std::vector<std::unique_ptr<Chain>> chains(static_cast<size_t>(threads));
  for (auto& c : chains) c = std::make_unique<Chain>(o.chain);  // fails early on bad options
  std::mutex merge_mutex;
  auto run_start = std::chrono::steady_clock::now();
  ThreadPool pool(threads);
  pool.parallel_for_worker(jobs.size(), [&](size_t k, int w) {
    const ShardJob& job = jobs[k];
    auto t0 = std::chrono::steady_clock::now();
    CurateStats st = run_shard(job, o, *chains[static_cast<size_t>(w)], diag, progress);
    Manifest m = job.plan;
    std::string rel = fs::relative(job.out_path, job.manifest_dir).string();
    FileEntry out = describe_file(job.out_path, rel);
    out.records = st.docs_out;
    m.outputs.push_back(out);
    if (!job.rej_path.empty()) {
      FileEntry r = describe_file(job.rej_path);
      r.records = st.docs_in - st.docs_out;
      m.outputs.push_back(r);
    }
    publish_stage(job.manifest_dir, std::move(m),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), st.to_json());
    std::lock_guard<std::mutex> lock(merge_mutex);
    report.stats.merge(st);
    report.processed_bytes += st.bytes_in;
  });
  progress.finish();
  auto end = std::chrono::steady_clock::now();
  report.seconds = std::chrono::duration<double>(end - run_start).count();
  if (comm.size() > 1) {
    // Every rank's shards are published before rank 0 totals them; the run time is the slowest
    // rank's, the bytes and skipped shards the sum.
    std::vector<uint64_t> sums = {report.processed_bytes, report.shards_skipped, static_cast<uint64_t>(threads)};
    report.stats = gather_stats(report.stats, comm);
    comm.allreduce_sum(sums);
    report.processed_bytes = sums[0];
    report.shards_skipped = sums[1];
    report.threads = static_cast<int>(sums[2]);
    auto seconds = from_bytes<double>(comm.gatherv(to_bytes(std::vector<double>{report.seconds})));
    if (!lead) return report;
    report.seconds = *std::max_element(seconds.begin(), seconds.end());
    end = std::chrono::steady_clock::now();
  }

  // Stale shards of an earlier run over more inputs.
  for (size_t i = files.size();; ++i) {
    std::error_code ec;
    bool any = fs::remove(fs::path(o.output_dir) / shard_name(i, o.extension), ec);
    fs::remove_all(fs::path(o.output_dir) / ".shards" / shard_name(i, ""), ec);
    if (!o.rejects_dir.empty()) any |= fs::remove(fs::path(o.rejects_dir) / shard_name(i, o.extension), ec);
    if (!any) break;
  }

  Manifest m = plan_stage("curate", opts, inputs);
  for (size_t i = 0; i < files.size(); ++i) {
    std::string name = shard_name(i, o.extension);
    FileEntry e = describe_file((fs::path(o.output_dir) / name).string(), name);
    m.outputs.push_back(e);
  }
  publish_stage(o.output_dir, std::move(m), std::chrono::duration<double>(end - start).count(),
                report.stats.to_json(), report.to_json());
  if (!o.rejects_dir.empty()) remove_stale_temps(o.rejects_dir);
  return report;
}
}  // namespace

CurateReport run_curate(const std::vector<std::string>& files, const CurateOptions& options) {
  return run_on_ranks([&](Comm& comm) { return run_curate_ranked(files, options, comm); });
}

}  // namespace nlm::curate
