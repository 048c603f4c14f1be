// AdamW as a ZeRO-1 sharded optimizer (see adamw.h). The flat space is ordered by gradient group
// in the order backward finishes them (the final norm and LM head, layers L−1 … 0, embeddings),
// so each group is one contiguous range that can be reduce-scattered as soon as it is final.
// Rank r owns [r·n/R, (r+1)·n/R). The clipping norm sums squares per parameter in parameter
// order, as the unsharded optimizer did, so one rank reproduces it bit for bit.
#include "train/adamw.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "model/safetensors.h"

namespace nlm::train {

using tensor::DType;
using tensor::Tensor;

namespace {

// Llama::set_grad_ready_hook's group of a parameter: its layer, L for the final norm and the
// LM head, −1 for the embeddings (and anything else, reduced last).
int group_of(const std::string& name, int L) {
  const std::string layers = "model.layers.";
  if (name.rfind(layers, 0) == 0) {
    size_t dot = name.find('.', layers.size());
    if (dot != std::string::npos) return std::stoi(name.substr(layers.size(), dot - layers.size()));
  }
  if (name == "model.norm.weight" || name == "lm_head.weight") return L;
  return -1;
}

const char* kStateNames[3] = {"master", "exp_avg", "exp_avg_sq"};

std::string shard_file(int rank, int size) {
  char name[64];
  std::snprintf(name, sizeof name, "optimizer-%05d-of-%05d.safetensors", rank + 1, size);
  return name;
}

}  // namespace

AdamW::AdamW(model::Llama& model, AdamWOptions options, dist::DeviceComm* comm)
    : model_(model), options_(options), comm_(comm) {
  if (!comm_) {
    own_comm_ = dist::make_local_comm();
    comm_ = own_comm_.get();
  }
  auto& be = model_.backend();
  auto& params = model_.params();
  const int L = static_cast<int>(model_.config().num_hidden_layers);
  std::map<int, std::vector<size_t>, std::greater<int>> by_group;
  DType dtype = DType::F32;
  bool first = true;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    if (!p.trainable) continue;
    if (first) dtype = p.value.dtype();
    else if (p.value.dtype() != dtype)
      runtime_error("trainable parameters of different dtypes (" + p.name + ")", "optimizer");
    first = false;
    trained_.push_back(i);
    by_group[group_of(p.name, L)].push_back(i);
  }
  const DType gdt = tensor::accum_dtype(dtype);
  std::map<size_t, int64_t> offset_of;
  for (const auto& [id, members] : by_group) {
    Group g{id, n_, n_};
    for (size_t i : members) {
      offset_of[i] = n_;
      n_ += params[i].value.numel();
    }
    g.end = n_;
    groups_.push_back(g);
  }
  for (size_t i : trained_) offset_.push_back(offset_of[i]);
  const int R = comm_->size(), r = comm_->rank();
  for (int q = 0; q <= R; ++q) bounds_.push_back(n_ * q / R);
  lo_ = bounds_[static_cast<size_t>(r)];
  hi_ = bounds_[static_cast<size_t>(r) + 1];
  const int64_t mine = hi_ - lo_;

  // The parameters and their gradients become views of the flat buffers.
  flat_value_ = be.zeros({std::max<int64_t>(n_, 1)}, dtype).view(0, {n_});
  flat_grad_ = be.zeros({std::max<int64_t>(n_, 1)}, gdt).view(0, {n_});
  for (size_t k = 0; k < trained_.size(); ++k) {
    auto& p = params[trained_[k]];
    Tensor value = flat_value_.view(offset_[k], p.value.shape());
    be.convert(value, p.value);
    p.value = value;
    Tensor grad = flat_grad_.view(offset_[k], p.value.shape());
    if (p.grad.defined()) be.convert(grad, p.grad);
    p.grad = grad;
  }
  if (R > 1 && n_ > 0) comm_->broadcast(flat_value_, 0);
  // Reduced in place: this rank's range of the flat gradients receives the sums (no extra buffer,
  // so gradients cost 4 bytes per parameter whatever the rank count).
  shard_grad_ = flat_grad_.view(lo_, {mine});
  own_master_ = gdt != dtype;
  if (own_master_) {
    master_ = be.zeros({std::max<int64_t>(mine, 1)}, gdt).view(0, {mine});
    if (mine > 0) be.convert(master_, flat_value_.view(lo_, {mine}));
  } else {
    master_ = flat_value_.view(lo_, {mine});
  }
  m_ = be.zeros({std::max<int64_t>(mine, 1)}, gdt).view(0, {mine});
  v_ = be.zeros({std::max<int64_t>(mine, 1)}, gdt).view(0, {mine});
  for (size_t k = 0; k < trained_.size(); ++k) {
    const int64_t b = offset_[k], e = b + params[trained_[k]].value.numel();
    const int64_t s = std::max(b, lo_), t = std::min(e, hi_);
    if (s < t) pieces_.push_back({k, s - b, s - lo_, t - s});
  }
}

std::vector<int64_t> AdamW::counts_of(int64_t begin, int64_t end) const {
  std::vector<int64_t> c;
  for (size_t q = 0; q + 1 < bounds_.size(); ++q)
    c.push_back(std::max<int64_t>(0, std::min(end, bounds_[q + 1]) - std::max(begin, bounds_[q])));
  return c;
}

void AdamW::reduce_range(int64_t begin, int64_t end) {
  if (end <= begin) return;
  const int64_t s = std::min(std::max(begin, lo_), hi_), t = std::max(s, std::min(end, hi_));
  Tensor part = shard_grad_.view(s - lo_, {t - s});
  comm_->reduce_scatter_sum(flat_grad_.view(begin, {end - begin}), part, counts_of(begin, end));
}

void AdamW::grads_ready(int group) {
  if (comm_->size() == 1) return;
  for (auto& g : groups_)
    if (g.id == group && !g.reduced) {
      reduce_range(g.begin, g.end);
      g.reduced = true;
    }
}

double AdamW::step(double lr) {
  auto& be = model_.backend();
  auto& params = model_.params();
  if (comm_->size() > 1)
    for (auto& g : groups_) {
      if (!g.reduced) reduce_range(g.begin, g.end);
      g.reduced = false;
    }
  // The reduce-scatters may still run on the communicator's own stream (NCCL): everything below
  // reads the reduced shards, and the next step's zero_grad writes the gradients again.
  comm_->wait_for_pending();
  std::vector<double> sq = {0};
  for (const Piece& pc : pieces_) sq[0] += be.sum_squares(shard_grad_.view(pc.local, {pc.n}));
  comm_->all_reduce_sum(sq);
  const double norm = std::sqrt(sq[0]);
  if (options_.grad_clip > 0 && norm > options_.grad_clip)
    for (const Piece& pc : pieces_) {
      Tensor g = shard_grad_.view(pc.local, {pc.n});
      be.scale(g, options_.grad_clip / norm);
    }
  ++t_;
  for (const Piece& pc : pieces_) {
    const auto& p = params[trained_[pc.k]];
    double wd = (p.is_norm_or_bias && !options_.decay_norms_and_biases) ? 0.0 : options_.weight_decay;
    Tensor w = master_.view(pc.local, {pc.n}), m = m_.view(pc.local, {pc.n}), v = v_.view(pc.local, {pc.n});
    be.adamw_update(w, shard_grad_.view(pc.local, {pc.n}), m, v, lr, options_.beta1, options_.beta2, options_.eps,
                    wd, t_);
  }
  Tensor mine = flat_value_.view(lo_, {hi_ - lo_});
  if (own_master_ && hi_ > lo_) be.convert(mine, master_);
  if (comm_->size() > 1) comm_->all_gather(mine, flat_value_, counts_of(0, n_));
  return norm;
}

void AdamW::save(const std::string& path) const {
  if (comm_->size() != 1) runtime_error("AdamW::save writes one rank's state; use save_dir", "optimizer");
  auto& be = model_.backend();
  std::vector<std::vector<float>> host;
  std::vector<model::SafetensorsTensor> tensors;
  host.reserve(3 * pieces_.size());
  for (const Piece& pc : pieces_) {
    const auto& p = model_.params()[trained_[pc.k]];
    for (int k = own_master_ ? 0 : 1; k < 3; ++k) {
      const Tensor& t = k == 0 ? master_ : k == 1 ? m_ : v_;
      host.emplace_back(static_cast<size_t>(pc.n));
      be.download(t.view(pc.local, {pc.n}), host.back().data(), DType::F32);
      tensors.push_back({p.name + "." + kStateNames[k], DType::F32, p.value.shape(), host.back().data()});
    }
  }
  model::write_safetensors(path, tensors, {{"step", std::to_string(t_)}});
}

void AdamW::upload_range(int which, int64_t local, int64_t n, const float* data) {
  Tensor& t = which == 0 ? master_ : which == 1 ? m_ : v_;
  Tensor part = t.view(local, {n});
  model_.backend().upload(part, data, DType::F32);
}

void AdamW::load(const std::string& path, int64_t steps) {
  model::SafetensorsReader r(path);
  auto& be = model_.backend();
  for (const Piece& pc : pieces_) {
    const auto& p = model_.params()[trained_[pc.k]];
    for (int k = 0; k < 3; ++k) {
      std::string name = p.name + "." + kStateNames[k];
      const auto* e = r.find(name);
      if (k == 0) {
        // Master weights: saved when they differ from the weights, else the (loaded) weights.
        if (own_master_ && e && e->shape == p.value.shape() && e->dtype == DType::F32)
          upload_range(0, pc.local, pc.n, reinterpret_cast<const float*>(r.data(*e)) + pc.in_param);
        else if (own_master_) {
          Tensor w = master_.view(pc.local, {pc.n});
          be.convert(w, flat_value_.view(lo_ + pc.local, {pc.n}));
        }
        continue;
      }
      if (!e || e->shape != p.value.shape() || e->dtype != DType::F32)
        usage_error("optimizer state '" + name + "' is missing or has the wrong shape", path,
                    "the checkpoint belongs to a different model");
      upload_range(k, pc.local, pc.n, reinterpret_cast<const float*>(r.data(*e)) + pc.in_param);
    }
  }
  t_ = steps;
}

void AdamW::save_dir(const std::string& dir) const {
  const int R = comm_->size(), rank = comm_->rank();
  if (R == 1) {
    save(dir + "/optimizer.safetensors");
    return;
  }
  auto& be = model_.backend();
  const int64_t mine = hi_ - lo_;
  if (mine > 0) {
    std::vector<std::vector<float>> host(3, std::vector<float>(static_cast<size_t>(mine)));
    std::vector<model::SafetensorsTensor> tensors;
    for (int k = 0; k < 3; ++k) {
      const Tensor& t = k == 0 ? master_ : k == 1 ? m_ : v_;
      be.download(t, host[static_cast<size_t>(k)].data(), DType::F32);
      tensors.push_back({kStateNames[k], DType::F32, {mine}, host[static_cast<size_t>(k)].data()});
    }
    model::write_safetensors(dir + "/" + shard_file(rank, R), tensors,
                             {{"step", std::to_string(t_)}, {"begin", std::to_string(lo_)}, {"end", std::to_string(hi_)}});
  }
  if (rank != 0) return;
  nlohmann::json j;
  j["format"] = "nativelm-zero1";
  j["step"] = t_;
  j["flat_size"] = n_;
  j["params"] = nlohmann::json::array();
  for (size_t k = 0; k < trained_.size(); ++k) {
    const auto& p = model_.params()[trained_[k]];
    j["params"].push_back({{"name", p.name}, {"offset", offset_[k]}, {"numel", p.value.numel()}});
  }
  j["shards"] = nlohmann::json::array();
  for (int q = 0; q < R; ++q)
    if (bounds_[static_cast<size_t>(q) + 1] > bounds_[static_cast<size_t>(q)])
      j["shards"].push_back({{"file", shard_file(q, R)},
                             {"begin", bounds_[static_cast<size_t>(q)]},
                             {"end", bounds_[static_cast<size_t>(q) + 1]}});
  write_file_atomic(dir + "/optimizer.index.json", j.dump(1) + "\n");
}

void AdamW::load_dir(const std::string& dir, int64_t steps) {
  const std::string index = dir + "/optimizer.index.json";
  if (!std::filesystem::exists(index)) {
    load(dir + "/optimizer.safetensors", steps);
    return;
  }
  struct Saved {
    int64_t offset, numel;
  };
  struct Shard {
    std::string file;
    int64_t begin, end;
  };
  std::map<std::string, Saved> saved;
  std::vector<Shard> shards;
  try {
    std::string text = read_file(index);
    check_json_depth(text, index);
    auto j = nlohmann::json::parse(text);
    for (const auto& p : j.at("params")) saved[p.at("name").get<std::string>()] = {p.at("offset"), p.at("numel")};
    for (const auto& s : j.at("shards")) shards.push_back({s.at("file").get<std::string>(), s.at("begin"), s.at("end")});
  } catch (const nlohmann::json::exception& e) {
    runtime_error(std::string("corrupt optimizer index: ") + e.what(), index,
                  "delete this checkpoint to resume from an older one");
  }
  std::map<std::string, std::unique_ptr<model::SafetensorsReader>> readers;
  for (const Piece& pc : pieces_) {
    const auto& p = model_.params()[trained_[pc.k]];
    auto it = saved.find(p.name);
    if (it == saved.end() || it->second.numel != p.value.numel())
      usage_error("optimizer state of '" + p.name + "' is missing or has the wrong size", index,
                  "the checkpoint belongs to a different model");
    const int64_t from = it->second.offset + pc.in_param, to = from + pc.n;
    std::vector<std::vector<float>> host(3, std::vector<float>(static_cast<size_t>(pc.n)));
    int64_t covered = 0;
    for (const Shard& s : shards) {
      const int64_t a = std::max(from, s.begin), b = std::min(to, s.end);
      if (a >= b) continue;
      auto& rd = readers[s.file];
      if (!rd) rd = std::make_unique<model::SafetensorsReader>(dir + "/" + s.file);
      for (int k = 0; k < 3; ++k) {
        const auto* e = rd->find(kStateNames[k]);
        if (!e || e->dtype != DType::F32 || e->shape != tensor::Shape{s.end - s.begin})
          runtime_error(std::string("optimizer shard lacks '") + kStateNames[k] + "' of its range", rd->path(),
                        "delete this checkpoint to resume from an older one");
        const float* src = reinterpret_cast<const float*>(rd->data(*e)) + (a - s.begin);
        std::copy(src, src + (b - a), host[static_cast<size_t>(k)].begin() + (a - from));
      }
      covered += b - a;
    }
    if (covered != pc.n)
      runtime_error("optimizer shards do not cover '" + p.name + "'", index,
                    "delete this checkpoint to resume from an older one");
    for (int k = own_master_ ? 0 : 1; k < 3; ++k) upload_range(k, pc.local, pc.n, host[static_cast<size_t>(k)].data());
  }
  t_ = steps;
}

}  // namespace nlm::train
