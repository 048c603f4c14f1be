// MinHash signature throughput per core: the kernel alone (shingle hashes precomputed) for each
// SIMD level, and the whole per-document path (normalise, shingle, signature, band keys), in MB
// of document text per second on one thread. Goal: >= 50 MB/s/core at 112 hashes.
#include <cstdio>

#include "curate/dedup/minhash.h"
#include "curate/dedup/shingles.h"
#include "curate/dedup/synthetic.h"
#include "harness.h"
#include "text/dedup_normalize.h"

using namespace nlm;
using namespace nlm::dedup;

int main() {
  SyntheticOptions so;
  so.bases = 20000;
  so.words = 120;
  so.levels = {};
  auto docs = make_synthetic_corpus(so);
  double mb = 0;
  for (auto& d : docs) mb += static_cast<double>(d.text.size()) / 1e6;
  std::printf("corpus: %zu docs, %.1f MB\n", docs.size(), mb);

  for (auto [bands, rows] : {std::pair{14, 8}, std::pair{20, 13}}) {
    MinHashParams p;
    p.bands = bands;
    p.rows = rows;
    Shingler shingler(p);
    std::vector<std::vector<uint64_t>> shingles(docs.size());
    std::string norm;
    for (size_t i = 0; i < docs.size(); ++i) {
      text::dedup_normalize(docs[i].text, norm);
      shingler.shingles(norm, shingles[i]);
    }
    std::vector<uint64_t> sig(static_cast<size_t>(p.hashes())), keys(static_cast<size_t>(bands));
    std::string tag = std::to_string(p.hashes()) + "h";
    for (auto k : {MinHashKernel::Reference, MinHashKernel::Avx2, MinHashKernel::Avx512}) {
      if (!kernel_supported(k)) continue;
      MinHasher h(p, k);
      auto s = bench::time_runs([&] {
        for (auto& sh : shingles) h.signature(sh.data(), sh.size(), sig.data());
      }, 5, 1);
      bench::report_rate("minhash_kernel_" + tag + "_" + kernel_name(k), mb, s, "MB/s/core");
    }
    MinHasher h(p);
    auto s = bench::time_runs([&] {
      std::vector<uint64_t> sh;
      for (auto& d : docs) {
        text::dedup_normalize(d.text, norm);
        shingler.shingles(norm, sh);
        h.signature(sh.data(), sh.size(), sig.data());
        h.band_keys(sig.data(), keys.data());
      }
    }, 5, 1);
    bench::report_rate("minhash_full_path_" + tag + "_" + kernel_name(best_kernel()), mb, s, "MB/s/core");
  }
  // Non-ASCII text goes through ICU normalisation and word break.
  {
    std::string zh;
    const char* sentence = "我们今天去银行取钱然后回家吃饭了。他说明天还要再去一次商店买东西。";
    while (zh.size() < 4000000) zh += sentence;
    MinHashParams p;
    Shingler shingler(p);
    MinHasher h(p);
    std::vector<uint64_t> sh, sig(static_cast<size_t>(p.hashes()));
    std::string norm;
    auto s = bench::time_runs([&] {
      for (size_t off = 0; off < zh.size(); off += 3000) {
        std::string_view doc = std::string_view(zh).substr(off, 3000);
        while (!doc.empty() && (static_cast<unsigned char>(doc.back()) & 0xC0) == 0x80) doc.remove_suffix(1);
        text::dedup_normalize(doc, norm);
        shingler.shingles(norm, sh);
        h.signature(sh.data(), sh.size(), sig.data());
      }
    }, 3, 1);
    bench::report_rate("minhash_full_path_112h_chinese_icu", static_cast<double>(zh.size()) / 1e6, s, "MB/s/core");
  }
  return 0;
}
