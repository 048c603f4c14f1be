// The few collectives a stage needs to run on MPI ranks (dedup routes band keys with them),
// behind an interface free of mpi.h: with one process (or a build without MPI) every call is the
// trivial local one, so the same code path runs either way. MPI starts only when the process
// was launched by mpirun/srun.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"

namespace nlm {

// The float collectives (allreduce_sum, reduce_scatter_sum, allgatherv) and broadcast send what
// is larger than this many bytes as several messages of at most this size, since MPI counts are
// ints (2 GiB of bytes); the byte exchanges (alltoallv, gatherv) go in rounds that move at most
// this many bytes per rank. 1 GiB unless NATIVELM_MPI_CHUNK_BYTES (read at first use) or
// set_mpi_chunk_bytes says less; tests force tiny chunks to check they give the same results.
inline constexpr size_t kMpiChunkBytes = size_t(1) << 30;
size_t mpi_chunk_bytes();
void set_mpi_chunk_bytes(size_t bytes);

class Comm {
 public:
  // The world communicator; initialises MPI on first use when launched under an MPI launcher.
  static Comm& world();
  int rank() const { return rank_; }
  int size() const { return size_; }

  void allreduce_sum(std::vector<uint64_t>& values);
  // In-place sums over ranks of n floating values (data parallel: losses, squared norms).
  void allreduce_sum(double* values, size_t n);
  void allreduce_sum(float* values, size_t n);
  // Sums `send` (the sum of counts elements, the same layout on every rank) over ranks and leaves
  // this rank's part, counts[rank] elements starting at the sum of the counts before it, in
  // `recv`. Counts may be uneven or zero.
  void reduce_scatter_sum(const float* send, float* recv, const std::vector<int64_t>& counts);
  // The inverse: every rank's counts[r] elements, concatenated in rank order, into `all` on every
  // rank. `mine` may point at this rank's part of `all` (in place).
  void allgatherv(const float* mine, float* all, const std::vector<int64_t>& counts);
  // Rank `root`'s `bytes` bytes at `data` into `data` on every rank (any size: see above).
  void broadcast(void* data, size_t bytes, int root = 0);
  void barrier();
  bool all_true(bool flag);
  // Sends send[d] to rank d; returns what every rank sent to this one, in rank order.
  std::vector<char> alltoallv(const std::vector<std::vector<char>>& send);
  // Everyone's `send`, concatenated in rank order, on rank 0 (empty elsewhere) or on all ranks.
  std::vector<char> gatherv(const std::vector<char>& send);
  std::vector<char> allgatherv(const std::vector<char>& send);
  // Ends every rank with this exit code (MPI_Abort); plain exit with one process.
  [[noreturn]] void abort(int code);
  // Logs `e` as this rank's error and ends every rank with its exit code.
  [[noreturn]] void abort_on(const Error& e);

 private:
  Comm() = default;
  int rank_ = 0, size_ = 1;
};

// Runs fn(Comm::world()). With more than one rank, an nlm::Error on any rank ends all of them
// (with its exit code) instead of leaving the others waiting in a collective forever; with one
// process the error propagates as usual.
template <class Fn>
auto run_on_ranks(Fn&& fn) -> decltype(fn(Comm::world())) {
  Comm& comm = Comm::world();
  if (comm.size() == 1) return fn(comm);
  try {
    return fn(comm);
  } catch (const Error& e) {
    comm.abort_on(e);
  }
}

// Byte views of vectors of trivially copyable records, for the calls above.
template <class T>
std::vector<char> to_bytes(const std::vector<T>& v) {
  std::vector<char> b(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}
template <class T>
std::vector<T> from_bytes(const std::vector<char>& b) {
  std::vector<T> v(b.size() / sizeof(T));
  if (!v.empty()) std::memcpy(static_cast<void*>(v.data()), b.data(), v.size() * sizeof(T));
  return v;
}

}  // namespace nlm
