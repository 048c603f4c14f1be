// Speed and yield of HTML main-text extraction (curate's html step, before the chain), which
// bench_curate does not cover.
//   bench_html [runs=5]              synthetic web pages (menus, footers, articles long and
//                                    short): MB/s of HTML per core (thread CPU time), and how
//                                    many pages give text
//   bench_html DIR [--list]          every *.html under DIR, decoded as curate decodes WARC
//                                    bodies (charset.h): pages, pages with text, pages dropped
//                                    and why, MB/s; --list adds "chars<TAB>path" per page
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/runtime.h"
#include "curate/charset.h"
#include "curate/html_extract.h"
#include "harness.h"

using namespace nlm;

namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Pages shaped like news and help pages: a nav menu, a sidebar of links, an article of 1 to 8
// paragraphs of 60 to 600 characters of Zipf-distributed words, and a footer.
std::vector<std::string> make_pages(size_t total_bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const char* base[] = {"the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "with", "was"};
  std::vector<std::string> vocab(base, base + 12);
  const char* syll[] = {"ka", "ro", "mi", "ten", "sal", "ver", "po", "lin", "dra", "chu", "el", "mon"};
  for (int i = 0; i < 2000; ++i) {
    std::string w;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) w += syll[rng() % 12];
    vocab.push_back(w);
  }
  std::vector<double> weights(vocab.size());
  for (size_t i = 0; i < vocab.size(); ++i) weights[i] = 1.0 / (static_cast<double>(i) + 2);
  std::discrete_distribution<size_t> zipf(weights.begin(), weights.end());
  std::vector<std::string> pages;
  size_t bytes = 0;
  while (bytes < total_bytes) {
    std::string p = "<!DOCTYPE html><html lang=en><head><title>" + vocab[zipf(rng)] +
                    "</title><script>var a=1;</script></head><body><nav><ul>";
    for (int i = 0; i < 12; ++i) p += "<li><a href=/" + std::to_string(i) + ">" + vocab[zipf(rng)] + "</a></li>";
    p += "</ul></nav><div class=side>";
    for (int i = 0; i < 8; ++i) p += "<div><a href=/s" + std::to_string(i) + ">" + vocab[zipf(rng)] + " " + vocab[zipf(rng)] + "</a></div>";
    p += "</div><article><h1>" + vocab[zipf(rng)] + "</h1>";
    for (int k = 0, n = 1 + static_cast<int>(rng() % 8); k < n; ++k) {
      p += "<p>";
      for (size_t len = 0, target = 60 + rng() % 540; len < target;) {
        std::string w = vocab[zipf(rng)];
        len += w.size() + 1;
        p += w + (rng() % 12 == 0 ? ". " : " ");
      }
      p += "</p>";
    }
    p += "</article><footer>&copy; 2024 Example. <a href=/about>About</a></footer></body></html>";
    bytes += p.size();
    pages.push_back(std::move(p));
  }
  return pages;
}

void synthetic(int runs) {
  auto pages = make_pages(8 << 20, 7);
  double total = 0;
  for (const auto& p : pages) total += static_cast<double>(p.size());
  size_t with_text = 0;
  std::vector<double> cpu;
  for (int r = 0; r <= runs; ++r) {
    double t0 = thread_cpu_seconds();
    with_text = 0;
    for (const auto& p : pages) with_text += !curate::extract_html_text(p).text.empty();
    if (r > 0) cpu.push_back(thread_cpu_seconds() - t0);  // run 0 warms up
  }
  std::printf("# %zu synthetic pages, %.1f MB of HTML; %zu give text\n", pages.size(), total / 1e6, with_text);
  bench::Sample s = bench::sample_of(cpu);
  bench::report_rate("html extraction, 1 thread (CPU time)", total / 1e6, s, "MB/s");
}

int directory(const std::string& dir, bool list) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".html") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::map<std::string, size_t> outcome;
  double bytes = 0, cpu = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string raw = ss.str();
    bytes += static_cast<double>(raw.size());
    double t0 = thread_cpu_seconds();
    curate::Decoded dec = curate::decode_to_utf8(raw, "", true);
    curate::HtmlText t = curate::extract_html_text(dec.text);
    cpu += thread_cpu_seconds() - t0;
    std::string key = !t.dropped.empty() ? t.dropped : "text by " + t.method;
    ++outcome[key];
    if (list) std::printf("%zu\t%s\n", t.text.size(), f.c_str());
  }
  std::printf("# %zu pages, %.1f MB\n", files.size(), bytes / 1e6);
  for (const auto& [k, v] : outcome)
    std::printf("# %-20s %6zu (%.1f %%)\n", k.c_str(), v, files.empty() ? 0.0 : 100.0 * static_cast<double>(v) / static_cast<double>(files.size()));
  if (cpu > 0) bench::report_value("html decode + extraction (CPU time)", bytes / 1e6 / cpu, "MB/s");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  RuntimeOptions rt;
  rt.quiet = true;
  set_runtime_options(rt);
  if (argc > 1 && std::filesystem::is_directory(argv[1]))
    return directory(argv[1], argc > 2 && std::strcmp(argv[2], "--list") == 0);
  synthetic(argc > 1 ? std::max(1, std::atoi(argv[1])) : 5);
  return 0;
}
