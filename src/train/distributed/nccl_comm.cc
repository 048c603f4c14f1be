// DeviceComm over NCCL (CUDA builds with NCCL only; CMakeLists adds this file and defines
// NATIVELM_HAS_NCCL then).
// Collectives run on the stream the backend computes on, so they order after the kernels that
// produced their inputs without a host sync. Uneven splits (a layer's gradient range cut by the
// shard bounds) become a group of ncclReduce / ncclBroadcast calls, one per rank with a part.
// The unique id reaches the ranks by MPI broadcast when MPI spans them, else over the TCP
// rendezvous. Compiled here, not yet run on a GPU.
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>

#include "core/comm.h"
#include "core/error.h"
#include "train/distributed/device_comm.h"
#include "train/distributed/rendezvous.h"

namespace nlm::train::dist {
namespace {

using tensor::DType;
using tensor::Tensor;

constexpr double kRendezvousSeconds = 300;

void check(ncclResult_t r, const char* what) {
  if (r != ncclSuccess) runtime_error(std::string(what) + ": " + ncclGetErrorString(r), "nccl");
}
void check(cudaError_t r, const char* what) {
  if (r != cudaSuccess) runtime_error(std::string(what) + ": " + cudaGetErrorString(r), "nccl");
}

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::F32: return ncclFloat32;
    case DType::BF16: return ncclBfloat16;
    case DType::F16: return ncclFloat16;
    case DType::F64: return ncclFloat64;
    default: runtime_error("no NCCL type for " + std::string(tensor::dtype_name(t)), "nccl");
  }
}

char* at(const Tensor& t, int64_t elements) {
  return static_cast<char*>(t.raw()) + static_cast<size_t>(elements) * tensor::dtype_size(t.dtype());
}

class NcclComm final : public DeviceComm {
 public:
  NcclComm(const LaunchInfo& info, Comm* mpi, void* stream)
      : rank_(info.rank), size_(info.world_size), local_(info.local_rank), stream_(static_cast<cudaStream_t>(stream)) {
    check(cudaSetDevice(local_), "cudaSetDevice(LOCAL_RANK)");
    ncclUniqueId id;
    std::memset(&id, 0, sizeof id);
    if (rank_ == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    if (mpi) {
      mpi->broadcast(&id, sizeof id, 0);
    } else {
      if (info.master_addr.empty())
        usage_error("MASTER_ADDR is unset, so ranks cannot find rank 0", "train",
                    "set MASTER_ADDR (and MASTER_PORT) to rank 0's host, or launch with mpirun");
      if (rank_ == 0) {
        RendezvousServer server(info.master_port);
        server.serve(std::string(reinterpret_cast<const char*>(&id), sizeof id), size_ - 1, kRendezvousSeconds);
      } else {
        std::string got = rendezvous_fetch(info.master_addr, info.master_port, rank_, kRendezvousSeconds);
        if (got.size() != sizeof id) runtime_error("the rendezvous sent no NCCL id", "nccl");
        std::memcpy(&id, got.data(), sizeof id);
      }
    }
    check(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank");
    check(cudaMalloc(&scratch_, sizeof(double) * kScratch), "cudaMalloc");
  }
  ~NcclComm() override {
    if (scratch_) cudaFree(scratch_);
    if (comm_) ncclCommDestroy(comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_; }
  std::string name() const override { return "nccl"; }

  void all_reduce_sum(Tensor& t) override {
    check(ncclAllReduce(t.raw(), t.raw(), static_cast<size_t>(t.numel()), nccl_type(t.dtype()), ncclSum, comm_, stream_),
          "ncclAllReduce");
  }
  void all_reduce_sum(std::vector<double>& values) override {
    for (size_t i = 0; i < values.size(); i += kScratch) {
      size_t n = std::min(kScratch, values.size() - i);
      check(cudaMemcpyAsync(scratch_, values.data() + i, n * sizeof(double), cudaMemcpyHostToDevice, stream_), "copy");
      check(ncclAllReduce(scratch_, scratch_, n, ncclFloat64, ncclSum, comm_, stream_), "ncclAllReduce");
      check(cudaMemcpyAsync(values.data() + i, scratch_, n * sizeof(double), cudaMemcpyDeviceToHost, stream_), "copy");
      check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    }
  }
  void reduce_scatter_sum(const Tensor& flat, Tensor& shard, const std::vector<int64_t>& counts) override {
    const ncclDataType_t type = nccl_type(flat.dtype());
    if (even(counts)) {
      check(ncclReduceScatter(flat.raw(), shard.raw(), static_cast<size_t>(counts[0]), type, ncclSum, comm_, stream_),
            "ncclReduceScatter");
      return;
    }
    per_rank(counts, [&](int r, int64_t displ, int64_t n) {
      check(ncclReduce(at(flat, displ), r == rank_ ? shard.raw() : at(flat, displ), static_cast<size_t>(n), type,
                       ncclSum, r, comm_, stream_),
            "ncclReduce");
    });
  }
  void all_gather(const Tensor& shard, Tensor& flat, const std::vector<int64_t>& counts) override {
    const ncclDataType_t type = nccl_type(flat.dtype());
    if (even(counts)) {
      check(ncclAllGather(shard.raw(), flat.raw(), static_cast<size_t>(counts[0]), type, comm_, stream_),
            "ncclAllGather");
      return;
    }
    per_rank(counts, [&](int r, int64_t displ, int64_t n) {
      check(ncclBroadcast(r == rank_ ? shard.raw() : at(flat, displ), at(flat, displ), static_cast<size_t>(n), type, r,
                          comm_, stream_),
            "ncclBroadcast");
    });
  }
  void broadcast(Tensor& t, int root) override {
    check(ncclBroadcast(t.raw(), t.raw(), static_cast<size_t>(t.numel()), nccl_type(t.dtype()), root, comm_, stream_),
          "ncclBroadcast");
  }
  void barrier() override {
    std::vector<double> one = {1};
    all_reduce_sum(one);
  }

 private:
  // fn(rank, first element, count) for every rank with a part, as one NCCL group.
  template <class Fn>
  void per_rank(const std::vector<int64_t>& counts, Fn fn) {
    check(ncclGroupStart(), "ncclGroupStart");
    int64_t displ = 0;
    for (int r = 0; r < size_; ++r) {
      const int64_t n = counts[static_cast<size_t>(r)];
      if (n > 0) fn(r, displ, n);
      displ += n;
    }
    check(ncclGroupEnd(), "ncclGroupEnd");
  }
  static bool even(const std::vector<int64_t>& counts) {
    for (int64_t c : counts)
      if (c != counts[0]) return false;
    return true;
  }
  static constexpr size_t kScratch = 64;
  int rank_, size_, local_;
  cudaStream_t stream_;
  ncclComm_t comm_ = nullptr;
  double* scratch_ = nullptr;
};

}  // namespace

std::unique_ptr<DeviceComm> make_nccl_comm(const LaunchInfo& info, Comm* mpi, void* stream) {
  return std::make_unique<NcclComm>(info, mpi, stream);
}

}  // namespace nlm::train::dist
