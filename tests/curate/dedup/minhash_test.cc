// MinHash kernels against the reference loop, signature agreement against true Jaccard, band
// keys, shingling and the dedup normaliser / word segmenter.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "core/error.h"
#include "curate/dedup/minhash.h"
#include "curate/dedup/shingles.h"
#include "text/dedup_normalize.h"
#include "text/words.h"

namespace nlm::dedup {
namespace {

TEST(MinHashKernel, SimdMatchesReference) {
  std::mt19937_64 rng(7);
  for (size_t K : {1u, 7u, 16u, 33u, 112u, 260u}) {
    std::vector<uint64_t> a(K), b(K), x(1 + rng() % 300);
    for (auto& v : a) v = rng() | 1;
    for (auto& v : b) v = rng();
    for (auto& v : x) v = rng();
    std::vector<uint64_t> want(K, UINT64_MAX);
    minhash_update(MinHashKernel::Reference, a.data(), b.data(), K, x.data(), x.size(), want.data());
    for (auto k : {MinHashKernel::Avx2, MinHashKernel::Avx512}) {
      if (!kernel_supported(k)) continue;
      std::vector<uint64_t> got(K, UINT64_MAX);
      minhash_update(k, a.data(), b.data(), K, x.data(), x.size(), got.data());
      EXPECT_EQ(got, want) << kernel_name(k) << " K=" << K;
    }
  }
}

TEST(MinHashKernel, SignatureAgreementEstimatesJaccard) {
  MinHashParams p;
  p.bands = 32;
  p.rows = 8;  // 256 hashes: standard error about 0.03
  MinHasher h(p);
  std::mt19937_64 rng(3);
  std::vector<uint64_t> common(600), a, b;
  for (auto& v : common) v = rng();
  a = common;
  b = common;
  for (int i = 0; i < 200; ++i) a.push_back(rng());
  for (int i = 0; i < 200; ++i) b.push_back(rng());
  double truth = 600.0 / 1000.0;
  std::vector<uint64_t> sa(h.hashes()), sb(h.hashes());
  h.signature(a.data(), a.size(), sa.data());
  h.signature(b.data(), b.size(), sb.data());
  int agree = 0;
  for (size_t k = 0; k < sa.size(); ++k) agree += sa[k] == sb[k];
  EXPECT_NEAR(agree / static_cast<double>(sa.size()), truth, 0.1);
  // Equal sets give equal band keys; different seeds give different signatures.
  std::vector<uint64_t> ka(h.bands()), kb(h.bands());
  h.band_keys(sa.data(), ka.data());
  h.signature(a.data(), a.size(), sb.data());
  h.band_keys(sb.data(), kb.data());
  EXPECT_EQ(ka, kb);
  p.seed = 2;
  MinHasher h2(p);
  h2.signature(a.data(), a.size(), sb.data());
  EXPECT_NE(sa, sb);
}

TEST(MinHashParams, ThresholdAndPresets) {
  MinHashParams p;
  EXPECT_NEAR(p.lsh_threshold(), 0.719, 0.01);
  apply_preset(p, "nemo");
  EXPECT_EQ(p.hashes(), 260);
  EXPECT_EQ(p.shingle, ShingleKind::Char);
  EXPECT_EQ(p.ngram, 24);
  EXPECT_THROW(apply_preset(p, "nope"), Error);
}

TEST(DedupText, NormalizeFoldsCaseWidthAndSpaces) {
  std::string out;
  text::dedup_normalize("  Hello\t\tWORLD \n", out);
  EXPECT_EQ(out, "hello world");
  text::dedup_normalize("ＡＢＣ　Straße", out);  // full-width letters, ideographic space, ß
  EXPECT_EQ(out, "abc strasse");
}

TEST(DedupText, WordsInLatinAndChinese) {
  text::WordSegmenter seg;
  std::vector<std::string_view> w;
  seg.segment("it's 3 cats, (ok)!", text::AsciiWordRule::AlnumRuns, w);
  EXPECT_EQ(w, (std::vector<std::string_view>{"it", "s", "3", "cats", "ok"}));
  seg.segment("我们今天去银行", text::AsciiWordRule::AlnumRuns, w);
  ASSERT_GE(w.size(), 3u);  // dictionary break: several words, not one run or single characters
  EXPECT_LT(w.size(), 7u);
  std::string joined;
  for (auto s : w) joined += s;
  EXPECT_EQ(joined, "我们今天去银行");
}

TEST(Shingles, WordAndCharNgrams) {
  MinHashParams p;
  p.ngram = 2;
  Shingler s(p);
  std::vector<uint64_t> a, b;
  s.shingles("a b c d", a);
  EXPECT_EQ(a.size(), 3u);
  s.shingles("b a c d", b);
  EXPECT_NE(a[0], b[0]);  // order matters inside an n-gram
  EXPECT_EQ(a[2], b[2]);  // "c d"
  s.shingles("solo", a);
  EXPECT_EQ(a.size(), 1u);  // shorter than n: one shingle
  s.shingles("", a);
  EXPECT_TRUE(a.empty());
  p.shingle = ShingleKind::Char;
  p.ngram = 3;
  Shingler c(p);
  c.shingles("银行abc", a);
  EXPECT_EQ(a.size(), 3u);  // 5 code points -> 3 trigrams
  s.shingle_set("x y x y x y", a);
  EXPECT_EQ(a.size(), 2u);  // {x y, y x}
}

TEST(Shingles, JaccardOfSortedSets) {
  std::vector<uint64_t> a{1, 2, 3, 4}, b{3, 4, 5, 6};
  EXPECT_DOUBLE_EQ(jaccard_sorted(a, b), 2.0 / 6.0);
  EXPECT_DOUBLE_EQ(jaccard_sorted(a, a), 1.0);
  EXPECT_DOUBLE_EQ(jaccard_sorted({}, {}), 1.0);
}

}  // namespace
}  // namespace nlm::dedup
