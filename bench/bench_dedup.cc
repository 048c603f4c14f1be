// End-to-end fuzzy dedup of a synthetic corpus (default 1M documents, half of them planted
// near-duplicates) through the nativelm binary: wall time, throughput and peak RSS, and the RAM
// per document outside the sort budget (goal <= 100 bytes). Runs on 2 threads; with MPI built in
// and mpirun present it also times 2 ranks of 1 thread against 1 rank of 1 thread.
//   bench_dedup [docs=1000000] [scratch=/tmp]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_paths.h"
#include "core/json_escape.h"
#include "curate/dedup/synthetic.h"
#include "harness.h"

using namespace nlm;

namespace {

struct Run {
  double seconds = 0;
  long max_rss_kb = 0;
};

// Runs a shell command and returns its wall time and the peak RSS of its largest process.
Run run(const std::string& cmd) {
  double t = bench::now_seconds();
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  Run r;
  r.seconds = bench::now_seconds() - t;
  r.max_rss_kb = ru.ru_maxrss;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "command failed: %s\n", cmd.c_str());
    std::exit(1);
  }
  return r;
}

// Median wall time (and the largest peak RSS) of `reps` runs: the machine is shared and noisy.
Run median_run(const std::string& cmd, int reps = 3) {
  std::vector<double> t;
  Run out;
  for (int i = 0; i < reps; ++i) {
    Run r = run(cmd);
    t.push_back(r.seconds);
    out.max_rss_kb = std::max(out.max_rss_kb, r.max_rss_kb);
  }
  std::sort(t.begin(), t.end());
  out.seconds = t[t.size() / 2];
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  size_t docs = argc > 1 ? std::stoul(argv[1]) : 1000000;
  std::string scratch = (argc > 2 ? std::string(argv[2]) : std::string("/tmp")) + "/nativelm-bench-dedup";
  std::filesystem::remove_all(scratch);
  std::filesystem::create_directories(scratch + "/in");

  // The corpus is made in a child process: a forked child's peak RSS counts its parent's pages,
  // so this process stays small for the measurements below.
  std::string text_bytes_path = scratch + "/bytes";
  pid_t maker = fork();
  if (maker == 0) {
    dedup::SyntheticOptions so;
    so.bases = docs / 2;
    so.words = 64;  // 60 shingles: one edit gives J = 0.846, so the three top levels are duplicates
    so.levels = {0.95, 0.9, 0.85, 0.7, 0.55, 0.4};
    double t = bench::now_seconds();
    auto corpus = dedup::make_synthetic_corpus(so);
    double total = 0;
    const size_t files = 16;
    for (size_t f = 0; f < files; ++f) {
      std::ofstream out(scratch + "/in/part-" + std::to_string(f) + ".jsonl");
      for (size_t i = f * corpus.size() / files; i < (f + 1) * corpus.size() / files; ++i) {
        out << "{\"id\":" << json_quote(corpus[i].id) << ",\"text\":" << json_quote(corpus[i].text) << "}\n";
        total += static_cast<double>(corpus[i].text.size());
      }
    }
    std::ofstream(text_bytes_path) << total;
    std::printf("corpus: %zu docs, %.0f MB of text, written in %.1f s\n", corpus.size(), total / 1e6,
                bench::now_seconds() - t);
    std::fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(maker, &status, 0);
  double bytes = 0;
  std::ifstream(text_bytes_path) >> bytes;
  std::filesystem::remove(text_bytes_path);
  if (bytes <= 0) return 1;

  const uint64_t memory = 64ull << 20;
  std::string common = " -q dedup " + scratch + "/in -o " + scratch + "/out --force --memory 64M";
  for (std::string extra : {std::string(""), std::string(" --jaccard-check")}) {
    Run r = median_run(std::string(NATIVELM_BIN) + " --threads 2" + common + extra);
    std::string tag = extra.empty() ? "lsh" : "lsh_jaccard";
    bench::report_value("dedup_1m_" + tag + "_seconds_2cores", r.seconds, "s");
    bench::report_value("dedup_1m_" + tag + "_throughput", bytes / 1e6 / r.seconds, "MB/s");
    bench::report_value("dedup_1m_" + tag + "_peak_rss", static_cast<double>(r.max_rss_kb) / 1024.0, "MiB");
    double outside = static_cast<double>(r.max_rss_kb) * 1024.0 - static_cast<double>(memory);
    bench::report_value("dedup_1m_" + tag + "_bytes_per_doc_outside_sort", outside / static_cast<double>(docs), "B/doc");
  }
#ifdef NATIVELM_HAVE_MPI
  if (std::system("command -v mpirun >/dev/null 2>&1") == 0) {
    const std::string mpirun = "mpirun --allow-run-as-root --oversubscribe --mca pml ob1 --mca btl self,vader -np ";
    double one = 0;
    for (int np : {1, 2}) {
      Run r = median_run(mpirun + std::to_string(np) + " " + NATIVELM_BIN + " --threads 1" + common);
      bench::report_value("dedup_1m_lsh_seconds_" + std::to_string(np) + "_ranks_1_thread", r.seconds, "s");
      if (np == 1) one = r.seconds;
      else bench::report_value("dedup_1m_lsh_speedup_1_to_2_ranks", one / r.seconds, "x");
    }
  }
#endif
  std::filesystem::remove_all(scratch);
  return 0;
}
