// AdamW with decoupled weight decay (Loshchilov & Hutter), global-norm gradient clipping, and
// no decay on norms and biases by default, as a ZeRO-1 sharded optimizer (Megatron's
// distributed optimizer): the trainable parameters and their gradients live in one flat buffer
// each (the model's Param::value and ::grad become views of them), each rank owns a contiguous
// shard of that flat space and keeps the AdamW state (fp32 master weights, m, v) for it only.
// A step reduce-scatters the gradients (per layer during backward through grads_ready(), the
// rest in step()), clips by the global norm, updates the shard, converts it to the parameters'
// dtype and all-gathers the parameters. Memory per parameter with bf16 weights and fp32 grads:
// 2 (weights) + 4 (grads) + 12/ranks (master, m, v). With F32 parameters the master weights are
// the parameters themselves, so one rank is exactly the unsharded AdamW it replaced.
// Checkpoints: optimizer.safetensors per parameter with one rank (the format older runs wrote),
// per-rank flat shards plus optimizer.index.json with several; either loads on any rank count.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/llama.h"
#include "train/distributed/device_comm.h"

namespace nlm::train {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  // Decoupled weight decay, applied as p -= lr·wd·p.
  double weight_decay = 0.1;
  // Apply weight decay to RMSNorm weights and biases too (off, as is usual).
  bool decay_norms_and_biases = false;
  // Clip the global gradient L2 norm to this (0 = off).
  double grad_clip = 1.0;
};

class AdamW {
 public:
  // `comm` spans the data-parallel ranks (nullptr = one rank); it must outlive the optimizer.
  // Every rank's model must hold the same weights (rank 0's are broadcast to make sure).
  AdamW(model::Llama& model, AdamWOptions options, dist::DeviceComm* comm = nullptr);
  // Reduces the gradients not yet reduced, clips, updates every parameter at learning rate lr,
  // advances the step; returns the global gradient norm before clipping.
  double step(double lr);
  int64_t steps() const { return t_; }
  dist::DeviceComm& comm() const { return *comm_; }

  // Gradient group `group` (Llama::set_grad_ready_hook's numbering) is final on this rank:
  // reduce-scatters its slice of the flat gradients now (every rank calls it in the same order).
  void grads_ready(int group);

  // One file, one rank only: exp_avg and exp_avg_sq per parameter (and .master when the
  // parameters are not F32).
  void save(const std::string& path) const;
  // Throws a usage error if the file does not match the model's parameters.
  void load(const std::string& path, int64_t steps);
  // A checkpoint folder's optimizer files, written by every rank together (see the top comment),
  // and read back on any rank count; load_dir falls back to the one-file format.
  void save_dir(const std::string& dir) const;
  void load_dir(const std::string& dir, int64_t steps);

  // This rank's flat range [begin, end) of flat_size() parameters.
  int64_t shard_begin() const { return lo_; }
  int64_t shard_end() const { return hi_; }
  int64_t flat_size() const { return n_; }

 private:
  struct Piece {  // one parameter's part of this rank's shard
    size_t k;           // index into trained_
    int64_t in_param;   // first element within the parameter
    int64_t local;      // first element within the shard
    int64_t n;
  };
  struct Group {
    int id;
    int64_t begin, end;  // flat range
    bool reduced = false;
  };
  void reduce_range(int64_t begin, int64_t end);
  std::vector<int64_t> counts_of(int64_t begin, int64_t end) const;
  // Copies [begin, end) of the flat state (master, m, v) in from host arrays (F32).
  void upload_range(int which, int64_t begin, int64_t end, const float* data);

  model::Llama& model_;
  AdamWOptions options_;
  std::unique_ptr<dist::DeviceComm> own_comm_;
  dist::DeviceComm* comm_ = nullptr;
  std::vector<size_t> trained_;   // indices of the model's trainable params (all but LoRA-frozen ones)
  std::vector<int64_t> offset_;   // flat offset of each trained_ param
  std::vector<Group> groups_;     // in the order backward finishes them
  std::vector<Piece> pieces_;     // in parameter order
  int64_t n_ = 0, lo_ = 0, hi_ = 0;
  std::vector<int64_t> bounds_;   // rank r owns [bounds_[r], bounds_[r+1])
  tensor::Tensor flat_value_, flat_grad_, shard_grad_, master_, m_, v_;
  bool own_master_ = false;  // master_ is a buffer of its own (params not in the accum dtype)
  int64_t t_ = 0;
};

}  // namespace nlm::train
