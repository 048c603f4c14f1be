// DeviceComm over NCCL (CUDA builds with NCCL only; CMakeLists adds this file and defines
// NATIVELM_HAS_NCCL then). The gradient reduce-scatters run on a stream of the communicator's
// own, so each layer's reduce-scatter (AdamW::grads_ready during the last backward) overlaps with
// the backward of the layers below it. Uneven splits (a layer's gradient range cut by the shard
// bounds) become a group of ncclReduce / ncclBroadcast calls, one per rank with a part. The
// unique id reaches the ranks by MPI broadcast when MPI spans them, else over the TCP rendezvous.
// Compiled here, not yet run on a GPU.
//
// Two streams: S, the backend's (every op and every allocation of the CUDA backend is ordered on
// it), and C, this communicator's (cudaStreamNonBlocking, on S's device). Ordering rules:
//  1. Inputs before a reduce-scatter: before queueing one on C, the event `produced_` is recorded
//     on S and C waits for it, so the collective starts after every kernel queued on S so far
//     (the ones that made that layer's gradients). Nothing queued on S later may write the
//     reduced range; the hook's contract (a group's gradients are final) guarantees it.
//  2. Results before use: after the last collective queued on C the event `reduced_` is recorded
//     on C; wait_for_pending() makes S wait for it. AdamW::step calls it after the last
//     reduce-scatter and before anything reads the reduced shards (norm, clipping, update); the
//     next step's zero_grad, which writes the gradient buffer again, is queued on S after that,
//     so it is ordered too. The host never blocks for it.
//  3. One order for all collectives: NCCL does not promise that two collectives of a
//     communicator progress concurrently, and every rank must issue them in the same order, so
//     they must never be in flight on S and C at once. Every collective queued on S (all-reduce,
//     all-gather, broadcast) first runs rule 2, and every one queued on C runs rule 1: the
//     collectives of this communicator form one chain across the two streams, issued in the
//     same program order on every rank.
//  4. The parameter all-gather after the update stays on S: the next forward needs all the
//     parameters at once, so there is nothing to overlap it with, and S's order already puts it
//     after the update that wrote this rank's shard.
//  5. Buffers: collectives on C only touch the optimizer's flat gradient buffer, which lives as
//     long as the optimizer; no tensor S may free and reuse (stream-ordered pool) is used on C.
//  6. Teardown: with collectives nobody waited for (an error unwound past step()) the
//     communicator is aborted rather than finalized, which could hang on a dead peer; C and the
//     events are destroyed after the communicator (cudaStreamDestroy lets queued work finish).
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>
#include <exception>

#include "core/comm.h"
#include "core/error.h"
#include "tensor/cuda/cuda_check.h"
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
    try {
      init(info, mpi);
    } catch (...) {
      release();
      throw;
    }
  }
  ~NcclComm() override { release(); }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_; }
  std::string name() const override { return "nccl"; }

  void all_reduce_sum(Tensor& t) override {
    wait_for_pending();
    check(ncclAllReduce(t.raw(), t.raw(), static_cast<size_t>(t.numel()), nccl_type(t.dtype()), ncclSum, comm_, stream_),
          "ncclAllReduce");
  }
  void all_reduce_sum(std::vector<double>& values) override {
    wait_for_pending();
    for (size_t i = 0; i < values.size(); i += kScratch) {
      size_t n = std::min(kScratch, values.size() - i);
      NLM_CUDA(cudaMemcpyAsync(scratch_, values.data() + i, n * sizeof(double), cudaMemcpyHostToDevice, stream_));
      check(ncclAllReduce(scratch_, scratch_, n, ncclFloat64, ncclSum, comm_, stream_), "ncclAllReduce");
      NLM_CUDA(cudaMemcpyAsync(values.data() + i, scratch_, n * sizeof(double), cudaMemcpyDeviceToHost, stream_));
      NLM_CUDA(cudaStreamSynchronize(stream_));
    }
  }
  void reduce_scatter_sum(const Tensor& flat, Tensor& shard, const std::vector<int64_t>& counts) override {
    const ncclDataType_t type = nccl_type(flat.dtype());
    NLM_CUDA(cudaEventRecord(produced_, stream_));  // rule 1
    NLM_CUDA(cudaStreamWaitEvent(comm_stream_, produced_, 0));
    pending_ = true;  // from here on C may hold work that S has not waited for
    if (even(counts)) {
      check(ncclReduceScatter(flat.raw(), shard.raw(), static_cast<size_t>(counts[0]), type, ncclSum, comm_,
                              comm_stream_),
            "ncclReduceScatter");
    } else {
      per_rank(counts, [&](int r, int64_t displ, int64_t n) {
        check(ncclReduce(at(flat, displ), r == rank_ ? shard.raw() : at(flat, displ), static_cast<size_t>(n), type,
                         ncclSum, r, comm_, comm_stream_),
              "ncclReduce");
      });
    }
    NLM_CUDA(cudaEventRecord(reduced_, comm_stream_));  // rule 2's event, after the last collective on C
  }
  void wait_for_pending() override {
    if (!pending_) return;
    NLM_CUDA(cudaStreamWaitEvent(stream_, reduced_, 0));
    pending_ = false;
  }
  void all_gather(const Tensor& shard, Tensor& flat, const std::vector<int64_t>& counts) override {
    wait_for_pending();  // rule 3; stays on S (rule 4)
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
    wait_for_pending();
    check(ncclBroadcast(t.raw(), t.raw(), static_cast<size_t>(t.numel()), nccl_type(t.dtype()), root, comm_, stream_),
          "ncclBroadcast");
  }
  void barrier() override {
    std::vector<double> one = {1};
    all_reduce_sum(one);
  }

 private:
  void init(const LaunchInfo& info, Comm* mpi) {
    // The backend's device (its stream's); LOCAL_RANK when the backend has no stream of its own.
    int device = local_;
#if CUDART_VERSION >= 12080
    if (stream_) NLM_CUDA(cudaStreamGetDevice(stream_, &device));
#endif
    NLM_CUDA(cudaSetDevice(device));
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
    NLM_CUDA(cudaMalloc(&scratch_, sizeof(double) * kScratch));
    NLM_CUDA(cudaStreamCreateWithFlags(&comm_stream_, cudaStreamNonBlocking));
    NLM_CUDA(cudaEventCreateWithFlags(&produced_, cudaEventDisableTiming));
    NLM_CUDA(cudaEventCreateWithFlags(&reduced_, cudaEventDisableTiming));
  }
  // Rule 6. Errors are ignored: this runs in the destructor and on a failed construction.
  void release() noexcept {
    if (comm_) {
      if (pending_ || std::uncaught_exceptions() > 0) {
        ncclCommAbort(comm_);
      } else {
        ncclCommFinalize(comm_);  // a blocking communicator: returns when its queued work is done
        ncclCommDestroy(comm_);
      }
      comm_ = nullptr;
    }
    if (reduced_) cudaEventDestroy(reduced_);
    if (produced_) cudaEventDestroy(produced_);
    if (comm_stream_) cudaStreamDestroy(comm_stream_);
    if (scratch_) cudaFree(scratch_);
    reduced_ = produced_ = nullptr;
    comm_stream_ = nullptr;
    scratch_ = nullptr;
  }
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
  cudaStream_t stream_;                   // S: the backend's
  cudaStream_t comm_stream_ = nullptr;    // C: the reduce-scatters'
  cudaEvent_t produced_ = nullptr;        // on S, waited for by C (rule 1)
  cudaEvent_t reduced_ = nullptr;         // on C, waited for by S (rule 2)
  bool pending_ = false;                  // C has work S has not been made to wait for
  ncclComm_t comm_ = nullptr;
  double* scratch_ = nullptr;
};

}  // namespace

std::unique_ptr<DeviceComm> make_nccl_comm(const LaunchInfo& info, Comm* mpi, void* stream) {
  return std::make_unique<NcclComm>(info, mpi, stream);
}

}  // namespace nlm::train::dist
