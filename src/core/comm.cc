// MPI-backed collectives (when NATIVELM_HAVE_MPI) and their one-process equivalents. Message
// sizes are checked against MPI's int counts so an oversized exchange fails loudly.
#include "core/comm.h"

#include <cstdlib>
#include <numeric>

#include "core/error.h"
#include "core/log.h"

#ifdef NATIVELM_HAVE_MPI
#include <mpi.h>
#endif

namespace nlm {
namespace {

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

void finalize_mpi() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

bool g_mpi = false;
#endif

}  // namespace

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

void Comm::allreduce_sum(std::vector<uint64_t>& values) {
#ifdef NATIVELM_HAVE_MPI
  if (g_mpi)
    MPI_Allreduce(MPI_IN_PLACE, values.data(), count_of(values.size()), MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
#else
  (void)values;
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

std::vector<char> Comm::alltoallv(const std::vector<std::vector<char>>& send) {
#ifdef NATIVELM_HAVE_MPI
  if (g_mpi) {
    std::vector<int> scount(size_), sdispl(size_), rcount(size_), rdispl(size_);
    std::vector<char> sbuf;
    for (int d = 0; d < size_; ++d) {
      sdispl[d] = count_of(sbuf.size());
      scount[d] = count_of(send[d].size());
      sbuf.insert(sbuf.end(), send[d].begin(), send[d].end());
    }
    MPI_Alltoall(scount.data(), 1, MPI_INT, rcount.data(), 1, MPI_INT, MPI_COMM_WORLD);
    size_t total = 0;
    for (int d = 0; d < size_; ++d) {
      rdispl[d] = count_of(total);
      total += static_cast<size_t>(rcount[d]);
    }
    std::vector<char> rbuf(std::max<size_t>(total, 1));
    MPI_Alltoallv(sbuf.data(), scount.data(), sdispl.data(), MPI_BYTE, rbuf.data(), rcount.data(),
                  rdispl.data(), MPI_BYTE, MPI_COMM_WORLD);
    rbuf.resize(total);
    return rbuf;
  }
#endif
  return send.at(0);
}

std::vector<char> Comm::gatherv(const std::vector<char>& send) {
#ifdef NATIVELM_HAVE_MPI
  if (g_mpi) {
    int mine = count_of(send.size());
    std::vector<int> counts(size_), displ(size_);
    MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
    size_t total = 0;
    for (int d = 0; d < size_; ++d) {
      displ[d] = count_of(total);
      total += static_cast<size_t>(counts[d]);
    }
    std::vector<char> out(rank_ == 0 ? std::max<size_t>(total, 1) : 1);
    MPI_Gatherv(send.data(), mine, MPI_BYTE, out.data(), counts.data(), displ.data(), MPI_BYTE, 0, MPI_COMM_WORLD);
    out.resize(rank_ == 0 ? total : 0);
    return out;
  }
#endif
  return send;
}

std::vector<char> Comm::allgatherv(const std::vector<char>& send) {
#ifdef NATIVELM_HAVE_MPI
  if (g_mpi) {
    int mine = count_of(send.size());
    std::vector<int> counts(size_), displ(size_);
    MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
    size_t total = 0;
    for (int d = 0; d < size_; ++d) {
      displ[d] = count_of(total);
      total += static_cast<size_t>(counts[d]);
    }
    std::vector<char> out(std::max<size_t>(total, 1));
    MPI_Allgatherv(send.data(), mine, MPI_BYTE, out.data(), counts.data(), displ.data(), MPI_BYTE, MPI_COMM_WORLD);
    out.resize(total);
    return out;
  }
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
