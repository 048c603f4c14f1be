// The inference forward over a preallocated KV cache. q/k/v and gate/up are packed as one
// matrix each, so a layer is four matrix products (each split over the threads by output rows)
// plus row-local norms, RoPE and attention. Every buffer is sized in the constructor.
#include "model/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <omp.h>
#include <string>

#include "core/error.h"
#include "core/runtime.h"
#include "model/llama.h"
#include "model/rope_table.h"
#include "tensor/cpu/kernels.h"
#include "tensor/cpu/vector_math.h"

namespace nlm::model {

using tensor::cpu::PackedMatrix;
using tensor::cpu::packed_linear;

struct Decoder::Layer {
  PackedMatrix qkv, o, gate_up, down;
  std::vector<float> ln1, ln2, qkv_bias;  // qkv_bias empty without attention_bias
};

namespace {

void rmsnorm_row(float* y, const float* x, const float* w, int64_t C, float eps) {
  float ss = 0;
#pragma omp simd reduction(+ : ss)
  for (int64_t c = 0; c < C; ++c) ss += x[c] * x[c];
  const float r = 1.0f / std::sqrt(ss / float(C) + eps);
  for (int64_t c = 0; c < C; ++c) y[c] = x[c] * r * w[c];
}

// In a one-row team step, the last 1/kPooledShare of each product's rows (F32, BF16 and FP8
// weights) go in chunks of 16 to whichever thread is free. On this 2-core VM one core often runs
// a few percent slower than the other for a while, and with equal static shares the faster one
// waited at every barrier: a quarter pooled made a 10M F32 token 1-4 % faster then, and cost
// nothing measurable when the cores ran alike (all-dynamic chunks lost 5 %). Steps of several
// rows (batched slots) multiply more per weight byte and lost 4 % to the chunks; they, and int8
// and int4 weights (each call quantises the input rows again), keep static shares.
constexpr int64_t kPooledShare = 4;

// Thread t's share of [0, total) among T, in whole units of `align` (16 floats: one cache line,
// so no two threads write the same line).
struct Span {
  int64_t begin, end;
};
Span share(int64_t total, int64_t align, int t, int T) {
  const int64_t units = (total + align - 1) / align;
  return {std::min(total, units * t / T * align), std::min(total, units * (t + 1) / T * align)};
}

// One head, in HF's rotate_half layout: element i pairs with i + hs/2.
void rope_head(float* x, int64_t hs, const float* cs, const float* sn) {
  const int64_t half = hs / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float a = x[i], b = x[i + half];
    x[i] = a * cs[i] - b * sn[i];
    x[i + half] = b * cs[i] + a * sn[i];
  }
}

// Whether the rows are one slot's consecutive positions (a prompt chunk).
template <class Row>
bool prompt_rows(const Row* rows, int n) {
  for (int i = 1; i < n; ++i)
    if (rows[i].slot != rows[0].slot || rows[i].pos != rows[0].pos + i) return false;
  return true;
}

}  // namespace

Decoder::Decoder(const Llama& model, const DecoderOptions& options, QuantizedLinears quantized_linears)
    : config_(model.config()), options_(options) {
  if (model.lora().enabled())
    usage_error("the model has unmerged LoRA adapters", "decoder", "merge them first (nativelm merge)");
  if (options_.prefill_chunk < 1) options_.prefill_chunk = 256;
  const ModelConfig& c = config_;
  const int64_t C = c.hidden_size, I = c.intermediate_size, NH = c.num_attention_heads,
                NKV = c.num_key_value_heads, hs = c.hs(), V = c.vocab_size, L = c.num_hidden_layers;
  init_slots(options_.slots, options_.context > 0 ? options_.context : static_cast<int>(c.max_position_embeddings));
  threads_ = options_.threads > 0 ? options_.threads : thread_count();
  const auto fmt = options_.weights;

  std::map<std::string, const Param*> by_name;
  for (const Param& p : model.params()) by_name[p.name] = &p;
  auto host = [&](const std::string& name) {
    auto it = by_name.find(name);
    if (it == by_name.end()) runtime_error("model has no parameter " + name, "decoder");
    const tensor::Tensor& t = it->second->value;
    std::vector<float> v(static_cast<size_t>(t.numel()));
    model.backend().download(t, v.data(), tensor::DType::F32);
    return v;
  };
  auto append = [](std::vector<float>& dst, const std::vector<float>& src) { dst.insert(dst.end(), src.begin(), src.end()); };

  // A quantised folder's linears come packed as stored; q/k/v and gate/up must all be (or none).
  const auto* quantized = quantized_linears.get();
  auto pack = [&](const std::vector<std::string>& names, int64_t rows, int64_t cols) {
    size_t found = 0;
    std::vector<const PackedMatrix*> parts;
    for (const auto& n : names)
      if (quantized && quantized->count(n)) {
        ++found;
        parts.push_back(&quantized->at(n));
      }
    if (found == names.size()) {
      PackedMatrix m = parts.size() == 1 ? *parts[0] : PackedMatrix::concat_rows(parts);
      if (m.rows != rows || m.cols != cols) runtime_error("quantised " + names[0] + " has the wrong shape", "decoder");
      return m;
    }
    if (found) runtime_error("only some of " + names[0] + " and its siblings are quantised", "decoder",
                             "quantise the model again with nativelm quantize");
    std::vector<float> w;
    for (const auto& n : names) append(w, host(n));
    return PackedMatrix::pack(w.data(), rows, cols, fmt);
  };

  layers_.resize(static_cast<size_t>(L));
  for (int64_t l = 0; l < L; ++l) {
    Layer& y = layers_[static_cast<size_t>(l)];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    y.qkv = pack({p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"},
                 (NH + 2 * NKV) * hs, C);
    if (c.attention_bias) {
      y.qkv_bias = host(p + "self_attn.q_proj.bias");
      append(y.qkv_bias, host(p + "self_attn.k_proj.bias"));
      append(y.qkv_bias, host(p + "self_attn.v_proj.bias"));
    }
    y.o = pack({p + "self_attn.o_proj.weight"}, C, NH * hs);
    y.gate_up = pack({p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"}, 2 * I, C);
    y.down = pack({p + "mlp.down_proj.weight"}, C, I);
    y.ln1 = host(p + "input_layernorm.weight");
    y.ln2 = host(p + "post_attention_layernorm.weight");
  }
  std::vector<float> w = host("model.embed_tokens.weight");
  embed_ = PackedMatrix::pack(w.data(), V, C, fmt);
  tied_ = c.tie_word_embeddings || !by_name.count("lm_head.weight");
  if (!tied_) {
    w = host("lm_head.weight");
    head_ = PackedMatrix::pack(w.data(), V, C, fmt);
  }
  final_norm_ = host("model.norm.weight");
  rope_tables(c, ctx_, cos_, sin_);

  const size_t per_slot = static_cast<size_t>(L) * 2 * static_cast<size_t>(ctx_) * static_cast<size_t>(NKV * hs);
  cache_.assign(per_slot * static_cast<size_t>(options_.slots), 0.0f);
  cap_ = std::max(options_.prefill_chunk, options_.slots);
  const size_t cap = static_cast<size_t>(cap_);
  rows_.resize(cap);
  want_.resize(cap);
  for (size_t i = 0; i < cap; ++i) want_[i] = static_cast<int>(i);  // a step wants every row's logits
  x_.resize(cap * C);
  ln_.resize(cap * C);
  q_.resize(cap * (NH + 2 * NKV) * hs);  // q, k, v of a row side by side
  att_.resize(cap * NH * hs);
  gate_.resize(cap * 2 * I);  // gate, up of a row side by side
  up_.resize(cap * I);        // the SwiGLU output h
  k_.resize(cap * C);         // o_proj / down_proj outputs before the residual add
  lnf_.resize(cap * C);
  scores_.resize(static_cast<size_t>(threads_) * static_cast<size_t>(ctx_));
  if (threads_ > 1) lnt_.resize(static_cast<size_t>(threads_) * cap * C);
  pool_next_ = std::vector<std::atomic<int64_t>>(4 * static_cast<size_t>(L) + 1);
}

Decoder::~Decoder() = default;

size_t Decoder::weight_bytes() const {
  size_t b = embed_.bytes() + head_.bytes() + final_norm_.size() * 4;
  for (const Layer& l : layers_)
    b += l.qkv.bytes() + l.o.bytes() + l.gate_up.bytes() + l.down.bytes() +
         (l.ln1.size() + l.ln2.size() + l.qkv_bias.size()) * 4;
  return b;
}

size_t Decoder::cache_bytes() const { return cache_.size() * sizeof(float); }

std::string Decoder::describe() const {
  char buf[200];
  std::snprintf(buf, sizeof buf, "%s weights (%.1f MB), %d slots of %d positions (KV cache %.1f MB), %s kernels",
                tensor::cpu::weight_format_name(options_.weights), double(weight_bytes()) / 1e6, slots(), context(),
                double(cache_bytes()) / 1e6, tensor::cpu::packed_linear_isa());
  return buf;
}

float* Decoder::kv(int slot, int l, bool v, int64_t kh) const {
  const size_t head = static_cast<size_t>(ctx_) * static_cast<size_t>(config_.hs());
  const size_t plane = head * static_cast<size_t>(config_.num_key_value_heads);
  const size_t off = ((static_cast<size_t>(slot) * layers_.size() + static_cast<size_t>(l)) * 2 + (v ? 1 : 0)) * plane +
                     static_cast<size_t>(kh) * head;
  return const_cast<float*>(cache_.data()) + off;
}

void Decoder::prefill(int slot, const int32_t* ids, int n, float* logits, bool every_row) {
  check_feed(slot, ids, n);
  const int have = length(slot);
  for (int start = 0; start < n; start += cap_) {
    const int m = std::min(cap_, n - start);
    for (int i = 0; i < m; ++i) rows_[static_cast<size_t>(i)] = {slot, have + start + i, ids[start + i]};
    const bool last = start + m == n;
    const int want = m - 1;
    if (every_row)
      forward(rows_.data(), m, want_.data(), m, logits + int64_t(start) * vocab_size(), m >= 16);
    else
      forward(rows_.data(), m, &want, last ? 1 : 0, logits, m >= 16);
    auto& cached = tokens_[static_cast<size_t>(slot)];
    cached.insert(cached.end(), ids + start, ids + start + m);
  }
}

void Decoder::step(const int32_t* slots, const int32_t* ids, int n, float* logits) {
  if (n < 1) return;
  if (n > cap_) runtime_error("step of " + std::to_string(n) + " rows exceeds " + std::to_string(cap_), "decoder");
  check_step(slots, ids, n);
  for (int i = 0; i < n; ++i) rows_[static_cast<size_t>(i)] = {slots[i], length(slots[i]), ids[i]};
  forward(rows_.data(), n, want_.data(), n, logits, false);
  for (int i = 0; i < n; ++i) tokens_[static_cast<size_t>(slots[i])].push_back(ids[i]);
}

void Decoder::attend(int l, const Row& r, int i, int64_t h, float* sc) {
  const int64_t NH = config_.num_attention_heads, NKV = config_.num_key_value_heads, hs = config_.hs();
  const int64_t kh = h / (NH / NKV), qkv = (NH + 2 * NKV) * hs;
  tensor::cpu::attention_row(q_.data() + i * qkv + h * hs, kv(r.slot, l, false, kh), kv(r.slot, l, true, kh), hs, hs,
                             r.pos + 1, 1.0f / std::sqrt(float(hs)), sc, att_.data() + i * NH * hs + h * hs);
}

void Decoder::rope_and_store(int l, const Row& r, float* qkv_row, int64_t h) {
  const int64_t NH = config_.num_attention_heads, NKV = config_.num_key_value_heads, hs = config_.hs();
  const int64_t half = hs / 2;
  rope_head(qkv_row + h * hs, hs, cos_.data() + int64_t(r.pos) * half, sin_.data() + int64_t(r.pos) * half);
  if (h < NH) return;
  const int64_t kh = h - NH;
  const size_t bytes = static_cast<size_t>(hs) * sizeof(float);
  std::memcpy(kv(r.slot, l, false, kh) + int64_t(r.pos) * hs, qkv_row + h * hs, bytes);
  std::memcpy(kv(r.slot, l, true, kh) + int64_t(r.pos) * hs, qkv_row + (NH + NKV + kh) * hs, bytes);
}

void Decoder::attention(int l, const Row* rows, int n) {
  const int64_t NH = config_.num_attention_heads, hs = config_.hs();
  int64_t work = 0;
  for (int i = 0; i < n; ++i) work += int64_t(rows[i].pos + 1) * NH * hs;
  // Threads from 16K multiply-adds (a 10M model's five heads from position 51): single-threaded
  // attention was 2 % of a 2-thread tg128 while the other thread waited.
  const int nt = work >= 16384 ? threads_ : 1;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
  for (int64_t task = 0; task < int64_t(n) * NH; ++task) {
    const int i = static_cast<int>(task / NH);
    float* sc = scores_.data() + static_cast<size_t>(nt > 1 ? omp_get_thread_num() : 0) * static_cast<size_t>(ctx_);
    attend(l, rows[i], i, task % NH, sc);
  }
}

void Decoder::attention_prefill(int l, int slot, int p0, int n) {
  const int64_t NH = config_.num_attention_heads, NKV = config_.num_key_value_heads, hs = config_.hs();
  const int64_t group = NH / NKV, qkv = (NH + 2 * NKV) * hs;
  const float scale = 1.0f / std::sqrt(float(hs));
  constexpr int kTile = 64;  // query rows per task: its scores stay in L2 (64 × context floats)
  const int tiles = (n + kTile - 1) / kTile;
  const int64_t tasks = int64_t(tiles) * NH;
  const int nt = static_cast<int>(std::min<int64_t>(threads_, tasks));
  const size_t per = static_cast<size_t>(kTile) * static_cast<size_t>(ctx_);
  if (tile_scores_.size() < per * static_cast<size_t>(nt)) tile_scores_.resize(per * static_cast<size_t>(nt));
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
  for (int64_t task = 0; task < tasks; ++task) {
    // The last tiles see the most keys: hand them out first.
    const int tile = tiles - 1 - static_cast<int>(task / NH);
    const int64_t h = task % NH, kh = h / group;
    const int i0 = tile * kTile, i1 = std::min(n, i0 + kTile), m = i1 - i0, keys = p0 + i1;
    float* S = tile_scores_.data() + static_cast<size_t>(nt > 1 ? omp_get_thread_num() : 0) * per;
    tensor::cpu::gemm<float>(false, true, m, keys, static_cast<int>(hs), scale, q_.data() + int64_t(i0) * qkv + h * hs,
                             static_cast<int>(qkv), kv(slot, l, false, kh), static_cast<int>(hs), 0.0f, S, keys);
    for (int i = 0; i < m; ++i) {
      float* row = S + int64_t(i) * keys;
      const int last = p0 + i0 + i;  // causal: keys 0 .. last
      float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
      for (int t = 0; t <= last; ++t) mx = std::max(mx, row[t]);
      const float inv = 1.0f / tensor::cpu::exp_shifted_sum(row, last + 1, mx);
#pragma omp simd
      for (int t = 0; t <= last; ++t) row[t] *= inv;
      std::fill(row + last + 1, row + keys, 0.0f);
    }
    tensor::cpu::gemm<float>(false, false, m, static_cast<int>(hs), keys, 1.0f, S, keys, kv(slot, l, true, kh),
                             static_cast<int>(hs), 0.0f, att_.data() + int64_t(i0) * NH * hs + h * hs,
                             static_cast<int>(NH * hs));
  }
}

void Decoder::forward(const Row* rows, int n, const int* want, int nwant, float* logits, bool gemm) {
  if (!gemm && threads_ > 1 && !observe_) {
    forward_team(rows, n, want, nwant, logits);
    return;
  }
  const ModelConfig& c = config_;
  const int64_t C = c.hidden_size, I = c.intermediate_size, NH = c.num_attention_heads,
                NKV = c.num_key_value_heads, hs = c.hs();
  const int64_t qkv = (NH + 2 * NKV) * hs;
  const float eps = static_cast<float>(c.rms_norm_eps);
  for (int i = 0; i < n; ++i) embed_.row(rows[i].id, x_.data() + i * C);  // ids checked by prefill/step
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& y = layers_[l];
    const auto& observe = observe_;
    for (int i = 0; i < n; ++i) rmsnorm_row(ln_.data() + i * C, x_.data() + i * C, y.ln1.data(), C, eps);
    if (observe) observe(int(l), 0, ln_.data(), n, C);
    packed_linear(y.qkv, ln_.data(), n, q_.data(), threads_, gemm);
    for (int i = 0; i < n; ++i) {
      float* row = q_.data() + i * qkv;
      if (!y.qkv_bias.empty())
        for (int64_t j = 0; j < qkv; ++j) row[j] += y.qkv_bias[static_cast<size_t>(j)];
      for (int64_t h = 0; h < NH + NKV; ++h) rope_and_store(static_cast<int>(l), rows[i], row, h);
    }
    if (gemm && prompt_rows(rows, n))
      attention_prefill(static_cast<int>(l), rows[0].slot, rows[0].pos, n);
    else
      attention(static_cast<int>(l), rows, n);
    if (observe) observe(int(l), 1, att_.data(), n, NH * hs);
    packed_linear(y.o, att_.data(), n, k_.data(), threads_, gemm);
    for (int64_t j = 0; j < int64_t(n) * C; ++j) x_[static_cast<size_t>(j)] += k_[static_cast<size_t>(j)];
    for (int i = 0; i < n; ++i) rmsnorm_row(ln_.data() + i * C, x_.data() + i * C, y.ln2.data(), C, eps);
    if (observe) observe(int(l), 2, ln_.data(), n, C);
    packed_linear(y.gate_up, ln_.data(), n, gate_.data(), threads_, gemm);
    for (int i = 0; i < n; ++i) {
      const float* g = gate_.data() + i * 2 * I;
      const float* u = g + I;
      float* h = up_.data() + i * I;
      tensor::cpu::swiglu(h, g, u, I);
    }
    if (observe) observe(int(l), 3, up_.data(), n, I);
    packed_linear(y.down, up_.data(), n, k_.data(), threads_, gemm);
    for (int64_t j = 0; j < int64_t(n) * C; ++j) x_[static_cast<size_t>(j)] += k_[static_cast<size_t>(j)];
  }
  if (nwant == 0) return;
  for (int i = 0; i < nwant; ++i)
    rmsnorm_row(lnf_.data() + i * C, x_.data() + int64_t(want[i]) * C, final_norm_.data(), C, eps);
  packed_linear(tied_ ? embed_ : head_, lnf_.data(), nwant, logits, threads_, gemm && nwant >= 16);
}

// The decode forward on one OpenMP team for the whole step. A 10M model's step is ~30 matrix
// products of 20-40 µs each; opening a parallel region for each (fork and join, ~1 µs) and
// running the norms, RoPE and SwiGLU on one thread while the other waited cost several percent
// at 2 threads. Here the team splits every op and meets at a barrier between them (~0.5 µs):
// the linears by output rows (o and down add their own rows into the residual; in one-row steps
// a quarter of the rows pooled, kPooledShare), SwiGLU by
// columns, RoPE and attention by heads. Each thread forms the norms' whole output in a buffer of
// its own (a few hundred multiply-adds), which saves the barrier a shared one would need. Each
// value is computed by the same code as in the single-threaded forward, so the two agree bit for
// bit.
void Decoder::forward_team(const Row* rows, int n, const int* want, int nwant, float* logits) {
  const ModelConfig& c = config_;
  const int64_t C = c.hidden_size, I = c.intermediate_size, NH = c.num_attention_heads,
                NKV = c.num_key_value_heads, hs = c.hs();
  const int64_t qkv = (NH + 2 * NKV) * hs;
  const float eps = static_cast<float>(c.rms_norm_eps);
  float* x = x_.data();
  float* q = q_.data();
  float* o = k_.data();
  for (auto& next : pool_next_) next.store(0, std::memory_order_relaxed);
#pragma omp parallel num_threads(threads_)
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    const Span inner = share(I, 16, t, T);
    // The norms' output is the thread's own: each forms every column, so the linear after a norm
    // starts without a barrier.
    float* ln = lnt_.data() + static_cast<size_t>(t) * static_cast<size_t>(cap_ * C);
    float* sc = scores_.data() + static_cast<size_t>(t) * static_cast<size_t>(ctx_);
    // y[m, r] = w · in for this thread's output rows r of w — an equal static share of the first
    // ones, then (pooled) 16 rows at a time from the product's shared counter — calling after(rows)
    // on each run of rows it made.
    size_t product = 0;
    auto linear = [&](const PackedMatrix& w, const float* in, int M, float* out, auto&& after) {
      std::atomic<int64_t>& next = pool_next_[product++];
      const bool pooled = M == 1 && w.format != tensor::cpu::WeightFormat::Q8 && w.format != tensor::cpu::WeightFormat::Q4;
      const int64_t units = (w.rows + 15) / 16, fixed = pooled ? units - units / kPooledShare : units;
      auto rows_of = [&](int64_t u0, int64_t u1) {
        const Span s{u0 * 16, std::min(w.rows, u1 * 16)};
        tensor::cpu::packed_linear_rows(w, in, M, w.cols, out, w.rows, s.begin, s.end);
        after(s);
      };
      const Span s = share(fixed, 1, t, T);
      if (s.begin < s.end) rows_of(s.begin, s.end);
      if (pooled)
        for (int64_t u; (u = fixed + next.fetch_add(1, std::memory_order_relaxed)) < units;) rows_of(u, u + 1);
    };
    auto nothing = [](const Span&) {};
    auto residual = [&](const Span& s) {  // o and down add their rows into x
      for (int i = 0; i < n; ++i)
        for (int64_t j = s.begin; j < s.end; ++j) x[i * C + j] += o[i * C + j];
    };
#pragma omp for schedule(static)
    for (int i = 0; i < n; ++i) embed_.row(rows[i].id, x + i * C);
    for (size_t l = 0; l < layers_.size(); ++l) {
      const Layer& y = layers_[l];
      const int li = static_cast<int>(l);
      for (int i = 0; i < n; ++i) rmsnorm_row(ln + i * C, x + i * C, y.ln1.data(), C, eps);
      linear(y.qkv, ln, n, q, [&](const Span& s) {
        if (!y.qkv_bias.empty())
          for (int i = 0; i < n; ++i)
            for (int64_t j = s.begin; j < s.end; ++j) q[i * qkv + j] += y.qkv_bias[static_cast<size_t>(j)];
      });
#pragma omp barrier
      // RoPE per head of q and k; a k head then goes to the cache with its v head.
#pragma omp for schedule(static)
      for (int64_t task = 0; task < int64_t(n) * (NH + NKV); ++task) {
        const int i = static_cast<int>(task / (NH + NKV));
        rope_and_store(li, rows[i], q + i * qkv, task % (NH + NKV));
      }
#pragma omp for schedule(dynamic, 1)
      for (int64_t task = 0; task < int64_t(n) * NH; ++task) {
        const int i = static_cast<int>(task / NH);
        attend(li, rows[i], i, task % NH, sc);
      }
      linear(y.o, att_.data(), n, o, residual);
#pragma omp barrier
      for (int i = 0; i < n; ++i) rmsnorm_row(ln + i * C, x + i * C, y.ln2.data(), C, eps);
      linear(y.gate_up, ln, n, gate_.data(), nothing);
#pragma omp barrier
      for (int i = 0; i < n; ++i) {
        const float* g = gate_.data() + i * 2 * I;
        tensor::cpu::swiglu(up_.data() + i * I + inner.begin, g + inner.begin, g + I + inner.begin,
                            inner.end - inner.begin);
      }
#pragma omp barrier
      linear(y.down, up_.data(), n, o, residual);
#pragma omp barrier
    }
    if (nwant > 0) {
      for (int i = 0; i < nwant; ++i)
        rmsnorm_row(ln + i * C, x + int64_t(want[i]) * C, final_norm_.data(), C, eps);
      linear(tied_ ? embed_ : head_, ln, nwant, logits, nothing);
    }
  }
}

}  // namespace nlm::model
