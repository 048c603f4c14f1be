// Depth and width pruning (see prune.h).
#include "compress/prune.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "core/error.h"
#include "core/log.h"
#include "core/options.h"
#include "eval/perplexity.h"
#include "model/hf_checkpoint.h"
#include "model/hf_export.h"
#include "model/llama.h"
#include "tensor/backend.h"

namespace nlm::compress {

using tensor::DType;

void declare(opt::Schema& s, PruneOptions& o) {
  s.add("output", o.output, "Folder for the pruned HF model (empty = only print the importance ranking)")
      .flag("-o,--output");
  s.add("calibration", o.calibration, "Calibration text, JSONL or .tok files run through the model").no_flag();
  corpus::declare(s, o.read);
  s.add("max_docs", o.max_docs, "Calibration documents read at most").min(1);
  s.add("seq_len", o.seq_len, "Tokens per calibration window").min(2);
  s.add("drop_layers", o.drop_layers, "Depth pruning: layers to remove, least important first").min(0);
  s.choice("depth_metric", o.depth_metric, {{"cosine", "cosine"}, {"loss", "loss"}},
           "Layer importance: 1 - cosine(input, output) of the residual stream, or the LM loss increase when the "
           "layer is skipped (one calibration pass per layer)");
  s.add("ffn_size", o.ffn_size, "Width pruning: SwiGLU neurons kept per layer, by activation norm (0 = all)").min(0);
  s.add("kv_heads", o.kv_heads, "Width pruning: KV groups (a KV head and its query heads) kept per layer (0 = all)")
      .min(0);
  s.choice("dtype", o.dtype,
           {{"float32", DType::F32}, {"bfloat16", DType::BF16}, {"float16", DType::F16}},
           "Storage dtype of the pruned model");
  s.check([&o] {
    if (o.calibration.empty()) opt::fail("calibration", "is empty", "name text, JSONL or .tok files in the model's language");
  });
}

std::string PruneResult::summary() const {
  std::string s = "layer importance (" + std::to_string(calibration_tokens) + " calibration tokens; higher = keep):\n";
  for (size_t l = 0; l < layer_importance.size(); ++l) {
    char buf[96];
    const bool dropped = std::find(dropped_layers.begin(), dropped_layers.end(), int(l)) != dropped_layers.end();
    std::snprintf(buf, sizeof buf, "  layer %3zu  %.6f%s\n", l, layer_importance[l], dropped ? "  dropped" : "");
    s += buf;
  }
  if (!output.empty())
    s += "wrote " + output + ": " + std::to_string(parameters_after) + " parameters (was " +
         std::to_string(parameters_before) + ")\n";
  return s;
}

namespace {

std::vector<float> host(const model::Llama& m, const model::Param& p) {
  std::vector<float> v(static_cast<size_t>(p.value.numel()));
  m.backend().download(p.value, v.data(), DType::F32);
  return v;
}

// The `keep` indices of the largest scores, in ascending index order.
std::vector<int64_t> top(const std::vector<double>& score, int64_t keep) {
  std::vector<int64_t> idx(score.size());
  std::iota(idx.begin(), idx.end(), int64_t{0});
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return score[size_t(a)] > score[size_t(b)]; });
  idx.resize(static_cast<size_t>(keep));
  std::sort(idx.begin(), idx.end());
  return idx;
}

// dst = the rows `rows` (each `width` wide) of src.
std::vector<float> pick_rows(const std::vector<float>& src, const std::vector<int64_t>& rows, int64_t width) {
  std::vector<float> out;
  out.reserve(rows.size() * size_t(width));
  for (int64_t r : rows) out.insert(out.end(), src.begin() + r * width, src.begin() + (r + 1) * width);
  return out;
}

// dst = the columns `cols` of the row-major [n_rows, width] src.
std::vector<float> pick_cols(const std::vector<float>& src, int64_t width, const std::vector<int64_t>& cols) {
  const int64_t n_rows = int64_t(src.size()) / width;
  std::vector<float> out;
  out.reserve(size_t(n_rows) * cols.size());
  for (int64_t r = 0; r < n_rows; ++r)
    for (int64_t c : cols) out.push_back(src[size_t(r * width + c)]);
  return out;
}

struct Window {
  model::Batch batch;
  int64_t targets = 0;
};

}  // namespace

PruneResult prune_model(const std::string& model_dir, const PruneOptions& o) {
  auto& be = tensor::backend_for("cpu");
  auto m = model::load_hf_model(model_dir, be);
  const model::ModelConfig c = m->config();
  const int L = static_cast<int>(c.num_hidden_layers);
  const int64_t I = c.intermediate_size, NH = c.num_attention_heads, NKV = c.num_key_value_heads, hs = c.hs();
  const int64_t group = NH / NKV;
  if (o.drop_layers >= L)
    opt::fail("drop_layers", "is " + std::to_string(o.drop_layers) + " but the model has " + std::to_string(L) +
                                 " layers", "keep at least one layer");
  if (o.ffn_size > I)
    opt::fail("ffn_size", "is " + std::to_string(o.ffn_size) + ", above the model's " + std::to_string(I));
  if (o.kv_heads > NKV)
    opt::fail("kv_heads", "is " + std::to_string(o.kv_heads) + ", above the model's " + std::to_string(NKV));

  // Calibration windows: each document cut into pieces of seq_len tokens (the model's context at most).
  auto docs = eval::read_eval_documents(model_dir, o.calibration, o.read, o.max_docs, c.vocab_size);
  const int T = static_cast<int>(std::min<int64_t>(o.seq_len, c.max_position_embeddings));
  std::vector<Window> windows;
  int64_t tokens = 0;
  for (const auto& d : docs.tokens)
    for (size_t p = 0; p + 1 < d.size(); p += size_t(T)) {
      const size_t n = std::min(d.size() - p, size_t(T));
      if (n < 2) break;
      Window w;
      w.batch.B = 1;
      w.batch.T = static_cast<int>(n);
      w.batch.inputs.assign(d.begin() + std::ptrdiff_t(p), d.begin() + std::ptrdiff_t(p + n));
      w.batch.targets.assign(d.begin() + std::ptrdiff_t(p + 1), d.begin() + std::ptrdiff_t(p + n));
      w.batch.targets.push_back(-1);
      w.batch.set_default_positions();
      w.targets = int64_t(n) - 1;
      tokens += int64_t(n);
      windows.push_back(std::move(w));
    }
  if (windows.empty())
    usage_error("the calibration files hold no window of two or more tokens", "prune",
                "give text in the model's language (a few hundred documents is plenty)");
  if (tokens < 64) log::warn("prune: only " + std::to_string(tokens) + " calibration tokens; the ranking is noisy");

  PruneResult r;
  r.calibration_tokens = tokens;
  std::vector<double> cosine(size_t(L), 0.0);
  std::vector<std::vector<double>> neuron(size_t(L), std::vector<double>(size_t(I), 0.0));
  std::vector<std::vector<double>> heads(size_t(L), std::vector<double>(size_t(NH), 0.0));
  double base_nll = 0;
  for (const auto& w : windows) {
    base_nll += m->forward(w.batch) * double(w.targets);
    std::vector<float> x = m->residual(0);
    for (int l = 0; l < L; ++l) {
      std::vector<float> y = m->residual(l + 1);
      for (int t = 0; t < w.batch.T; ++t) {
        double dot = 0, nx = 0, ny = 0;
        for (int64_t k = 0; k < c.hidden_size; ++k) {
          const double a = x[size_t(t * c.hidden_size + k)], b = y[size_t(t * c.hidden_size + k)];
          dot += a * b;
          nx += a * a;
          ny += b * b;
        }
        cosine[size_t(l)] += nx > 0 && ny > 0 ? 1.0 - dot / std::sqrt(nx * ny) : 0.0;
      }
      if (o.ffn_size > 0) {
        std::vector<float> h = m->mlp_activation(l);
        for (size_t n = 0; n < h.size(); ++n) neuron[size_t(l)][n % size_t(I)] += double(h[n]) * h[n];
      }
      if (o.kv_heads > 0) {
        std::vector<float> a = m->attention_output(l);
        for (size_t n = 0; n < a.size(); ++n) heads[size_t(l)][(n % size_t(NH * hs)) / size_t(hs)] += double(a[n]) * a[n];
      }
      x = std::move(y);
    }
  }
  if (o.depth_metric == "cosine") {
    for (double& v : cosine) v /= double(tokens);
    r.layer_importance = cosine;
  } else {
    // Skipping a layer = zeroing the two projections that write into the residual stream.
    int64_t targets = 0;
    for (const auto& w : windows) targets += w.targets;
    for (int l = 0; l < L; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      model::Param* wo = m->find(p + "self_attn.o_proj.weight");
      model::Param* wd = m->find(p + "mlp.down_proj.weight");
      std::vector<float> keep_o = host(*m, *wo), keep_d = host(*m, *wd);
      be.zero(wo->value);
      be.zero(wd->value);
      double nll = 0;
      for (const auto& w : windows) nll += m->forward(w.batch) * double(w.targets);
      be.upload(wo->value, keep_o.data(), DType::F32);
      be.upload(wd->value, keep_d.data(), DType::F32);
      r.layer_importance.push_back((nll - base_nll) / double(std::max<int64_t>(1, targets)));
    }
  }
  {
    std::vector<int> order(static_cast<size_t>(L));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return r.layer_importance[size_t(a)] < r.layer_importance[size_t(b)]; });
    r.dropped_layers.assign(order.begin(), order.begin() + o.drop_layers);
    std::sort(r.dropped_layers.begin(), r.dropped_layers.end());
  }
  r.parameters_before = c.parameter_count();
  if (o.output.empty()) return r;

  model::ModelConfig c2 = c;
  c2.num_hidden_layers = L - o.drop_layers;
  if (o.ffn_size > 0) c2.intermediate_size = o.ffn_size;
  if (o.kv_heads > 0) {
    c2.num_key_value_heads = o.kv_heads;
    c2.num_attention_heads = o.kv_heads * group;
  }
  c2.head_dim = hs;
  model::Llama small(c2, be);
  auto put = [&](const std::string& name, const std::vector<float>& v) {
    model::Param* p = small.find(name);
    if (!p || p->value.numel() != int64_t(v.size())) runtime_error("internal: pruned tensor " + name + " has the wrong size", "prune");
    be.upload(p->value, v.data(), DType::F32);
  };
  for (const char* name : {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"})
    if (const model::Param* p = m->find(name)) put(name, host(*m, *p));
  int j = 0;
  for (int l = 0; l < L; ++l) {
    if (std::find(r.dropped_layers.begin(), r.dropped_layers.end(), l) != r.dropped_layers.end()) continue;
    const std::string src = "model.layers." + std::to_string(l) + ".", dst = "model.layers." + std::to_string(j++) + ".";
    auto get = [&](const std::string& n) { return host(*m, *m->find(src + n)); };
    put(dst + "input_layernorm.weight", get("input_layernorm.weight"));
    put(dst + "post_attention_layernorm.weight", get("post_attention_layernorm.weight"));
    // KV groups kept, and the query heads (rows of hs) and KV heads they bring.
    std::vector<double> gscore(size_t(NKV), 0.0);
    for (int64_t h = 0; h < NH; ++h) gscore[size_t(h / group)] += heads[size_t(l)][size_t(h)];
    std::vector<int64_t> groups = top(gscore, o.kv_heads > 0 ? o.kv_heads : NKV), qrows, kvrows;
    for (int64_t g : groups) {
      for (int64_t h = g * group; h < (g + 1) * group; ++h)
        for (int64_t d = 0; d < hs; ++d) qrows.push_back(h * hs + d);
      for (int64_t d = 0; d < hs; ++d) kvrows.push_back(g * hs + d);
    }
    put(dst + "self_attn.q_proj.weight", pick_rows(get("self_attn.q_proj.weight"), qrows, c.hidden_size));
    put(dst + "self_attn.k_proj.weight", pick_rows(get("self_attn.k_proj.weight"), kvrows, c.hidden_size));
    put(dst + "self_attn.v_proj.weight", pick_rows(get("self_attn.v_proj.weight"), kvrows, c.hidden_size));
    put(dst + "self_attn.o_proj.weight", pick_cols(get("self_attn.o_proj.weight"), NH * hs, qrows));
    if (c.attention_bias) {
      put(dst + "self_attn.q_proj.bias", pick_rows(get("self_attn.q_proj.bias"), qrows, 1));
      put(dst + "self_attn.k_proj.bias", pick_rows(get("self_attn.k_proj.bias"), kvrows, 1));
      put(dst + "self_attn.v_proj.bias", pick_rows(get("self_attn.v_proj.bias"), kvrows, 1));
    }
    std::vector<int64_t> keep = top(neuron[size_t(l)], o.ffn_size > 0 ? o.ffn_size : I);
    put(dst + "mlp.gate_proj.weight", pick_rows(get("mlp.gate_proj.weight"), keep, c.hidden_size));
    put(dst + "mlp.up_proj.weight", pick_rows(get("mlp.up_proj.weight"), keep, c.hidden_size));
    put(dst + "mlp.down_proj.weight", pick_cols(get("mlp.down_proj.weight"), I, keep));
  }
  model::SaveOptions so;
  so.dtype = o.dtype;
  model::save_hf_model(o.output, small, so);
  model::copy_model_files(model_dir, o.output);
  r.parameters_after = c2.parameter_count();
  r.output = o.output;
  return r;
}

}  // namespace nlm::compress
