// Throughput of the default curate chain (normalize + lid + gopher_quality + gopher_repetition +
// fineweb + pii) on synthetic web-like text: MB/s per core in-process on one thread, then the
// whole `run_curate` over 4 shards on 1 and 2 threads (the 1→2 scaling). Goal: >= 20 MB/s/core.
//   bench_curate [megabytes=64] [scratch=/tmp]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/json_escape.h"
#include "core/runtime.h"
#include "curate/chain.h"
#include "curate/curate.h"
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

}  // namespace

int main(int argc, char** argv) {
  size_t mb = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 64;
  std::string scratch = argc > 2 ? argv[2] : "/tmp";
  RuntimeOptions rt;
  rt.quiet = true;
  set_runtime_options(rt);

  auto docs = make_docs(mb << 20, 42);
  double total = 0;
  for (const auto& d : docs) total += static_cast<double>(d.size());
  std::printf("# %zu documents, %.1f MB of web-like text\n", docs.size(), total / 1e6);

  // In-process, one thread: the chain alone (no I/O, no JSON).
  {
    curate::ChainConfig config;
    curate::Chain chain(config);
    size_t kept = 0;
    auto s = bench::time_runs(
        [&] {
          kept = 0;
          corpus::Document doc;
          for (const auto& d : docs) {
            doc.clear();
            doc.text = d;
            kept += !chain.run(doc).has_value();
          }
        },
        3, 1);
    std::printf("# kept %zu of %zu\n", kept, docs.size());
    bench::report_rate("curate default chain, 1 thread", total / 1e6, s, "MB/s/core");
  }
  // Each step alone, to see where the time goes.
  for (const std::string step : {"normalize", "lid", "gopher_quality", "gopher_repetition", "fineweb", "pii"}) {
    curate::ChainConfig config;
    config.steps = {step};
    curate::Chain chain(config);
    auto s = bench::time_runs(
        [&] {
          corpus::Document doc;
          for (const auto& d : docs) {
            doc.clear();
            doc.text = d;
            chain.run(doc);
          }
        },
        3, 1);
    bench::report_rate("curate step " + step, total / 1e6, s, "MB/s");
  }

  // End to end through run_curate: 4 JSONL shards, 1 vs 2 threads.
  std::string dir = scratch + "/nativelm-bench-curate";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/in");
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
  double rate[3] = {0, 0, 0};
  for (int threads : {1, 2}) {
    curate::CurateOptions o;
    o.output_dir = dir + "/out" + std::to_string(threads);
    o.extension = ".jsonl";
    o.threads = threads;
    o.force = true;
    auto s = bench::time_runs([&] { curate::run_curate(files, o); }, 3, 1);
    rate[threads] = total / 1e6 / s.median;
    bench::report_rate("curate end-to-end, " + std::to_string(threads) + " thread(s)", total / 1e6, s, "MB/s");
  }
  bench::report_value("curate 1->2 thread scaling", rate[2] / rate[1], "x");
  std::filesystem::remove_all(dir);
  return 0;
}
