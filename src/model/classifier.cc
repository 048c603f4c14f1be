// The chunked LM head + cross-entropy (see classifier.h).
#include "model/classifier.h"

#include <algorithm>

namespace nlm::model {

using tensor::DType;
using tensor::Tensor;

int64_t classifier_chunk_rows(int64_t requested, int64_t N, int64_t V, DType dtype) {
  int64_t rows = requested;
  if (rows <= 0) {
    const int64_t row_bytes = std::max<int64_t>(1, V) * static_cast<int64_t>(tensor::dtype_size(dtype));
    rows = std::max(kClassifierMinRows, kClassifierChunkBytes / row_bytes);
  }
  return std::max<int64_t>(1, std::min(rows, N));
}

namespace {

// Calls f(first row, rows) for each chunk of at most R of the N rows, in order.
template <class F>
void for_chunks(int64_t N, int64_t R, F f) {
  for (int64_t r0 = 0; r0 < N; r0 += R) f(r0, std::min(R, N - r0));
}

// dst[n,:] = src[n,:] · w[n] for the rows of src ([N, C]), through the host.
void scale_rows(tensor::Backend& be, Tensor& dst, const Tensor& src, const std::vector<double>& w) {
  const int64_t N = src.dim(0), C = src.numel() / std::max<int64_t>(1, N);
  std::vector<double> d(static_cast<size_t>(src.numel()));
  be.download(src, d.data(), DType::F64);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) d[static_cast<size_t>(n * C + c)] *= w[static_cast<size_t>(n)];
  be.upload(dst, d.data(), DType::F64);
}

}  // namespace

void Classifier::loss(Tensor& losses, float* logits_out) const {
  const int64_t N = h.dim(0), C = h.dim(1), V = weight.dim(0);
  for_chunks(N, chunk.dim(0), [&](int64_t r0, int64_t n) {
    Tensor logits = chunk.view(0, {n, V}), l = losses.view(r0, {n});
    be.matmul_forward(logits, h.view(r0 * C, {n, C}), weight, nullptr);
    be.cross_entropy_forward(l, logits, targets.view(r0, {n}));
    if (logits_out) be.download(logits, logits_out + r0 * V, DType::F32);
  });
}

void Classifier::logits(float* out) const {
  const int64_t N = h.dim(0), C = h.dim(1), V = weight.dim(0);
  for_chunks(N, chunk.dim(0), [&](int64_t r0, int64_t n) {
    Tensor logits = chunk.view(0, {n, V});
    be.matmul_forward(logits, h.view(r0 * C, {n, C}), weight, nullptr);
    be.download(logits, out + r0 * V, DType::F32);
  });
}

void Classifier::backward(Tensor& dh, Tensor* dweight, double scale, const std::vector<double>* row_weights,
                          Tensor* losses) const {
  const int64_t N = h.dim(0), C = h.dim(1), V = weight.dim(0);
  // Row weights scale the rows of dlogits. Instead of taking N·V values through the host, scale the
  // N·C rows of h for dW (dlogitsᵀ·diag(w)·h) here and of dh (diag(w)·dlogits·W) at the end.
  Tensor hw = h;
  if (row_weights) {
    hw = be.empty(h.shape(), h.dtype());
    scale_rows(be, hw, h, *row_weights);
  }
  for_chunks(N, chunk.dim(0), [&](int64_t r0, int64_t n) {
    Tensor logits = chunk.view(0, {n, V}), tg = targets.view(r0, {n}), dhc = dh.view(r0 * C, {n, C});
    const Tensor hc = h.view(r0 * C, {n, C});
    be.matmul_forward(logits, hc, weight, nullptr);
    if (losses) {
      Tensor l = losses->view(r0, {n});
      be.cross_entropy_forward(l, logits, tg);
    }
    be.cross_entropy_backward(logits, logits, tg, scale);  // in place: logits become dlogits
    be.matmul_backward(&dhc, dweight, nullptr, logits, row_weights ? hw.view(r0 * C, {n, C}) : hc, weight, false);
  });
  if (row_weights) scale_rows(be, dh, dh, *row_weights);
}

void Classifier::backward_from(const float* dlogits, Tensor& dh, Tensor* dweight) const {
  const int64_t N = h.dim(0), C = h.dim(1), V = weight.dim(0);
  for_chunks(N, chunk.dim(0), [&](int64_t r0, int64_t n) {
    Tensor d = chunk.view(0, {n, V}), dhc = dh.view(r0 * C, {n, C});
    be.upload(d, dlogits + r0 * V, DType::F32);
    be.matmul_backward(&dhc, dweight, nullptr, d, h.view(r0 * C, {n, C}), weight, false);
  });
}

}  // namespace nlm::model
