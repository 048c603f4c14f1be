// Token shard (*.tok) round trips, header layout, dtype choice and rejection of damaged files.
#include "data/token_shard.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "core/error.h"
#include "test_util.h"

namespace {

using namespace nlm;
using nlm::testing::TempDir;

std::vector<std::vector<uint32_t>> random_docs(uint64_t vocab, int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<uint32_t>> docs(n);
  for (auto& d : docs) {
    d.resize(rng() % 50);  // includes empty documents
    for (auto& t : d) t = static_cast<uint32_t>(rng() % vocab);
  }
  return docs;
}

void round_trip(uint64_t vocab, uint32_t expect_dtype) {
  TempDir dir;
  auto docs = random_docs(vocab, 200, static_cast<uint32_t>(vocab));
  Hash128 h = hash128("tokenizer.json bytes");
  data::TokShardWriter w(dir.file("a.tok"), vocab, h);
  uint64_t total = 0;
  for (auto& d : docs) {
    w.add_document(d);
    total += d.size();
  }
  auto header = w.finish();
  EXPECT_EQ(header.token_count, total);
  data::TokShardReader r(dir.file("a.tok"));
  EXPECT_EQ(r.dtype_bytes(), expect_dtype);
  EXPECT_EQ(r.header().vocab_size, vocab);
  EXPECT_EQ(r.header().tokenizer_hash, h);
  ASSERT_EQ(r.docs(), docs.size());
  ASSERT_EQ(r.size(), total);
  for (size_t i = 0; i < docs.size(); ++i) EXPECT_EQ(r.document(i), docs[i]) << i;
  auto off = r.doc_offsets();
  EXPECT_EQ(off.front(), 0u);
  EXPECT_EQ(off.back(), total);
  if (expect_dtype == 2) {
    EXPECT_EQ(r.tokens_u16().size(), total);
    EXPECT_TRUE(r.tokens_u32().empty());
  } else {
    EXPECT_EQ(r.tokens_u32().size(), total);
    EXPECT_TRUE(r.tokens_u16().empty());
  }
}

TEST(TokShard, RoundTripU16) { round_trip(32000, 2); }
TEST(TokShard, RoundTripU16AtLimit) { round_trip(65536, 2); }
TEST(TokShard, RoundTripU32) { round_trip(128256, 4); }

TEST(TokShard, ByteLayoutMatchesSpec) {
  TempDir dir;
  {
    data::TokShardWriter w(dir.file("b.tok"), 1000, Hash128{0x1122334455667788ull, 0x99ull});
    std::vector<uint32_t> a = {1, 2, 3}, b = {999};
    w.add_document(a);
    w.add_document(b);
    w.finish();
  }
  std::string bytes = nlm::testing::read_text(dir.file("b.tok"));
  // 64 header + 4 tokens * 2 bytes (8, already aligned) + 3 offsets * 8.
  ASSERT_EQ(bytes.size(), 64u + 8u + 24u);
  EXPECT_EQ(std::memcmp(bytes.data(), "NLMTOK\0\0", 8), 0);
  auto u32 = [&](size_t o) { uint32_t v; std::memcpy(&v, bytes.data() + o, 4); return v; };
  auto u64 = [&](size_t o) { uint64_t v; std::memcpy(&v, bytes.data() + o, 8); return v; };
  EXPECT_EQ(u32(8), 1u);
  EXPECT_EQ(u32(12), 2u);
  EXPECT_EQ(u64(16), 1000u);
  EXPECT_EQ(u64(24), 4u);
  EXPECT_EQ(u64(32), 2u);
  EXPECT_EQ(u64(40), 0x1122334455667788ull);
  EXPECT_EQ(u64(48), 0x99ull);
  uint16_t t3;
  std::memcpy(&t3, bytes.data() + 64 + 6, 2);
  EXPECT_EQ(t3, 999);
  EXPECT_EQ(u64(72), 0u);
  EXPECT_EQ(u64(80), 3u);
  EXPECT_EQ(u64(88), 4u);
}

TEST(TokShard, OddTokenCountIsPadded) {
  TempDir dir;
  data::TokShardWriter w(dir.file("c.tok"), 100, {});
  std::vector<uint32_t> a = {7, 8, 9};
  w.add_document(a);
  w.finish();
  data::TokShardReader r(dir.file("c.tok"));
  EXPECT_EQ(r.document(0), a);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(r.doc_offsets().data()) % 8, 0u);
}

TEST(TokShard, EmptyShard) {
  TempDir dir;
  data::TokShardWriter w(dir.file("e.tok"), 50, {});
  w.finish();
  data::TokShardReader r(dir.file("e.tok"));
  EXPECT_EQ(r.docs(), 0u);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.doc_offsets().size(), 1u);
}

TEST(TokShard, RejectsIdOutOfVocab) {
  TempDir dir;
  data::TokShardWriter w(dir.file("d.tok"), 10, {});
  std::vector<uint32_t> a = {10};
  EXPECT_THROW(w.add_document(a), nlm::Error);
}

TEST(TokShard, UnfinishedWriterLeavesNoFile) {
  TempDir dir;
  {
    data::TokShardWriter w(dir.file("f.tok"), 10, {});
    std::vector<uint32_t> a = {1};
    w.add_document(a);
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("f.tok")));
}

TEST(TokShard, RejectsDamagedFiles) {
  TempDir dir;
  {
    data::TokShardWriter w(dir.file("g.tok"), 300, {});
    std::vector<uint32_t> a = {1, 2, 3, 4};
    w.add_document(a);
    w.finish();
  }
  std::string good = nlm::testing::read_text(dir.file("g.tok"));
  auto expect_bad = [&](std::string bytes, const char* what) {
    nlm::testing::write_text(dir.file("bad.tok"), bytes);
    EXPECT_THROW(data::TokShardReader r(dir.file("bad.tok")), nlm::Error) << what;
  };
  expect_bad(good.substr(0, 30), "truncated header");
  expect_bad(good.substr(0, good.size() - 1), "truncated table");
  std::string m = good;
  m[0] = 'X';
  expect_bad(m, "magic");
  m = good;
  m[8] = 9;
  expect_bad(m, "version");
  m = good;
  m[12] = 3;
  expect_bad(m, "dtype");
  m = good;
  m[24] = 100;
  expect_bad(m, "token count");
  m = good;
  m[good.size() - 8] = 3;  // last offset != token count
  expect_bad(m, "offsets");
}

}  // namespace
