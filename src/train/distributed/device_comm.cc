// The local and MPI communicators, and the choice between them and NCCL (see device_comm.h).
// The MPI path stages through host memory in F32: exact for F32 and lossless for BF16 values.
#include "train/distributed/device_comm.h"

#include "core/comm.h"
#include "core/error.h"
#include "tensor/backend.h"

#ifdef NATIVELM_HAS_NCCL
#include "tensor/cuda/cuda_backend.h"
#endif

namespace nlm::train::dist {
namespace {

using tensor::DType;
using tensor::Tensor;

class LocalComm final : public DeviceComm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  std::string name() const override { return "local"; }
  void all_reduce_sum(Tensor&) override {}
  void all_reduce_sum(std::vector<double>&) override {}
  void reduce_scatter_sum(const Tensor& flat, Tensor& shard, const std::vector<int64_t>& counts) override {
    if (counts.size() != 1 || flat.numel() != counts[0] || shard.numel() != counts[0])
      runtime_error("reduce_scatter_sum: counts do not match the tensors", "comm");
    if (flat.raw() != shard.raw()) flat.backend().convert(shard, flat);
  }
  void all_gather(const Tensor& shard, Tensor& flat, const std::vector<int64_t>& counts) override {
    if (counts.size() != 1 || flat.numel() != counts[0] || shard.numel() != counts[0])
      runtime_error("all_gather: counts do not match the tensors", "comm");
    if (flat.raw() != shard.raw()) flat.backend().convert(flat, shard);
  }
  void broadcast(Tensor&, int) override {}
  void barrier() override {}
};

class MpiComm final : public DeviceComm {
 public:
  MpiComm(Comm& comm, int local_rank) : comm_(comm), local_rank_(local_rank) {}
  int rank() const override { return comm_.rank(); }
  int size() const override { return comm_.size(); }
  int local_rank() const override { return local_rank_; }
  std::string name() const override { return "mpi"; }

  void all_reduce_sum(Tensor& t) override {
    std::vector<float> h = host(t);
    comm_.allreduce_sum(h.data(), h.size());
    t.backend().upload(t, h.data(), DType::F32);
  }
  void all_reduce_sum(std::vector<double>& values) override { comm_.allreduce_sum(values.data(), values.size()); }
  void reduce_scatter_sum(const Tensor& flat, Tensor& shard, const std::vector<int64_t>& counts) override {
    check(counts, flat, shard, "reduce_scatter_sum");
    std::vector<float> in = host(flat), out(static_cast<size_t>(shard.numel()) + 1);
    comm_.reduce_scatter_sum(in.data(), out.data(), counts);
    if (shard.numel() > 0) shard.backend().upload(shard, out.data(), DType::F32);
  }
  void all_gather(const Tensor& shard, Tensor& flat, const std::vector<int64_t>& counts) override {
    check(counts, flat, shard, "all_gather");
    std::vector<float> mine = host(shard), all(static_cast<size_t>(flat.numel()) + 1);
    comm_.allgatherv(mine.data(), all.data(), counts);
    flat.backend().upload(flat, all.data(), DType::F32);
  }
  void broadcast(Tensor& t, int root) override {
    std::vector<float> h = host(t);
    comm_.broadcast(h.data(), h.size() * sizeof(float), root);
    t.backend().upload(t, h.data(), DType::F32);
  }
  void barrier() override { comm_.barrier(); }

 private:
  static std::vector<float> host(const Tensor& t) {
    std::vector<float> h(static_cast<size_t>(t.numel()) + 1);  // +1: a valid pointer when empty
    h.resize(static_cast<size_t>(t.numel()));
    if (t.numel() > 0) t.backend().download(t, h.data(), DType::F32);
    return h;
  }
  void check(const std::vector<int64_t>& counts, const Tensor& flat, const Tensor& shard, const char* what) const {
    int64_t total = 0;
    for (int64_t c : counts) total += c;
    if (counts.size() != static_cast<size_t>(size()) || total != flat.numel() ||
        shard.numel() != counts[static_cast<size_t>(rank())])
      runtime_error(std::string(what) + ": counts do not match the tensors", "comm");
  }
  Comm& comm_;
  int local_rank_;
};

}  // namespace

std::unique_ptr<DeviceComm> make_local_comm() { return std::make_unique<LocalComm>(); }

std::unique_ptr<DeviceComm> make_mpi_comm(Comm& comm, int local_rank) {
  return std::make_unique<MpiComm>(comm, local_rank);
}

std::string rank_device(const std::string& device, const LaunchInfo& info) {
  if (device == "cuda" && info.distributed()) return "cuda:" + std::to_string(info.local_rank);
  return device;
}

#ifndef NATIVELM_HAS_NCCL
std::unique_ptr<DeviceComm> make_nccl_comm(const LaunchInfo&, Comm*, void*) {
  usage_error("data parallel on GPUs needs a CUDA build with NCCL", "launch",
              "configure with -DNATIVELM_CUDA=ON where nccl.h and libnccl are installed");
}
#endif

std::unique_ptr<DeviceComm> connect(const LaunchInfo& info, const std::string& device,
                                    [[maybe_unused]] tensor::Backend& backend, const std::string& command) {
  if (!info.distributed()) return make_local_comm();
  Comm& world = Comm::world();
  const bool mpi_up = world.size() == info.world_size && world.rank() == info.rank && world.size() > 1;
  if (device.rfind("cuda", 0) == 0) {
    void* stream = nullptr;  // the backend's: NCCL's collectives are ordered against it
#ifdef NATIVELM_HAS_NCCL
    if (auto* cuda = dynamic_cast<tensor::cuda::CudaBackend*>(&backend)) stream = cuda->stream();
#endif
    return make_nccl_comm(info, mpi_up ? &world : nullptr, stream);
  }
  if (!mpi_up)
    usage_error("data parallel on " + device + " runs over MPI, but this process (" + info.describe() +
                    ") is not part of an MPI world of " + std::to_string(info.world_size) + " ranks",
                command,
                "launch CPU ranks with mpirun -np N or srun --mpi=pmix; RANK/WORLD_SIZE alone work only with --device cuda");
  return make_mpi_comm(world, info.local_rank);
}

}  // namespace nlm::train::dist
