// AdamW (see adamw.h).
#include "train/adamw.h"

#include <cmath>

#include "core/error.h"
#include "model/safetensors.h"

namespace nlm::train {

using tensor::DType;

AdamW::AdamW(model::Llama& model, AdamWOptions options) : model_(model), options_(options) {
  for (size_t i = 0; i < model_.params().size(); ++i) {
    const auto& p = model_.params()[i];
    if (!p.trainable) continue;
    trained_.push_back(i);
    m_.push_back(model_.backend().zeros(p.value.shape(), p.value.dtype()));
    v_.push_back(model_.backend().zeros(p.value.shape(), p.value.dtype()));
  }
}

double AdamW::step(double lr) {
  auto& be = model_.backend();
  auto& params = model_.params();
  double sq = 0;
  for (size_t i : trained_) sq += be.sum_squares(params[i].grad);
  const double norm = std::sqrt(sq);
  if (options_.grad_clip > 0 && norm > options_.grad_clip)
    for (size_t i : trained_) be.scale(params[i].grad, options_.grad_clip / norm);
  ++t_;
  for (size_t k = 0; k < trained_.size(); ++k) {
    auto& p = params[trained_[k]];
    double wd = (p.is_norm_or_bias && !options_.decay_norms_and_biases) ? 0.0 : options_.weight_decay;
    be.adamw_update(p.value, p.grad, m_[k], v_[k], lr, options_.beta1, options_.beta2, options_.eps, wd, t_);
  }
  return norm;
}

void AdamW::save(const std::string& path) const {
  auto& be = model_.backend();
  std::vector<std::vector<float>> host;
  std::vector<model::SafetensorsTensor> tensors;
  host.reserve(2 * m_.size());
  for (size_t i = 0; i < m_.size(); ++i) {
    const auto& p = model_.params()[trained_[i]];
    for (int k = 0; k < 2; ++k) {
      const tensor::Tensor& t = k == 0 ? m_[i] : v_[i];
      host.emplace_back(static_cast<size_t>(t.numel()));
      be.download(t, host.back().data(), DType::F32);
      tensors.push_back({p.name + (k == 0 ? ".exp_avg" : ".exp_avg_sq"), DType::F32, t.shape(),
                         host.back().data()});
    }
  }
  model::write_safetensors(path, tensors, {{"step", std::to_string(t_)}});
}

void AdamW::load(const std::string& path, int64_t steps) {
  model::SafetensorsReader r(path);
  auto& be = model_.backend();
  for (size_t i = 0; i < m_.size(); ++i) {
    const auto& p = model_.params()[trained_[i]];
    for (int k = 0; k < 2; ++k) {
      tensor::Tensor& t = k == 0 ? m_[i] : v_[i];
      std::string name = p.name + (k == 0 ? ".exp_avg" : ".exp_avg_sq");
      const auto* e = r.find(name);
      if (!e || e->shape != t.shape() || e->dtype != DType::F32)
        usage_error("optimizer state '" + name + "' is missing or has the wrong shape", path,
                    "the checkpoint belongs to a different model");
      be.upload(t, r.data(*e), DType::F32);
    }
  }
  t_ = steps;
}

}  // namespace nlm::train
