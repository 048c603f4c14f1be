// Throughput of the default curate chain (normalize + lid + gopher_quality + gopher_repetition +
// fineweb + pii) on synthetic web-like text. Goal: >= 20 MB/s per core.
//   bench_curate [megabytes=32] [scratch=/tmp] [runs=5]
// prints, each as the median of `runs` timed runs after one warm-up:
//   - the chain in-process on one thread, as MB/s of wall time and MB/s of the thread's CPU time
//     (the CPU figure is the per-core rate even when other processes share the cores);
//   - each step alone, and the quality step (a fastText classifier trained here on 2 MB of the
//     documents, menus against the rest);
//   - `run_curate` end to end over 4 shards on 1 and 2 threads, and the 1→2 ratio;
//   - /proc/loadavg before and after, since wall-clock figures on a shared machine mean little
//     without it.
// Load-independent figure: instructions per byte of the chain, counted by callgrind:
//   bench_curate --callgrind [megabytes=4]
// re-runs itself under `valgrind --tool=callgrind` with collection switched on only around one
// pass of the chain (CALLGRIND_TOGGLE_COLLECT), and prints Ir / input bytes.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define NLM_HAVE_CALLGRIND 1
#else
#define NLM_HAVE_CALLGRIND 0
#define RUNNING_ON_VALGRIND 0
#define CALLGRIND_TOGGLE_COLLECT
#endif

#include "core/json_escape.h"
#include "core/runtime.h"
#include "curate/chain.h"
#include "curate/curate.h"
#include "curate/quality_train.h"
#include "harness.h"

using namespace nlm;

namespace {

// Web-like documents: Zipf-distributed words in sentences and paragraphs, some with PII, some
// menus and repeated boilerplate (so every filter does real work and some documents go).
std::vector<std::string> make_docs(size_t total_bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const char* base[] = {"the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "with",
                        "was", "on", "as", "be", "by", "this", "are", "have", "from"};
  std::vector<std::string> vocab(base, base + 20);
  const char* syll[] = {"ka", "ro", "mi", "ten", "sal", "ver", "po", "lin", "dra", "chu", "el", "mon"};
  for (int i = 0; i < 3000; ++i) {
    std::string w;
    int n = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < n; ++k) w += syll[rng() % 12];
    vocab.push_back(w);
  }
  std::vector<double> weights(vocab.size());
  for (size_t i = 0; i < vocab.size(); ++i) weights[i] = 1.0 / (static_cast<double>(i) + 2);
  std::discrete_distribution<size_t> zipf(weights.begin(), weights.end());
  std::vector<std::string> docs;
  size_t bytes = 0;
  while (bytes < total_bytes) {
    std::string d;
    int kind = static_cast<int>(rng() % 10);
    if (kind == 0) {  // menu junk
      for (int i = 0; i < 30; ++i) d += "Home | " + vocab[zipf(rng)] + " | Cart\n";
    } else {
      int paras = 2 + static_cast<int>(rng() % 6);
      for (int p = 0; p < paras; ++p) {
        int sentences = 2 + static_cast<int>(rng() % 5);
        for (int s = 0; s < sentences; ++s) {
          int words = 6 + static_cast<int>(rng() % 18);
          for (int w = 0; w < words; ++w) {
            std::string word = vocab[zipf(rng)];
            if (w == 0) word[0] = static_cast<char>(word[0] - 32);
            d += word;
            d += w + 1 < words ? " " : ". ";
          }
          if (rng() % 4 == 0) d += "\n";
        }
        d += "\n\n";
      }
      if (kind == 1) d += "Contact: info" + std::to_string(rng() % 1000) + "@example.com, +1 415-555-0" + std::to_string(100 + rng() % 800) + ".\n";
      if (kind == 2) d += "Caf\xC3\x83\xC2\xA9 r\xC3\xA9sum\xC3\xA9 \xE2\x80\x94 accents and   spaces.\n";
    }
    bytes += d.size();
    docs.push_back(std::move(d));
  }
  return docs;
}

double cpu_seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
double thread_cpu_seconds() { return cpu_seconds(CLOCK_THREAD_CPUTIME_ID); }

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a.empty() ? "unknown" : a + " " + b + " " + c;
}

// One pass of a chain over the documents; returns the number kept.
size_t run_chain(curate::Chain& chain, const std::vector<std::string>& docs) {
  size_t kept = 0;
  corpus::Document doc;
  for (const auto& d : docs) {
    doc.clear();
    doc.text = d;
    kept += !chain.run(doc).has_value();
  }
  return kept;
}

// Median of the thread CPU time of `runs` runs (after one warm-up run).
double cpu_median(const std::function<void()>& fn, int runs) {
  std::vector<double> t;
  bench::time_runs(
      [&] {
        double s = thread_cpu_seconds();
        fn();
        t.push_back(thread_cpu_seconds() - s);
      },
      runs, 1);
  t.erase(t.begin());  // the warm-up
  std::sort(t.begin(), t.end());
  return t.size() % 2 ? t[t.size() / 2] : (t[t.size() / 2 - 1] + t[t.size() / 2]) / 2;
}

// Under valgrind: one untimed warm-up pass (ICU and CLD2 data, first-touch allocations), then
// one pass with callgrind collecting.
int callgrind_pass(const std::vector<std::string>& docs, double total) {
  curate::ChainConfig config;
  curate::Chain chain(config);
  run_chain(chain, std::vector<std::string>(docs.begin(), docs.begin() + std::min<size_t>(docs.size(), 200)));
  CALLGRIND_TOGGLE_COLLECT;
  size_t kept = run_chain(chain, docs);
  CALLGRIND_TOGGLE_COLLECT;
  std::printf("# callgrind pass: kept %zu of %zu documents, %.0f bytes\n", kept, docs.size(), total);
  return 0;
}

// Re-runs this program under callgrind and reads the instruction count of the chain pass.
int callgrind_driver(const char* self, size_t mb, double total) {
  if (!NLM_HAVE_CALLGRIND) {
    std::fprintf(stderr, "built without valgrind/callgrind.h\n");
    return 1;
  }
  std::string out = "/tmp/bench_curate.callgrind." + std::to_string(getpid());
  std::string cmd = "valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=" + out +
                    " " + std::string(self) + " " + std::to_string(mb) + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "failed: %s\n", cmd.c_str());
    return 1;
  }
  std::ifstream in(out);
  std::string line;
  double ir = -1;
  while (std::getline(in, line))
    if (line.rfind("totals:", 0) == 0 || line.rfind("summary:", 0) == 0)
      ir = std::strtod(line.c_str() + line.find(':') + 1, nullptr);
  std::filesystem::remove(out);
  if (ir < 0) {
    std::fprintf(stderr, "no totals in the callgrind output\n");
    return 1;
  }
  std::printf("# callgrind: %.0f instructions over %.0f bytes\n", ir, total);
  bench::report_value("curate default chain, instructions/byte", ir / total, "Ir/B");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool callgrind = argc > 1 && std::strcmp(argv[1], "--callgrind") == 0;
  int a = callgrind ? 2 : 1;
  size_t mb = argc > a ? std::strtoul(argv[a], nullptr, 10) : (callgrind || RUNNING_ON_VALGRIND ? 4 : 32);
  std::string scratch = argc > a + 1 ? argv[a + 1] : "/tmp";
  int runs = argc > a + 2 ? std::max(1, std::atoi(argv[a + 2])) : 5;
  RuntimeOptions rt;
  rt.quiet = true;
  set_runtime_options(rt);

  auto docs = make_docs(mb << 20, 42);
  double total = 0;
  for (const auto& d : docs) total += static_cast<double>(d.size());
  if (callgrind) return callgrind_driver(argv[0], mb, total);
  if (RUNNING_ON_VALGRIND) return callgrind_pass(docs, total);

  std::printf("# %zu documents, %.1f MB of web-like text; %d timed runs each (medians)\n", docs.size(),
              total / 1e6, runs);
  std::printf("# loadavg before: %s (%ld cores online)\n", loadavg().c_str(), sysconf(_SC_NPROCESSORS_ONLN));

  // In-process, one thread: the chain alone (no I/O, no JSON).
  {
    curate::ChainConfig config;
    curate::Chain chain(config);
    size_t kept = 0;
    auto s = bench::time_runs([&] { kept = run_chain(chain, docs); }, runs, 1);
    double cpu = cpu_median([&] { run_chain(chain, docs); }, runs);
    std::printf("# kept %zu of %zu\n", kept, docs.size());
    bench::report_rate("curate default chain, 1 thread (wall)", total / 1e6, s, "MB/s/core");
    bench::report_value("curate default chain, 1 thread (CPU time)", total / 1e6 / cpu, "MB/s/core");
  }
  // Each step alone, to see where the time goes (thread CPU time).
  for (const std::string step : {"normalize", "lid", "gopher_quality", "gopher_repetition", "fineweb", "pii"}) {
    curate::ChainConfig config;
    config.steps = {step};
    curate::Chain chain(config);
    double cpu = cpu_median([&] { run_chain(chain, docs); }, runs);
    bench::report_value("curate step " + step + " (CPU time)", total / 1e6 / cpu, "MB/s");
  }

  std::string dir = scratch + "/nativelm-bench-curate-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/in");
  // The quality step, with a model trained on the first 2 MB (menu pages as lq, the rest as hq).
  {
    std::string labelled;
    for (size_t i = 0, bytes = 0; i < docs.size() && bytes < (2u << 20); bytes += docs[i].size(), ++i) {
      labelled += "{\"quality\":\"" + std::string(docs[i].rfind("Home |", 0) == 0 ? "lq" : "hq") + "\",\"text\":";
      append_json_string(labelled, docs[i]);
      labelled += "}\n";
    }
    std::ofstream(dir + "/labelled.jsonl") << labelled;
    curate::QualityTrainOptions t;
    t.output = dir + "/quality.bin";
    t.epoch = 5;
    curate::train_quality({dir + "/labelled.jsonl"}, t);
    curate::ChainConfig config;
    config.steps = {"quality"};
    config.quality.model = t.output;
    curate::Chain chain(config);
    double cpu = cpu_median([&] { run_chain(chain, docs); }, runs);
    bench::report_value("curate step quality (CPU time)", total / 1e6 / cpu, "MB/s");
  }

  // End to end through run_curate: 4 JSONL shards, 1 vs 2 threads.
  std::vector<std::string> files;
  for (int s = 0; s < 4; ++s) {
    std::string path = dir + "/in/shard" + std::to_string(s) + ".jsonl";
    std::ofstream out(path);
    std::string line;
    for (size_t i = static_cast<size_t>(s); i < docs.size(); i += 4) {
      line = "{\"id\":\"" + std::to_string(i) + "\",\"text\":";
      append_json_string(line, docs[i]);
      line += "}\n";
      out << line;
    }
    files.push_back(path);
  }
  // Wall-clock rates give the scaling on an idle machine. The process CPU time per MB shows what
  // the second thread costs in work (locks, I/O, shard imbalance) whatever the load: the same
  // MB per CPU-second on 2 threads as on 1 means the work scales, and only free cores are missing.
  double rate[3] = {0, 0, 0}, cpu_rate[3] = {0, 0, 0};
  for (int threads : {1, 2}) {
    curate::CurateOptions o;
    o.output_dir = dir + "/out" + std::to_string(threads);
    o.extension = ".jsonl";
    o.threads = threads;
    o.force = true;
    double cpu = 0;
    auto s = bench::time_runs(
        [&] {
          double c = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
          curate::run_curate(files, o);
          cpu += cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - c;
        },
        runs, 1);
    rate[threads] = total / 1e6 / s.median;
    cpu_rate[threads] = total / 1e6 * (runs + 1) / cpu;
    bench::report_rate("curate end-to-end, " + std::to_string(threads) + " thread(s)", total / 1e6, s, "MB/s");
    bench::report_value("curate end-to-end, " + std::to_string(threads) + " thread(s), CPU time", cpu_rate[threads],
                        "MB/CPU-s");
  }
  bench::report_value("curate 1->2 thread scaling (wall)", rate[2] / rate[1], "x");
  bench::report_value("curate 1->2 thread CPU efficiency", cpu_rate[2] / cpu_rate[1], "x");
  std::printf("# loadavg after: %s\n", loadavg().c_str());
  std::filesystem::remove_all(dir);
  return 0;
}
