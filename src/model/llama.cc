// The Llama forward and backward passes (see llama.h). Shapes: N = B·T tokens, C hidden,
// I intermediate, NH/NKV heads, hs head size, V vocabulary, L layers.
#include "model/llama.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/hash.h"
#include "core/rng.h"
#include "model/classifier.h"
#include "model/rope_table.h"

namespace nlm::model {

using tensor::DType;
using tensor::Tensor;

void Batch::set_default_positions() {
  positions.resize(static_cast<size_t>(B) * T);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) positions[static_cast<size_t>(b) * T + t] = t;
  docs.clear();
}

struct Llama::LayerParams {
  Param *ln1 = nullptr, *q = nullptr, *k = nullptr, *v = nullptr, *qb = nullptr, *kb = nullptr,
        *vb = nullptr, *o = nullptr, *ln2 = nullptr, *gate = nullptr, *up = nullptr,
        *down = nullptr;
  LoraLinear* lora[7] = {};  // by lora_target_names() index; null where the layer has none
};

namespace {
// The HF name of layer l's projection m (lora_target_names() order), without ".weight".
std::string projection_name(int64_t l, int m) {
  static const char* const parts[7] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                       "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
  return "model.layers." + std::to_string(l) + "." + parts[m];
}
}  // namespace

// What one layer's forward keeps for its backward (in decoding: its buffers for this call).
struct Llama::LayerActs {
  Tensor ln1, rstd1;   // [N,C], [N]
  Tensor q, k, v;      // [B,T,NH,hs], [B,T,NKV,hs] ×2 (after RoPE for q, k)
  std::unique_ptr<tensor::AttentionState> att;  // the backend's saved attention (training)
  Tensor attn;         // [N, NH·hs] attention output before o_proj
  Tensor x2;           // [N,C] residual after attention
  Tensor ln2, rstd2;   // [N,C], [N]
  Tensor gate, up, h;  // [N,I]
};

// The tokens one layer_forward call runs on, and where its attention reads keys and values.
struct Llama::Tokens {
  int B = 1, T = 0;
  const Tensor* pos = nullptr;   // I32 [B·T] RoPE positions
  const Tensor* docs = nullptr;  // I32 [B·T] document ids, or null (plain causal rows)
  // −1: training: attention within the batch, its state kept in LayerActs for backward.
  // ≥ 0: decoding one sequence (B = 1) after `past` cached tokens: k and v are appended to the
  // layer's KV cache at row `past` and attention reads rows 0 .. past+T−1 of the cache.
  int past = -1;
};

struct Llama::Scratch {
  Tensor ids, targets, pos, docs;  // I32 [N]
  bool has_docs = false;
  std::vector<Tensor> resid;       // L+1 × [N,C]: input of each layer, then the final stream
  std::vector<LayerActs> acts;     // L entries, or 1 when recomputing
  Tensor lnf, rstdf, losses;
  Tensor logits;  // [R, V]: one chunk of the classifier's logits (classifier.h), R ≤ N rows
  // Gradient buffers, reused across layers.
  Tensor dres, dln, dattn, dq, dk, dv, dh, dgate, dup;
};

Llama::Llama(const ModelConfig& config, tensor::Backend& backend, ModelOptions options)
    : config_(config), backend_(backend), options_(options) {
  config_.validate("model config");
  const DType dt = options_.dtype;
  if (dt == DType::F16)
    usage_error("model dtype F16 is not supported", "model",
                "use BF16 for mixed precision (F16 would need loss scaling), or F32");
  if (dt != DType::F32 && dt != DType::F64 && dt != DType::BF16)
    usage_error("model dtype must be F32, BF16 or F64, not " + std::string(tensor::dtype_name(dt)),
                "model");
  require_ops(false);
  build_params();
}

// Fails early, naming the op, when the backend lacks one this model needs in its dtype.
// attention_cached is not listed: decode falls back to attention_forward without it.
void Llama::require_ops(bool backward) const {
  using tensor::Op;
  static constexpr Op forward_ops[] = {Op::EmbeddingForward, Op::RmsnormForward, Op::MatmulForward,
                                       Op::RopeForward,      Op::AttentionForward, Op::Add,
                                       Op::SwigluForward,    Op::CrossEntropyForward, Op::Sum};
  static constexpr Op backward_ops[] = {Op::CrossEntropyBackward, Op::MatmulBackward,
                                        Op::RmsnormBackward,      Op::SwigluBackward,
                                        Op::AttentionBackward,    Op::RopeBackward,
                                        Op::EmbeddingBackward};
  auto check = [&](Op op) {
    if (!backend_.supports(op, options_.dtype))
      usage_error("the " + backend_.name() + " backend has no " + tensor::op_name(op) + " for " +
                      std::string(tensor::dtype_name(options_.dtype)),
                  "model", "use another device or compute dtype");
  };
  if (backward)
    for (Op op : backward_ops) check(op);
  else
    for (Op op : forward_ops) check(op);
  if (lora_.enabled()) check(Op::Scale);
  if (lora_.enabled() && lora_.dropout > 0) check(Op::Mul);
}

Llama::~Llama() = default;

void Llama::build_params() {
  const ModelConfig& c = config_;
  const int64_t C = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  const int64_t q = c.num_attention_heads * c.hs(), kv = c.num_key_value_heads * c.hs();
  struct Spec {
    std::string name;
    tensor::Shape shape;
    bool norm_or_bias;
  };
  std::vector<Spec> specs;
  specs.push_back({"model.embed_tokens.weight", {V, C}, false});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    specs.push_back({p + "input_layernorm.weight", {C}, true});
    specs.push_back({p + "self_attn.q_proj.weight", {q, C}, false});
    specs.push_back({p + "self_attn.k_proj.weight", {kv, C}, false});
    specs.push_back({p + "self_attn.v_proj.weight", {kv, C}, false});
    if (c.attention_bias) {
      specs.push_back({p + "self_attn.q_proj.bias", {q}, true});
      specs.push_back({p + "self_attn.k_proj.bias", {kv}, true});
      specs.push_back({p + "self_attn.v_proj.bias", {kv}, true});
    }
    specs.push_back({p + "self_attn.o_proj.weight", {C, q}, false});
    specs.push_back({p + "post_attention_layernorm.weight", {C}, true});
    specs.push_back({p + "mlp.gate_proj.weight", {I, C}, false});
    specs.push_back({p + "mlp.up_proj.weight", {I, C}, false});
    specs.push_back({p + "mlp.down_proj.weight", {C, I}, false});
  }
  specs.push_back({"model.norm.weight", {C}, true});
  if (!c.tie_word_embeddings) specs.push_back({"lm_head.weight", {V, C}, false});

  params_.clear();
  params_.reserve(specs.size());
  for (auto& s : specs)
    params_.push_back({s.name, backend_.zeros(s.shape, options_.dtype),
                       backend_.zeros(s.shape, grad_dtype()), s.norm_or_bias});
  bind_params();
}

// Points embed_, lm_head_, final_norm_, layers_ and the adapters at their entries of params_
// (again after add_lora or merge_lora changed that vector).
void Llama::bind_params() {
  const ModelConfig& c = config_;
  embed_ = find("model.embed_tokens.weight");
  lm_head_ = c.tie_word_embeddings ? embed_ : find("lm_head.weight");
  final_norm_ = find("model.norm.weight");
  layers_.assign(c.num_hidden_layers, {});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    LayerParams& lp = layers_[l];
    lp.ln1 = find(p + "input_layernorm.weight");
    lp.q = find(p + "self_attn.q_proj.weight");
    lp.k = find(p + "self_attn.k_proj.weight");
    lp.v = find(p + "self_attn.v_proj.weight");
    lp.qb = find(p + "self_attn.q_proj.bias");
    lp.kb = find(p + "self_attn.k_proj.bias");
    lp.vb = find(p + "self_attn.v_proj.bias");
    lp.o = find(p + "self_attn.o_proj.weight");
    lp.ln2 = find(p + "post_attention_layernorm.weight");
    lp.gate = find(p + "mlp.gate_proj.weight");
    lp.up = find(p + "mlp.up_proj.weight");
    lp.down = find(p + "mlp.down_proj.weight");
  }
  for (auto& a : adapters_) {
    a->A = find(a->name + ".lora_A.weight");
    a->B = find(a->name + ".lora_B.weight");
    layers_[a->layer].lora[a->index] = a.get();
  }
}

void Llama::add_lora(const LoraConfig& config, uint64_t seed) {
  if (!config.enabled()) return;
  if (lora_.enabled()) usage_error("the model already has LoRA adapters", "lora");
  validate(config, "lora");
  lora_ = config;
  lora_seed_ = seed;
  require_ops(false);
  const bool tied = config_.tie_word_embeddings;
  for (auto& p : params_) {
    bool embed = p.name == "model.embed_tokens.weight", head = p.name == "lm_head.weight";
    p.trainable = (embed && (config.train_embeddings || (tied && config.train_lm_head))) ||
                  (head && config.train_lm_head);
    // Frozen matrices need no gradient; norms keep theirs as scratch for rmsnorm_backward.
    if (!p.trainable && !p.is_norm_or_bias) p.grad = Tensor();
  }
  const auto& names = lora_target_names();
  for (int64_t l = 0; l < config_.num_hidden_layers; ++l)
    for (int m = 0; m < 7; ++m) {
      if (std::find(config.targets.begin(), config.targets.end(), names[m]) == config.targets.end()) continue;
      const std::string name = projection_name(l, m);
      const Param* w = find(name + ".weight");
      const int64_t out = w->value.dim(0), in = w->value.dim(1), r = config.rank;
      Param a{name + ".lora_A.weight", backend_.empty({r, in}, options_.dtype),
              backend_.zeros({r, in}, grad_dtype()), false, true, true};
      std::vector<double> init = lora_init_a(r, in, seed ^ hash64(name));
      backend_.upload(a.value, init.data(), DType::F64);
      Param b{name + ".lora_B.weight", backend_.zeros({out, r}, options_.dtype),
              backend_.zeros({out, r}, grad_dtype()), false, true, true};
      params_.push_back(std::move(a));
      params_.push_back(std::move(b));
      auto adapter = std::make_unique<LoraLinear>();
      adapter->name = name;
      adapter->layer = static_cast<int>(l);
      adapter->index = m;
      adapter->scale = config.scale();
      adapter->dropout = config.dropout;
      adapters_.push_back(std::move(adapter));
    }
  bind_params();
}

void Llama::merge_lora() {
  if (!lora_.enabled()) return;
  auto& be = backend_;
  for (auto& a : adapters_) {
    Param* w = find(a->name + ".weight");
    const int64_t out = w->value.dim(0), in = w->value.dim(1), r = a->A->value.dim(0);
    std::vector<double> W(static_cast<size_t>(out * in)), A(static_cast<size_t>(r * in)), B(static_cast<size_t>(out * r));
    be.download(w->value, W.data(), DType::F64);
    be.download(a->A->value, A.data(), DType::F64);
    be.download(a->B->value, B.data(), DType::F64);
    for (int64_t o = 0; o < out; ++o)
      for (int64_t k = 0; k < r; ++k) {
        const double s = a->scale * B[static_cast<size_t>(o * r + k)];
        if (s == 0) continue;
        const double* arow = A.data() + k * in;
        double* wrow = W.data() + o * in;
        for (int64_t i = 0; i < in; ++i) wrow[i] += s * arow[i];
      }
    be.upload(w->value, W.data(), DType::F64);
  }
  adapters_.clear();
  std::erase_if(params_, [](const Param& p) { return p.adapter; });
  for (auto& p : params_) {
    p.trainable = true;
    if (!p.grad.defined()) p.grad = be.zeros(p.value.shape(), grad_dtype());
  }
  lora_ = LoraConfig{};
  bind_params();
}

void Llama::project(int l, int m, Tensor& out, const Tensor& x, Param* w, Param* b, bool dropout) {
  backend_.matmul_forward(out, x, w->value, b ? &b->value : nullptr);
  LoraLinear* a = layers_[l].lora[m];
  if (!a) return;
  uint64_t mask_seed = 0;
  if (dropout && training_ && a->dropout > 0) {
    uint64_t state = lora_seed_ ^ (dropout_key_ * 0xD1B54A32D192ED03ull) ^ (forward_count_ * 0x9E3779B97F4A7C15ull) ^
                     (uint64_t(l) * 7 + m + 1);
    mask_seed = splitmix64(state) | 1;
  }
  lora_forward(backend_, *a, out, x, mask_seed);
}

void Llama::project_backward(int l, int m, Tensor* dx, const Tensor& dout, const Tensor& x, Param* w, Param* b,
                             bool accumulate) {
  backend_.matmul_backward(dx, w->trainable ? &w->grad : nullptr, b && b->trainable ? &b->grad : nullptr, dout, x,
                           w->value, accumulate);
  if (LoraLinear* a = layers_[l].lora[m]) lora_backward(backend_, *a, *dx, dout, x);
}

Param* Llama::find(const std::string& name) {
  for (auto& p : params_)
    if (p.name == name) return &p;
  return nullptr;
}

namespace {
// splitmix64 + Box–Muller: the same numbers on every platform and standard library.
struct Normal {
  uint64_t state;
  double operator()() {
    double u1 = uniform_open01(state);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * uniform_open01(state));
  }
};
}  // namespace

void Llama::init_random(uint64_t seed) {
  const double std_ = config_.initializer_range;
  const double proj_std = std_ / std::sqrt(2.0 * static_cast<double>(config_.num_hidden_layers));
  for (auto& p : params_) {
    std::vector<double> host(static_cast<size_t>(p.value.numel()));
    bool is_bias = p.name.ends_with(".bias");
    if (p.is_norm_or_bias) {
      std::fill(host.begin(), host.end(), is_bias ? 0.0 : 1.0);
    } else {
      double s = (p.name.ends_with("o_proj.weight") || p.name.ends_with("down_proj.weight"))
                     ? proj_std
                     : std_;
      Normal rng{seed ^ hash64(p.name)};
      for (double& x : host) x = s * rng();
    }
    backend_.upload(p.value, host.data(), DType::F64);
  }
}

void Llama::zero_grad() {
  for (auto& p : params_)
    if (p.grad.defined()) backend_.zero(p.grad);
}

void Llama::ensure_rope(int positions) {
  if (positions <= rope_positions_) return;
  std::vector<float> cos, sin;
  rope_tables(config_, positions, cos, sin);
  const int64_t half = config_.hs() / 2;
  rope_cos_ = backend_.empty({positions, half}, grad_dtype());
  rope_sin_ = backend_.empty({positions, half}, grad_dtype());
  backend_.upload(rope_cos_, cos.data(), DType::F32);
  backend_.upload(rope_sin_, sin.data(), DType::F32);
  rope_positions_ = positions;
}

void Llama::ensure_buffers(int B, int T) {
  if (s_ && B == B_ && T == T_) return;
  B_ = B;
  T_ = T;
  s_ = std::make_unique<Scratch>();
  auto& be = backend_;
  const DType dt = options_.dtype;
  const int64_t N = int64_t(B) * T, C = config_.hidden_size, I = config_.intermediate_size;
  const int64_t NH = config_.num_attention_heads, NKV = config_.num_key_value_heads,
                hs = config_.hs(), V = config_.vocab_size, L = config_.num_hidden_layers;
  s_->ids = be.empty({N}, DType::I32);
  s_->targets = be.empty({N}, DType::I32);
  s_->pos = be.empty({N}, DType::I32);
  s_->docs = be.empty({N}, DType::I32);
  for (int64_t l = 0; l <= L; ++l) s_->resid.push_back(be.empty({N, C}, dt));
  for (int64_t l = 0; l < (options_.recompute ? 1 : L); ++l) s_->acts.push_back(make_acts(B, T));
  s_->lnf = be.empty({N, C}, dt);
  s_->rstdf = be.empty({N}, grad_dtype());
  s_->logits = be.empty({classifier_chunk_rows(options_.classifier_chunk_rows, N, V, dt), V}, dt);
  s_->losses = be.empty({N}, grad_dtype());
  s_->dres = be.empty({N, C}, dt);
  s_->dln = be.empty({N, C}, dt);
  s_->dattn = be.empty({N, NH * hs}, dt);
  s_->dq = be.empty({B, T, NH, hs}, dt);
  s_->dk = be.empty({B, T, NKV, hs}, dt);
  s_->dv = be.empty({B, T, NKV, hs}, dt);
  s_->dh = be.empty({N, I}, dt);
  s_->dgate = be.empty({N, I}, dt);
  s_->dup = be.empty({N, I}, dt);
}

Llama::LayerActs Llama::make_acts(int B, int T) const {
  auto& be = backend_;
  const DType dt = options_.dtype;
  const int64_t N = int64_t(B) * T, C = config_.hidden_size, I = config_.intermediate_size;
  const int64_t NH = config_.num_attention_heads, NKV = config_.num_key_value_heads,
                hs = config_.hs();
  LayerActs a;
  a.ln1 = be.empty({N, C}, dt);
  a.rstd1 = be.empty({N}, grad_dtype());
  a.q = be.empty({B, T, NH, hs}, dt);
  a.k = be.empty({B, T, NKV, hs}, dt);
  a.v = be.empty({B, T, NKV, hs}, dt);
  a.attn = be.empty({N, NH * hs}, dt);
  a.x2 = be.empty({N, C}, dt);
  a.ln2 = be.empty({N, C}, dt);
  a.rstd2 = be.empty({N}, grad_dtype());
  a.gate = be.empty({N, I}, dt);
  a.up = be.empty({N, I}, dt);
  a.h = be.empty({N, I}, dt);
  return a;
}

// x [N,C] → x_out [N,C], for training (tok.past < 0) and for KV-cache decoding alike:
//   ln1 = rmsnorm(x); q,k,v = ln1·W^T (+b); rope(q,k); attn = attention(q,k,v)
//   x2 = x + attn·Wo^T; ln2 = rmsnorm(x2); h = silu(ln2·Wg^T)·(ln2·Wu^T); x_out = x2 + h·Wd^T
void Llama::layer_forward(int l, LayerActs& a, const Tokens& tok, const Tensor& x, Tensor& x_out) {
  auto& be = backend_;
  LayerParams& p = layers_[l];
  const int64_t N = int64_t(tok.B) * tok.T;
  be.rmsnorm_forward(a.ln1, a.rstd1, x, p.ln1->value, config_.rms_norm_eps);
  Tensor q2 = a.q.reshaped({N, a.q.numel() / N}), k2 = a.k.reshaped({N, a.k.numel() / N}),
         v2 = a.v.reshaped({N, a.v.numel() / N});
  const bool drop = tok.past < 0;  // adapters' dropout: training forward only
  project(l, 0, q2, a.ln1, p.q, p.qb, drop);
  project(l, 1, k2, a.ln1, p.k, p.kb, drop);
  project(l, 2, v2, a.ln1, p.v, p.vb, drop);
  be.rope_forward(a.q, *tok.pos, rope_cos_, rope_sin_);
  be.rope_forward(a.k, *tok.pos, rope_cos_, rope_sin_);
  Tensor attn4 = a.attn.reshaped(a.q.shape());
  if (tok.past < 0) {
    be.attention_forward(attn4, a.att, a.q, a.k, a.v, tok.docs, tok.B, tok.T);
  } else {
    be.copy_into(cache_.k[l], tok.past * (a.k.numel() / N), a.k);
    be.copy_into(cache_.v[l], tok.past * (a.v.numel() / N), a.v);
    cached_attention(l, attn4, a.q, tok.past, tok.T);
  }
  project(l, 3, a.x2, a.attn, p.o, nullptr, drop);
  be.add(a.x2, x);
  be.rmsnorm_forward(a.ln2, a.rstd2, a.x2, p.ln2->value, config_.rms_norm_eps);
  project(l, 4, a.gate, a.ln2, p.gate, nullptr, drop);
  project(l, 5, a.up, a.ln2, p.up, nullptr, drop);
  be.swiglu_forward(a.h, a.gate, a.up);
  project(l, 6, x_out, a.h, p.down, nullptr, drop);
  be.add(x_out, a.x2);
}

// out, q [1,Tq,NH,hs]: the Tq new tokens attend to rows 0 .. past+Tq−1 of layer l's cache.
// A backend without attention_cached gets the same result from attention_forward over all
// cached rows, with zero queries for the earlier rows (causal masking keeps them from touching
// the new rows' outputs; their own outputs are dropped). That costs O(T²) per token.
void Llama::cached_attention(int l, Tensor& out, const Tensor& q, int past, int Tq) {
  auto& be = backend_;
  if (be.supports(tensor::Op::AttentionCached, options_.dtype)) {
    be.attention_cached(out, q, cache_.k[l], cache_.v[l], past, Tq);
    return;
  }
  const DType dt = options_.dtype;
  const int64_t NH = config_.num_attention_heads, NKV = config_.num_key_value_heads,
                hs = config_.hs(), Tk = past + Tq;
  Tensor qa = be.zeros({1, Tk, NH, hs}, dt), ka = be.empty({1, Tk, NKV, hs}, dt),
         va = be.empty({1, Tk, NKV, hs}, dt), oa = be.empty({1, Tk, NH, hs}, dt);
  be.copy_into(qa, past * NH * hs, q);
  be.copy_range(ka, 0, cache_.k[l], 0, ka.numel());
  be.copy_range(va, 0, cache_.v[l], 0, va.numel());
  std::unique_ptr<tensor::AttentionState> state;
  be.attention_forward(oa, state, qa, ka, va, nullptr, 1, static_cast<int>(Tk));
  be.copy_range(out, 0, oa, past * NH * hs, out.numel());
}

// On entry dres = ∂L/∂x_out; on exit dres = ∂L/∂x. Each residual add passes its gradient
// through unchanged, and each rmsnorm_backward adds its branch's contribution into dres.
void Llama::layer_backward(int l, LayerActs& a, const Tensor& x, Tensor& dres) {
  auto& be = backend_;
  LayerParams& p = layers_[l];
  Scratch& s = *s_;
  const int64_t N = int64_t(B_) * T_;
  // MLP: x_out = x2 + down(h)
  project_backward(l, 6, &s.dh, dres, a.h, p.down, nullptr, false);
  be.swiglu_backward(s.dgate, s.dup, s.dh, a.gate, a.up);
  project_backward(l, 4, &s.dln, s.dgate, a.ln2, p.gate, nullptr, false);
  project_backward(l, 5, &s.dln, s.dup, a.ln2, p.up, nullptr, true);
  be.rmsnorm_backward(dres, p.ln2->grad, s.dln, a.x2, p.ln2->value, a.rstd2);  // dres = ∂L/∂x2
  // Attention: x2 = x + o(attn)
  project_backward(l, 3, &s.dattn, dres, a.attn, p.o, nullptr, false);
  Tensor dattn4 = s.dattn.reshaped(a.q.shape());
  be.attention_backward(s.dq, s.dk, s.dv, dattn4, *a.att, a.q, a.k, a.v, B_, T_);
  be.rope_backward(s.dq, s.pos, rope_cos_, rope_sin_);
  be.rope_backward(s.dk, s.pos, rope_cos_, rope_sin_);
  Tensor dq2 = s.dq.reshaped({N, s.dq.numel() / N}), dk2 = s.dk.reshaped({N, s.dk.numel() / N}),
         dv2 = s.dv.reshaped({N, s.dv.numel() / N});
  project_backward(l, 0, &s.dln, dq2, a.ln1, p.q, p.qb, false);
  project_backward(l, 1, &s.dln, dk2, a.ln1, p.k, p.kb, true);
  project_backward(l, 2, &s.dln, dv2, a.ln1, p.v, p.vb, true);
  be.rmsnorm_backward(dres, p.ln1->grad, s.dln, x, p.ln1->value, a.rstd1);  // dres = ∂L/∂x
}

Classifier Llama::classifier() const {
  return {backend_, s_->lnf, lm_head_->value, s_->targets, s_->logits};
}

void Llama::forward_trunk(const Batch& batch) {
  const int B = batch.B, T = batch.T;
  const size_t N = static_cast<size_t>(B) * T;
  if (B <= 0 || T <= 0 || batch.inputs.size() != N || batch.targets.size() != N ||
      batch.positions.size() != N || (!batch.docs.empty() && batch.docs.size() != N))
    runtime_error("batch arrays do not match B·T = " + std::to_string(N), "model forward");
  // Checked here rather than by the loss kernels, which see one chunk and would name its row.
  for (size_t n = 0; n < N; ++n)
    if (batch.targets[n] >= config_.vocab_size)
      runtime_error("target id " + std::to_string(batch.targets[n]) + " >= vocabulary " +
                        std::to_string(config_.vocab_size) + " (row " + std::to_string(n) + ")",
                    "cross_entropy");
  ensure_buffers(B, T);
  int max_pos = 0;
  for (int32_t p : batch.positions) max_pos = std::max(max_pos, p);
  ensure_rope(max_pos + 1);
  auto& be = backend_;
  Scratch& s = *s_;
  be.upload(s.ids, batch.inputs.data(), DType::I32);
  be.upload(s.targets, batch.targets.data(), DType::I32);
  be.upload(s.pos, batch.positions.data(), DType::I32);
  s.has_docs = !batch.docs.empty();
  if (s.has_docs) be.upload(s.docs, batch.docs.data(), DType::I32);
  valid_ = 0;
  for (int32_t t : batch.targets) valid_ += t >= 0;
  ++forward_count_;  // a new dropout mask per forward; recompute in backward reuses this one

  be.embedding_forward(s.resid[0], s.ids, embed_->value);
  const int L = static_cast<int>(config_.num_hidden_layers);
  const Tokens tok{B, T, &s.pos, s.has_docs ? &s.docs : nullptr, -1};
  for (int l = 0; l < L; ++l)
    layer_forward(l, s.acts[options_.recompute ? 0 : l], tok, s.resid[l], s.resid[l + 1]);
  be.rmsnorm_forward(s.lnf, s.rstdf, s.resid[L], final_norm_->value, config_.rms_norm_eps);
}

double Llama::forward(const Batch& batch, std::vector<float>* logits) {
  forward_trunk(batch);
  if (logits) logits->resize(static_cast<size_t>(s_->lnf.dim(0) * config_.vocab_size));
  classifier().loss(s_->losses, logits ? logits->data() : nullptr);
  return valid_ ? backend_.sum(s_->losses) / static_cast<double>(valid_) : 0.0;
}

double Llama::forward_backward(const Batch& batch, double loss_scale) {
  forward_trunk(batch);
  start_backward();
  Scratch& s = *s_;
  if (valid_ == 0) {  // nothing to learn from: backward() would do nothing either
    classifier().loss(s.losses);
    return 0.0;
  }
  // loss = Σ losses / valid: each chunk's losses, then its ∂loss/∂logits = (softmax − onehot)/valid.
  classifier().backward(s.dln, lm_head_->trainable ? &lm_head_->grad : nullptr,
                        loss_scale / static_cast<double>(valid_), nullptr, &s.losses);
  const double loss = backend_.sum(s.losses) / static_cast<double>(valid_);
  backward_below_head();
  return loss;
}

namespace {
std::vector<float> to_host(tensor::Backend& be, const Tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  be.download(t, out.data(), DType::F32);
  return out;
}
}  // namespace

std::vector<float> Llama::residual(int l) const {
  if (!s_ || l < 0 || l > static_cast<int>(layers_.size())) runtime_error("no residual for layer " + std::to_string(l), "model");
  return to_host(backend_, s_->resid[static_cast<size_t>(l)]);
}
std::vector<float> Llama::mlp_activation(int l) const {
  if (!s_ || options_.recompute || l < 0 || l >= static_cast<int>(layers_.size()))
    runtime_error("no MLP activation for layer " + std::to_string(l) + " (forward without recompute first)", "model");
  return to_host(backend_, s_->acts[static_cast<size_t>(l)].h);
}
std::vector<float> Llama::attention_output(int l) const {
  if (!s_ || options_.recompute || l < 0 || l >= static_cast<int>(layers_.size()))
    runtime_error("no attention output for layer " + std::to_string(l) + " (forward without recompute first)", "model");
  return to_host(backend_, s_->acts[static_cast<size_t>(l)].attn);
}

std::vector<double> Llama::token_losses() const {
  std::vector<double> out(static_cast<size_t>(s_->losses.numel()));
  backend_.download(s_->losses, out.data(), DType::F64);
  return out;
}

std::vector<float> Llama::logits() const {
  if (!s_) runtime_error("logits asked for before forward", "model");
  std::vector<float> out(static_cast<size_t>(s_->lnf.dim(0) * config_.vocab_size));
  classifier().logits(out.data());
  return out;
}

void Llama::start_backward() const {
  if (!s_) runtime_error("backward called before forward", "model");
  if (frozen_) runtime_error("backward through a frozen model", "model backward");
  require_ops(true);
}

void Llama::backward(double loss_scale) {
  start_backward();
  if (valid_ == 0) return;
  // loss = Σ losses / valid → ∂loss/∂logits = (softmax − onehot) / valid, chunk by chunk.
  classifier().backward(s_->dln, lm_head_->trainable ? &lm_head_->grad : nullptr,
                        loss_scale / static_cast<double>(valid_), nullptr, nullptr);
  backward_below_head();
}

void Llama::backward_weighted(const std::vector<double>& weights) {
  start_backward();
  const int64_t N = static_cast<int64_t>(B_) * T_;
  if (static_cast<int64_t>(weights.size()) != N)
    runtime_error("token weights do not match B·T = " + std::to_string(N), "model backward");
  if (valid_ == 0) return;
  classifier().backward(s_->dln, lm_head_->trainable ? &lm_head_->grad : nullptr, 1.0, &weights, nullptr);
  backward_below_head();
}

void Llama::backward_logits(const std::vector<float>& dlogits) {
  start_backward();
  const int64_t NV = s_->lnf.dim(0) * config_.vocab_size;
  if (static_cast<int64_t>(dlogits.size()) != NV)
    runtime_error("logit gradients do not match B·T·V = " + std::to_string(NV), "model backward");
  classifier().backward_from(dlogits.data(), s_->dln, lm_head_->trainable ? &lm_head_->grad : nullptr);
  backward_below_head();
}

void Llama::freeze() {
  for (auto& p : params_) {
    p.trainable = false;
    p.grad = Tensor();
  }
  frozen_ = true;
}

void Llama::backward_below_head() {
  auto& be = backend_;
  Scratch& s = *s_;
  const int L = static_cast<int>(config_.num_hidden_layers);
  const Tokens tok{B_, T_, &s.pos, s.has_docs ? &s.docs : nullptr, -1};
  be.zero(s.dres);
  be.rmsnorm_backward(s.dres, final_norm_->grad, s.dln, s.resid[L], final_norm_->value, s.rstdf);
  if (grad_ready_) grad_ready_(L);
  for (int l = L - 1; l >= 0; --l) {
    LayerActs& a = s.acts[options_.recompute ? 0 : l];
    if (options_.recompute) layer_forward(l, a, tok, s.resid[l], s.resid[l + 1]);
    layer_backward(l, a, s.resid[l], s.dres);
    if (grad_ready_) grad_ready_(l);
  }
  // Tied: the lm_head gradient above already went into embed_->grad; this adds the lookup's.
  if (embed_->trainable) be.embedding_backward(embed_->grad, s.dres, s.ids);
  if (grad_ready_) grad_ready_(-1);
}

void Llama::reset_cache(int max_tokens) {
  const int64_t NKV = config_.num_key_value_heads, hs = config_.hs();
  cache_.k.clear();
  cache_.v.clear();
  for (int64_t l = 0; l < config_.num_hidden_layers; ++l) {
    cache_.k.push_back(backend_.empty({max_tokens, NKV, hs}, options_.dtype));
    cache_.v.push_back(backend_.empty({max_tokens, NKV, hs}, options_.dtype));
  }
  ensure_rope(max_tokens);
  cache_.past = 0;
}

std::vector<float> Llama::decode(const std::vector<int32_t>& tokens, bool every_row) {
  if (cache_.k.empty()) runtime_error("decode called before reset_cache", "model");
  const int Tq = static_cast<int>(tokens.size());
  const int64_t cap = cache_.k[0].dim(0);
  if (Tq == 0) runtime_error("decode needs at least one token", "model");
  if (cache_.past + Tq > cap)
    usage_error("sequence of " + std::to_string(cache_.past + Tq) + " tokens exceeds the cache of " +
                    std::to_string(cap),
                "generate", "lower --max-tokens or the prompt length");
  auto& be = backend_;
  const DType dt = options_.dtype;
  const int64_t C = config_.hidden_size, V = config_.vocab_size;
  Tensor ids = be.empty({Tq}, DType::I32), pos = be.empty({Tq}, DType::I32);
  std::vector<int32_t> p(Tq);
  for (int t = 0; t < Tq; ++t) p[t] = cache_.past + t;
  be.upload(ids, tokens.data(), DType::I32);
  be.upload(pos, p.data(), DType::I32);
  // The same layer function as training, on one row of Tq tokens reading the KV cache.
  const Tokens tok{1, Tq, &pos, nullptr, cache_.past};
  LayerActs a = make_acts(1, Tq);
  Tensor x = be.empty({Tq, C}, dt), y = be.empty({Tq, C}, dt);
  be.embedding_forward(x, ids, embed_->value);
  for (int l = 0; l < static_cast<int>(layers_.size()); ++l) {
    layer_forward(l, a, tok, x, y);
    std::swap(x, y);
  }
  cache_.past += Tq;
  // Only the last position's logits are needed, unless every row's are.
  const int rows = every_row ? Tq : 1;
  Tensor last = be.empty({rows, C}, dt), lnl = be.empty({rows, C}, dt), r1 = be.empty({rows}, grad_dtype());
  be.copy_range(last, 0, x, int64_t(Tq - rows) * C, int64_t(rows) * C);
  be.rmsnorm_forward(lnl, r1, last, final_norm_->value, config_.rms_norm_eps);
  Tensor logits = be.empty({rows, V}, dt);
  be.matmul_forward(logits, lnl, lm_head_->value, nullptr);
  std::vector<float> out(static_cast<size_t>(rows) * static_cast<size_t>(V));
  be.download(logits, out.data(), DType::F32);
  return out;
}

double Llama::train_flops_per_token(int T) const {
  const ModelConfig& c = config_;
  const double C = double(c.hidden_size), I = double(c.intermediate_size);
  const double q = double(c.num_attention_heads * c.hs()), kv = double(c.num_key_value_heads * c.hs());
  const double L = double(c.num_hidden_layers), V = double(c.vocab_size);
  // Matmul weights touched per token (the embedding lookup is not a matmul; the LM head is).
  double matmul_params = L * (C * q + 2 * C * kv + q * C + 3 * C * I) + V * C;
  // Causal attention: QK^T and PV average T/2 keys, 2 FLOPs each, ×3 for forward + backward.
  double attention = L * 6.0 * double(T) * q * 0.5 * 2.0;
  if (!lora_.enabled()) return 6.0 * matmul_params + attention;
  // LoRA: frozen weights skip their dW product (4 FLOPs per weight instead of 6); adapters are
  // trained matmuls of their own.
  double frozen = lm_head_->trainable ? matmul_params - V * C : matmul_params, adapters = 0;
  for (const auto& a : adapters_) adapters += double(a->A->value.numel() + a->B->value.numel());
  return 6.0 * matmul_params - 2.0 * frozen + 6.0 * adapters + attention;
}

}  // namespace nlm::model
