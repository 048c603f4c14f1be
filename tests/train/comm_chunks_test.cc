// The MPI collectives that CPU data parallel runs on (core/comm.h) split messages larger than
// mpi_chunk_bytes() (1 GiB; MPI counts are ints):
// on 2 ranks, with chunks forced down to 1000 and 4096 bytes, allreduce, reduce-scatter (uneven and zero
// counts, in place and not), allgatherv and broadcast give exactly the unchunked results, and so do
// the byte exchanges (alltoallv, gatherv, allgatherv), which go in rounds of the chunk size. The
// ranks are this test binary again, started by mpirun with a filter on CommChunksRank; run
// alone, CommChunksRank skips saying so. Skipped only when mpirun is absent.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/comm.h"
#include "core/error.h"
#include "test_util.h"

namespace nlm {
namespace {

constexpr const char* kChild = "NATIVELM_COMM_CHUNKS_RANK";

// Whole numbers as floats, so every sum is exact and both orders give the same bits.
std::vector<float> values(size_t n, int rank, int salt) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(static_cast<int>((i * 37 + salt) % 1013) + 100 * rank);
  return v;
}

// Runs every collective with the current chunk size; returns all the results, concatenated.
std::vector<float> exchange(Comm& c) {
  std::vector<float> out;
  const int me = c.rank();
  // allreduce (floats and doubles), 5000 elements.
  std::vector<float> f = values(5000, me, 1);
  c.allreduce_sum(f.data(), f.size());
  out.insert(out.end(), f.begin(), f.end());
  std::vector<double> d(777);
  for (size_t i = 0; i < d.size(); ++i) d[i] = 0.5 * static_cast<double>(i) + me;
  c.allreduce_sum(d.data(), d.size());
  for (double x : d) out.push_back(static_cast<float>(x));
  std::vector<uint64_t> u = {uint64_t(me) + 1, 1ull << 40, 3};
  c.allreduce_sum(u);
  for (uint64_t x : u) out.push_back(static_cast<float>(x));
  for (const std::vector<int64_t>& counts : {std::vector<int64_t>{1237, 2503}, std::vector<int64_t>{0, 777},
                                             std::vector<int64_t>{5, 0}}) {
    const size_t total = static_cast<size_t>(counts[0] + counts[1]);
    const size_t mine = static_cast<size_t>(counts[static_cast<size_t>(me)]);
    const size_t before = me == 0 ? 0 : static_cast<size_t>(counts[0]);
    // reduce-scatter into a buffer of its own, and in place.
    std::vector<float> send = values(total, me, 2), recv(mine + 1);
    c.reduce_scatter_sum(send.data(), recv.data(), counts);
    out.insert(out.end(), recv.begin(), recv.begin() + static_cast<long>(mine));
    c.reduce_scatter_sum(send.data(), send.data() + before, counts);
    out.insert(out.end(), send.begin() + static_cast<long>(before), send.begin() + static_cast<long>(before + mine));
    // allgatherv from a buffer of its own, and in place.
    std::vector<float> part = values(mine + 1, me, 3), all(total + 1, -1.0f);
    c.allgatherv(part.data(), all.data(), counts);
    out.insert(out.end(), all.begin(), all.begin() + static_cast<long>(total));
    std::vector<float> in_place(total + 1, -1.0f);
    std::copy(part.begin(), part.begin() + static_cast<long>(mine), in_place.begin() + static_cast<long>(before));
    c.allgatherv(in_place.data() + before, in_place.data(), counts);
    out.insert(out.end(), in_place.begin(), in_place.begin() + static_cast<long>(total));
  }
  // The byte exchanges, in rounds: uneven parts, one of them empty, to every rank and gathered.
  auto pattern = [&](size_t n, int salt) {
    std::vector<char> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<char>(i * 13 + static_cast<size_t>(me) * 7 + static_cast<size_t>(salt));
    return v;
  };
  const std::vector<std::vector<char>> to = {pattern(me == 0 ? 3001 : 0, 1), pattern(me == 0 ? 17 : 4500, 2)};
  auto keep = [&](const std::vector<char>& got) {
    out.push_back(static_cast<float>(got.size()));
    for (char b : got) out.push_back(static_cast<float>(static_cast<unsigned char>(b)));
  };
  keep(c.alltoallv(to));
  keep(c.gatherv(pattern(me == 0 ? 2500 : 1, 3)));
  keep(c.allgatherv(pattern(me == 0 ? 0 : 2222, 4)));
  // broadcast of 10001 bytes from rank 1.
  std::vector<char> bytes(10001);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(me == 1 ? i * 7 : 0);
  c.broadcast(bytes.data(), bytes.size(), 1);
  for (char b : bytes) out.push_back(static_cast<float>(static_cast<unsigned char>(b)));
  return out;
}

TEST(CommChunksRank, ChunkedCollectivesGiveTheUnchunkedResults) {
  if (!std::getenv(kChild)) GTEST_SKIP() << "runs on 2 MPI ranks, started by CommChunks.TwoRanks";
  Comm& c = Comm::world();
  ASSERT_EQ(c.size(), 2);
  set_mpi_chunk_bytes(kMpiChunkBytes);
  const std::vector<float> whole = exchange(c);
  // Spot checks against sums written out: allreduce, and rank 1's broadcast.
  EXPECT_EQ(whole[0], values(1, 0, 1)[0] + values(1, 1, 1)[0]);
  EXPECT_EQ(whole[4999], values(5000, 0, 1)[4999] + values(5000, 1, 1)[4999]);
  EXPECT_EQ(whole.back(), static_cast<float>(static_cast<unsigned char>(static_cast<char>(10000 * 7))));
  for (size_t chunk : {size_t(1000), size_t(4096)}) {
    set_mpi_chunk_bytes(chunk);
    EXPECT_EQ(exchange(c), whole) << "chunks of " << chunk << " bytes";
  }
  set_mpi_chunk_bytes(kMpiChunkBytes);
  EXPECT_THROW(set_mpi_chunk_bytes(0), Error);
  EXPECT_THROW(set_mpi_chunk_bytes(kMpiChunkBytes + 1), Error);
}

TEST(CommChunks, TwoRanks) {
  if (std::getenv(kChild)) GTEST_SKIP() << "the rank side of this test";
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not installed";
  testing::TempDir dir;
  const std::string cmd = std::string(kChild) +
                          "=1 mpirun --allow-run-as-root --oversubscribe --mca pml ob1 --mca btl self,vader -np 2 " +
                          std::filesystem::read_symlink("/proc/self/exe").string() +
                          " --gtest_color=no --gtest_filter=CommChunksRank.* >" +
                          dir.file("log") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  const std::string log = testing::read_text(dir.file("log"));
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << log;
  size_t passed = 0;
  for (size_t at = log.find("[       OK ] CommChunksRank"); at != std::string::npos;
       at = log.find("[       OK ] CommChunksRank", at + 1))
    ++passed;
  EXPECT_EQ(passed, 2u) << log;  // both ranks ran it, not skipped
}

}  // namespace
}  // namespace nlm
