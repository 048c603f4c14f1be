// The external sorter gives the same order as an in-memory sort, whether or not it spills.
#include <gtest/gtest.h>

#include <random>

#include "core/external_sort.h"
#include "core/union_find.h"
#include "test_util.h"

namespace nlm {
namespace {

struct Rec {
  uint64_t key, ref;
  bool operator<(const Rec& o) const { return key != o.key ? key < o.key : ref < o.ref; }
  bool operator==(const Rec&) const = default;
};

TEST(ExternalSort, SpillsAndMergesInOrder) {
  nlm::testing::TempDir dir;
  std::mt19937_64 rng(5);
  std::vector<Rec> all(100000);
  for (size_t i = 0; i < all.size(); ++i) all[i] = {rng() % 5000, i};
  for (size_t budget : {size_t{1} << 30, size_t{64} << 10, size_t{1}}) {  // 1: 98 runs, two merge levels
    std::vector<Rec> got;
    {
      ExternalSorter<Rec> sorter(dir.path() + "/spill", "t", budget);
      for (size_t i = 0; i < all.size(); i += 777) sorter.add(all.data() + i, std::min<size_t>(777, all.size() - i));
      EXPECT_EQ(sorter.size(), all.size());
      if (budget < 1000000) {
        EXPECT_GT(sorter.runs(), 10u);
      } else {
        EXPECT_EQ(sorter.runs(), 0u);
      }
      sorter.drain([&](const Rec& r) { got.push_back(r); });
    }
    std::vector<Rec> want = all;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << "budget " << budget;
    EXPECT_TRUE(!std::filesystem::exists(dir.path() + "/spill") || std::filesystem::is_empty(dir.path() + "/spill"));
  }
}

TEST(ExternalSort, AdoptsSortedRunsWrittenElsewhere) {
  nlm::testing::TempDir dir;
  std::vector<Rec> a = {{5, 0}, {1, 0}, {3, 0}}, b = {{2, 1}, {4, 1}};
  ExternalSorter<Rec>::write_run(dir.file("a.run"), a);
  ExternalSorter<Rec>::write_run(dir.file("b.run"), b);
  std::vector<Rec> got;
  {
    ExternalSorter<Rec> sorter(dir.file("spill"), "t", 1 << 20);
    sorter.adopt_run(dir.file("a.run"), a.size());
    sorter.adopt_run(dir.file("b.run"), b.size());
    Rec extra{0, 9};
    sorter.add(&extra, 1);
    EXPECT_EQ(sorter.size(), 6u);
    sorter.drain([&](const Rec& r) { got.push_back(r); });
  }
  EXPECT_EQ(got, (std::vector<Rec>{{0, 9}, {1, 0}, {2, 1}, {3, 0}, {4, 1}, {5, 0}}));
  EXPECT_TRUE(std::filesystem::exists(dir.file("a.run")));  // adopted runs belong to the caller
}

TEST(UnionFind, SmallestIndexIsRoot) {
  UnionFind uf(6);
  EXPECT_TRUE(uf.unite(4, 2));
  EXPECT_TRUE(uf.unite(5, 4));
  EXPECT_FALSE(uf.unite(2, 5));
  EXPECT_EQ(uf.find(5), 2u);
  EXPECT_EQ(uf.find(0), 0u);
}

}  // namespace
}  // namespace nlm
