// MPI-backed collectives (when NATIVELM_HAVE_MPI) and their one-process equivalents. The float
// collectives and broadcast split what is larger than mpi_chunk_bytes() into several messages,
// and the byte exchanges (alltoallv, gatherv, allgatherv) go in rounds of at most that many bytes
// per rank, so every collective carries any size despite MPI's int counts.
#include "core/comm.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <numeric>

#include "core/error.h"
#include "core/log.h"

#ifdef NATIVELM_HAVE_MPI
#include <mpi.h>
#endif

namespace nlm {
namespace {

size_t g_chunk_bytes = 0;  // 0: not set yet (NATIVELM_MPI_CHUNK_BYTES, else 1 GiB)

#ifdef NATIVELM_HAVE_MPI
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

int count_of(size_t bytes) {
  if (bytes > static_cast<size_t>(INT32_MAX))
    runtime_error("an MPI message exceeds 2 GiB", "dedup", "lower --memory or use more ranks");
  return static_cast<int>(bytes);
}

// Elements of T per message of the chunked collectives (at least one).
template <class T>
size_t chunk_elements() {
  return std::max<size_t>(1, mpi_chunk_bytes() / sizeof(T));
}

void finalize_mpi() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

bool g_mpi = false;
#endif

}  // namespace

size_t mpi_chunk_bytes() {
  if (g_chunk_bytes == 0) {
    g_chunk_bytes = kMpiChunkBytes;
    if (const char* v = std::getenv("NATIVELM_MPI_CHUNK_BYTES"); v && *v) {
      char* end = nullptr;
      errno = 0;
      const unsigned long long b = std::strtoull(v, &end, 10);
      if (*end != '\0' || errno != 0 || b == 0 || b > kMpiChunkBytes || v[0] == '-')
        usage_error(std::string("NATIVELM_MPI_CHUNK_BYTES=") + v + " is not a byte count in 1.." +
                        std::to_string(kMpiChunkBytes),
                    "comm", "unset it (1 GiB chunks) or give a smaller positive number of bytes");
      g_chunk_bytes = static_cast<size_t>(b);
    }
  }
  return g_chunk_bytes;
}

void set_mpi_chunk_bytes(size_t bytes) {
  if (bytes == 0 || bytes > kMpiChunkBytes)
    usage_error("MPI chunk size " + std::to_string(bytes) + " is outside 1.." + std::to_string(kMpiChunkBytes), "comm");
  g_chunk_bytes = bytes;
}

Comm& Comm::world() {
  static Comm comm = [] {
    Comm c;
#ifdef NATIVELM_HAVE_MPI
    if (launched_by_mpi()) {
      int inited = 0;
      MPI_Initialized(&inited);
      if (!inited) {
        int provided = 0;
        MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
        std::atexit(finalize_mpi);
      }
      MPI_Comm_rank(MPI_COMM_WORLD, &c.rank_);
      MPI_Comm_size(MPI_COMM_WORLD, &c.size_);
      g_mpi = c.size_ > 1;
    }
#endif
    return c;
  }();
  return comm;
}

#ifdef NATIVELM_HAVE_MPI
namespace {
template <class T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <>
MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }
template <>
MPI_Datatype mpi_type<uint64_t>() { return MPI_UINT64_T; }

template <class T>
void allreduce_in_place(T* values, size_t n) {
  if (!g_mpi) return;
  for (size_t at = 0, step = chunk_elements<T>(); at < n; at += step)
    MPI_Allreduce(MPI_IN_PLACE, values + at, static_cast<int>(std::min(step, n - at)), mpi_type<T>(), MPI_SUM,
                  MPI_COMM_WORLD);
}

// Displacements (in elements) of each rank's part, and whether the whole fits in one message.
std::vector<size_t> displacements(const std::vector<int64_t>& counts, bool& one_message) {
  std::vector<size_t> d(counts.size());
  size_t total = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    d[r] = total;
    total += static_cast<size_t>(counts[r]);
  }
  one_message = total <= chunk_elements<float>();
  return d;
}

// Element counts and displacements as MPI's ints (each part, and the whole, under 2 GiB).
void int_counts(const std::vector<int64_t>& counts, std::vector<int>& c, std::vector<int>& d) {
  c.resize(counts.size());
  d.resize(counts.size());
  size_t total = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    d[r] = count_of(total * sizeof(float)) / static_cast<int>(sizeof(float));
    c[r] = count_of(static_cast<size_t>(counts[r]) * sizeof(float)) / static_cast<int>(sizeof(float));
    total += static_cast<size_t>(counts[r]);
  }
}
}  // namespace
#endif

void Comm::allreduce_sum(std::vector<uint64_t>& values) {
#ifdef NATIVELM_HAVE_MPI
  allreduce_in_place(values.data(), values.size());
#else
  (void)values;
#endif
}

void Comm::allreduce_sum(double* values, size_t n) {
#ifdef NATIVELM_HAVE_MPI
  allreduce_in_place(values, n);
#else
  (void)values, (void)n;
#endif
}

void Comm::allreduce_sum(float* values, size_t n) {
#ifdef NATIVELM_HAVE_MPI
  allreduce_in_place(values, n);
#else
  (void)values, (void)n;
#endif
}

void Comm::reduce_scatter_sum(const float* send, float* recv, const std::vector<int64_t>& counts) {
  if (counts.size() != static_cast<size_t>(size_))
    runtime_error("reduce_scatter_sum needs one count per rank", "comm");
#ifdef NATIVELM_HAVE_MPI
  if (g_mpi) {
    bool one_message = false;
    const std::vector<size_t> at = displacements(counts, one_message);
    if (one_message) {
      std::vector<int> c, d;
      int_counts(counts, c, d);
      MPI_Reduce_scatter(send, recv, c.data(), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      return;
    }
    // Larger: each rank's part is reduced to it in chunks (the same sums, element by element).
    for (int r = 0; r < size_; ++r) {
      const size_t n = static_cast<size_t>(counts[static_cast<size_t>(r)]);
      for (size_t off = 0, step = chunk_elements<float>(); off < n; off += step) {
        const int k = static_cast<int>(std::min(step, n - off));
        const float* part = send + at[static_cast<size_t>(r)] + off;
        if (r != rank_) MPI_Reduce(part, nullptr, k, MPI_FLOAT, MPI_SUM, r, MPI_COMM_WORLD);
        else if (part == recv + off) MPI_Reduce(MPI_IN_PLACE, recv + off, k, MPI_FLOAT, MPI_SUM, r, MPI_COMM_WORLD);
        else MPI_Reduce(part, recv + off, k, MPI_FLOAT, MPI_SUM, r, MPI_COMM_WORLD);
      }
    }
    return;
  }
#endif
  if (send != recv && counts[0] > 0) std::memmove(recv, send, static_cast<size_t>(counts[0]) * sizeof(float));
}

void Comm::allgatherv(const float* mine, float* all, const std::vector<int64_t>& counts) {
  if (counts.size() != static_cast<size_t>(size_)) runtime_error("allgatherv needs one count per rank", "comm");
  int64_t before = 0;
  for (int r = 0; r < rank_; ++r) before += counts[static_cast<size_t>(r)];
#ifdef NATIVELM_HAVE_MPI
  if (g_mpi) {
    bool one_message = false;
    const std::vector<size_t> at = displacements(counts, one_message);
    if (!one_message) {  // each rank's part broadcast from it in chunks
      const size_t n = static_cast<size_t>(counts[static_cast<size_t>(rank_)]);
      if (mine != all + before && n > 0) std::memmove(all + before, mine, n * sizeof(float));
      for (int r = 0; r < size_; ++r)
        broadcast(all + at[static_cast<size_t>(r)], static_cast<size_t>(counts[static_cast<size_t>(r)]) * sizeof(float),
                  r);
      return;
    }
    std::vector<int> c, d;
    int_counts(counts, c, d);
    if (mine == all + before)
      MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, all, c.data(), d.data(), MPI_FLOAT, MPI_COMM_WORLD);
    else
      MPI_Allgatherv(mine, c[static_cast<size_t>(rank_)], MPI_FLOAT, all, c.data(), d.data(), MPI_FLOAT,
                     MPI_COMM_WORLD);
    return;
  }
#endif
  if (mine != all + before && counts[0] > 0)
    std::memmove(all + before, mine, static_cast<size_t>(counts[0]) * sizeof(float));
}

void Comm::broadcast(void* data, size_t bytes, int root) {
#ifdef NATIVELM_HAVE_MPI
  if (!g_mpi) return;
  char* p = static_cast<char*>(data);
  for (size_t at = 0, step = chunk_elements<char>(); at < bytes; at += step)
    MPI_Bcast(p + at, static_cast<int>(std::min(step, bytes - at)), MPI_BYTE, root, MPI_COMM_WORLD);
#else
  (void)data, (void)bytes, (void)root;
#endif
}

void Comm::barrier() {
#ifdef NATIVELM_HAVE_MPI
  if (g_mpi) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

bool Comm::all_true(bool flag) {
#ifdef NATIVELM_HAVE_MPI
  if (g_mpi) {
    int in = flag ? 1 : 0, out = 0;
    MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return out == 1;
  }
#endif
  return flag;
}

#ifdef NATIVELM_HAVE_MPI
namespace {
// Bytes per (sender, receiver) pair and round in the byte exchanges: a round's buffers and MPI's
// int counts stay under the chunk size whatever the number of ranks.
size_t pair_bytes(int ranks) { return std::max<size_t>(1, mpi_chunk_bytes() / static_cast<size_t>(ranks)); }

// The rounds every rank must take part in: enough for the largest of `sizes` on any rank.
uint64_t rounds_for(const std::vector<uint64_t>& sizes, size_t per) {
  uint64_t rounds = 0;
  for (uint64_t b : sizes) rounds = std::max<uint64_t>(rounds, (b + per - 1) / per);
  MPI_Allreduce(MPI_IN_PLACE, &rounds, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  return rounds;
}

// The slice of a part of `bytes` bytes that round r carries.
size_t slice(uint64_t bytes, uint64_t r, size_t per) {
  const uint64_t off = r * per;
  return off < bytes ? static_cast<size_t>(std::min<uint64_t>(per, bytes - off)) : 0;
}

// Everyone's bytes in rank order on rank 0 (all = false) or on every rank, in rounds.
std::vector<char> gather_bytes(const std::vector<char>& send, int rank, int ranks, bool all) {
  const size_t n = static_cast<size_t>(ranks), per = pair_bytes(ranks);
  uint64_t mine = send.size();
  std::vector<uint64_t> sizes(n);
  MPI_Allgather(&mine, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
  const uint64_t rounds = rounds_for({mine}, per);
  std::vector<size_t> at(n);
  size_t total = 0;
  for (size_t d = 0; d < n; ++d) {
    at[d] = total;
    total += static_cast<size_t>(sizes[d]);
  }
  const bool keep = all || rank == 0;
  std::vector<char> out(keep ? total : 0), buf;
  std::vector<int> counts(n), displ(n);
  for (uint64_t r = 0; r < rounds; ++r) {
    size_t round = 0;
    for (size_t d = 0; d < n; ++d) {
      counts[d] = static_cast<int>(slice(sizes[d], r, per));
      displ[d] = static_cast<int>(round);
      round += static_cast<size_t>(counts[d]);
    }
    buf.resize(keep ? std::max<size_t>(round, 1) : 1);
    const int k = counts[static_cast<size_t>(rank)];
    const char* part = send.data() + (k > 0 ? r * per : 0);
    if (all)
      MPI_Allgatherv(part, k, MPI_BYTE, buf.data(), counts.data(), displ.data(), MPI_BYTE, MPI_COMM_WORLD);
    else
      MPI_Gatherv(part, k, MPI_BYTE, buf.data(), counts.data(), displ.data(), MPI_BYTE, 0, MPI_COMM_WORLD);
    if (keep)
      for (size_t d = 0; d < n; ++d)
        if (counts[d] > 0)
          std::memcpy(out.data() + at[d] + r * per, buf.data() + displ[d], static_cast<size_t>(counts[d]));
  }
  return out;
}
}  // namespace
#endif

std::vector<char> Comm::alltoallv(const std::vector<std::vector<char>>& send) {
#ifdef NATIVELM_HAVE_MPI
  if (g_mpi) {
    const size_t n = static_cast<size_t>(size_), per = pair_bytes(size_);
    std::vector<uint64_t> ssize(n), rsize(n);
    for (size_t d = 0; d < n; ++d) ssize[d] = send[d].size();
    MPI_Alltoall(ssize.data(), 1, MPI_UINT64_T, rsize.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
    const uint64_t rounds = rounds_for(ssize, per);
    std::vector<size_t> at(n);
    size_t total = 0;
    for (size_t d = 0; d < n; ++d) {
      at[d] = total;
      total += static_cast<size_t>(rsize[d]);
    }
    std::vector<char> out(total), sbuf, rbuf;
    std::vector<int> sc(n), sd(n), rc(n), rd(n);
    for (uint64_t r = 0; r < rounds; ++r) {
      size_t sent = 0, got = 0;
      for (size_t d = 0; d < n; ++d) {
        sc[d] = static_cast<int>(slice(ssize[d], r, per));
        sd[d] = static_cast<int>(sent);
        sent += static_cast<size_t>(sc[d]);
        rc[d] = static_cast<int>(slice(rsize[d], r, per));
        rd[d] = static_cast<int>(got);
        got += static_cast<size_t>(rc[d]);
      }
      sbuf.resize(std::max<size_t>(sent, 1));
      rbuf.resize(std::max<size_t>(got, 1));
      for (size_t d = 0; d < n; ++d)
        if (sc[d] > 0) std::memcpy(sbuf.data() + sd[d], send[d].data() + r * per, static_cast<size_t>(sc[d]));
      MPI_Alltoallv(sbuf.data(), sc.data(), sd.data(), MPI_BYTE, rbuf.data(), rc.data(), rd.data(), MPI_BYTE,
                    MPI_COMM_WORLD);
      for (size_t d = 0; d < n; ++d)
        if (rc[d] > 0) std::memcpy(out.data() + at[d] + r * per, rbuf.data() + rd[d], static_cast<size_t>(rc[d]));
    }
    return out;
  }
#endif
  return send.at(0);
}

std::vector<char> Comm::gatherv(const std::vector<char>& send) {
#ifdef NATIVELM_HAVE_MPI
  if (g_mpi) return gather_bytes(send, rank_, size_, false);
#endif
  return send;
}

std::vector<char> Comm::allgatherv(const std::vector<char>& send) {
#ifdef NATIVELM_HAVE_MPI
  if (g_mpi) return gather_bytes(send, rank_, size_, true);
#endif
  return send;
}

void Comm::abort_on(const Error& e) {
  log::warn(std::string("error on rank ") + std::to_string(rank_) + ": " + e.what());
  abort(e.exit_code());
}

void Comm::abort(int code) {
#ifdef NATIVELM_HAVE_MPI
  if (g_mpi) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

}  // namespace nlm
