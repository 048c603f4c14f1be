// The collectives data-parallel training runs on tensors where they live: gradients summed and
// split over ranks (reduce-scatter), parameter shards put back together (all-gather), sums of
// figures (all-reduce), rank 0's weights to everyone (broadcast). Two implementations: over
// nlm::Comm (MPI) through host memory, which works with any backend, is synchronous and is what
// CPU runs use, and over NCCL (nccl_comm.cc, CUDA builds only), where reduce-scatters run on a
// stream of their own so they overlap with the rest of backward. With one rank every call is the
// local identity, so the single-process trainer runs the same code.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"
#include "train/distributed/launch.h"

namespace nlm {
class Comm;
}
namespace nlm::tensor {
class Backend;
}

namespace nlm::train::dist {

class DeviceComm {
 public:
  virtual ~DeviceComm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual int local_rank() const = 0;
  virtual std::string name() const = 0;  // "local", "mpi", "nccl"

  // t = Σ over ranks of t, in place.
  virtual void all_reduce_sum(tensor::Tensor& t) = 0;
  // Host figures summed over ranks, in place (losses, squared norms, stop flags).
  virtual void all_reduce_sum(std::vector<double>& values) = 0;
  // flat (Σ counts elements, the same layout on every rank) summed over ranks; this rank's part
  // (counts[rank] elements after the counts of lower ranks) lands in shard, which may be the view
  // of flat at that place (in place). F32 tensors. It may still be running when this returns
  // (NCCL: on its own stream, after the work already queued on the backend): the backend's work
  // must not read shard nor write flat before wait_for_pending().
  virtual void reduce_scatter_sum(const tensor::Tensor& flat, tensor::Tensor& shard,
                                  const std::vector<int64_t>& counts) = 0;
  // Orders the backend's later work after every reduce_scatter_sum issued so far (without
  // blocking the host). A no-op where collectives are synchronous (local, MPI). The other
  // collectives do it themselves first.
  virtual void wait_for_pending() {}
  // Every rank's shard (counts[r] elements) into flat, in rank order; shard may be a view of
  // flat at this rank's place.
  virtual void all_gather(const tensor::Tensor& shard, tensor::Tensor& flat, const std::vector<int64_t>& counts) = 0;
  virtual void broadcast(tensor::Tensor& t, int root) = 0;
  virtual void barrier() = 0;
};

// One rank, no communication.
std::unique_ptr<DeviceComm> make_local_comm();
// Over MPI through host memory: tensors are downloaded, exchanged as F32 and uploaded.
std::unique_ptr<DeviceComm> make_mpi_comm(Comm& comm, int local_rank);
// Over NCCL (CUDA builds): the unique id goes from rank 0 by MPI broadcast when `mpi` spans the
// ranks, else over the TCP rendezvous at info.master_addr:master_port. `stream` is the CUDA
// stream (cudaStream_t) the backend computes on: reduce-scatters wait for it and run on a second
// stream of the communicator's, the other collectives run on it (see nccl_comm.cc).
std::unique_ptr<DeviceComm> make_nccl_comm(const LaunchInfo& info, Comm* mpi, void* stream);

// The device name for this rank: "cuda" becomes "cuda:<local rank>" in a multi-rank run;
// anything else is returned as given.
std::string rank_device(const std::string& device, const LaunchInfo& info);

// The communicator a run on `device` with this launch uses: local for one rank, MPI on CPU
// (a usage error unless the MPI world matches the launch: env-only launches need a GPU), NCCL on
// CUDA (a usage error in builds without CUDA). `command` names the errors.
std::unique_ptr<DeviceComm> connect(const LaunchInfo& info, const std::string& device, tensor::Backend& backend,
                                    const std::string& command = "train");

}  // namespace nlm::train::dist
