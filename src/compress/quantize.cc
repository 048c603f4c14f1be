// Post-training quantisation (see quantize.h). Calibration runs the fp32 model through the
// inference engine with an observer on every linear's input; the statistics it keeps per layer
// and input site are the mean |x| per channel (AWQ), the overall |x| maximum (FP8 input scales)
// and an evenly spaced sample of rows (the AWQ error). The result is written tensor by tensor
// with write_safetensors, the config gets a quantization_config, and the report compares the
// folder with the fp32 model on held-out documents.
#include "compress/quantize.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/options.h"
#include "eval/perplexity.h"
#include "model/decoder.h"
#include "model/hf_checkpoint.h"
#include "model/hf_export.h"
#include "model/llama.h"
#include "model/quantized_checkpoint.h"
#include "model/safetensors.h"
#include "tensor/backend.h"
#include "tensor/cpu/kernels.h"
#include "tensor/dtype.h"
#include "tensor/quantize.h"

namespace nlm::compress {

using nlohmann::json;
using tensor::DType;
namespace fs = std::filesystem;

void declare(opt::Schema& s, QuantizeOptions& o) {
  s.add("output", o.output, "Folder for the quantised HF model").flag("-o,--output");
  s.add("calibration", o.calibration, "Calibration text, JSONL or .tok files run through the model").no_flag();
  corpus::declare(s, o.read);
  // --format names the weight format here; the calibration files' input format moves aside.
  for (opt::Field& f : s.fields())
    if (f.key == "format") {
      f.key = "input_format";
      f.flags = "--input-format";
    }
  s.choice("format", o.format, {{"int8", "int8"}, {"int4", "int4"}, {"fp8", "fp8"}},
           "Weight format: int8 (per output row), int4 (groups along the input, symmetric) or fp8 (E4M3, per tensor)");
  s.add("group_size", o.group_size, "int4: input columns sharing one scale (a multiple of 64)").min(64);
  s.add("awq", o.awq, "int4: search AWQ per-input-channel scales on the calibration activations and fold them into "
                      "the preceding norm (or v_proj / up_proj)");
  s.add("awq_grid", o.awq_grid, "int4 AWQ: alpha steps over [0, 1] (each costs one quantise-and-multiply per linear)")
      .min(1);
  s.add("awq_rows", o.awq_rows, "int4 AWQ: calibration rows each linear's output error is measured on").min(1);
  s.add("max_docs", o.max_docs, "Calibration documents read at most").min(2);
  s.add("seq_len", o.seq_len, "Tokens per calibration window").min(2);
  s.add("max_windows", o.max_windows, "Calibration windows used at most").min(1);
  s.add("heldout", o.heldout, "Share of the calibration documents kept back to measure perplexity (at least one)")
      .min(0.0)
      .max(0.9);
  s.add("bench_tokens", o.bench_tokens, "Tokens decoded to time the engine, fp32 and quantised (0 = no timing)")
      .min(0);
  s.check([&o] {
    if (o.calibration.empty()) opt::fail("calibration", "is empty", "name text, JSONL or .tok files in the model's language");
    if (o.output.empty()) opt::fail("output", "is empty", "name the folder for the quantised model with -o");
    if (o.group_size % 64) opt::fail("group_size", "is " + std::to_string(o.group_size) + ", not a multiple of 64",
                                     "use 64, 128 or 256");
    if (o.awq && o.format != "int4") opt::fail("awq", "applies to --format int4 only", "drop --awq or use int4");
  });
}

std::string QuantizeResult::to_json() const {
  json j = {{"format", format},
            {"output", output},
            {"linears", linears},
            {"calibration_tokens", calibration_tokens},
            {"heldout_tokens", heldout_tokens},
            {bytes_known ? "bits_per_byte" : "nats_per_token", {{"f32", bpb_f32}, {"quantized", bpb_quantized},
                                                                  {"delta", bpb_quantized - bpb_f32}}},
            {"bytes", {{"f32", f32_bytes}, {"quantized", quantized_bytes},
                       {"ratio", f32_bytes ? double(quantized_bytes) / double(f32_bytes) : 0.0}}},
            {"decode_tokens_per_second", {{"f32", tok_s_f32}, {"quantized", tok_s_quantized}}}};
  if (awq_error_plain > 0) j["awq"] = {{"output_error_plain_int4", awq_error_plain}, {"output_error_awq", awq_error}};
  return j.dump(2) + "\n";
}

std::string QuantizeResult::summary() const {
  char buf[768];
  const char* unit = bytes_known ? "bits/byte" : "nats/token";
  std::snprintf(buf, sizeof buf,
                "quantised %lld linears to %s (%lld calibration tokens, %lld held-out tokens)\n"
                "  %-10s %12s %12s %10s\n"
                "  %-10s %12.4f %12llu %10.1f\n"
                "  %-10s %12.4f %12llu %10.1f\n"
                "  delta %+.4f %s, size x%.3f, decode x%.2f\n",
                static_cast<long long>(linears), format.c_str(), static_cast<long long>(calibration_tokens),
                static_cast<long long>(heldout_tokens), "", unit, "bytes", "tok/s", "f32", bpb_f32,
                static_cast<unsigned long long>(f32_bytes), tok_s_f32, format.c_str(), bpb_quantized,
                static_cast<unsigned long long>(quantized_bytes), tok_s_quantized, bpb_quantized - bpb_f32, unit,
                f32_bytes ? double(quantized_bytes) / double(f32_bytes) : 0.0,
                tok_s_f32 > 0 ? tok_s_quantized / tok_s_f32 : 0.0);
  std::string s = buf;
  if (awq_error_plain > 0) {
    std::snprintf(buf, sizeof buf, "  AWQ: relative output error of the linears %.5f (plain int4 %.5f)\n", awq_error,
                  awq_error_plain);
    s += buf;
  }
  s += "wrote " + output + "\n";
  return s;
}

std::vector<float> int4_roundtrip(const std::vector<float>& w, int64_t rows, int64_t cols, int64_t group) {
  std::vector<int8_t> q(w.size());
  std::vector<float> s(static_cast<size_t>(rows * (cols / group))), out(w.size());
  tensor::quantize_int4_groups(w.data(), rows, cols, group, q.data(), s.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[size_t(r * cols + c)] = float(q[size_t(r * cols + c)]) * s[size_t(r * (cols / group) + c / group)];
  return out;
}

namespace {

// y[n, rows] = x[n, cols] · w[rows, cols]ᵀ
std::vector<float> matmul_t(const std::vector<float>& x, int64_t n, const std::vector<float>& w, int64_t rows,
                            int64_t cols) {
  std::vector<float> y(static_cast<size_t>(n * rows));
  tensor::cpu::gemm<float>(false, true, int(n), int(rows), int(cols), 1.0f, x.data(), int(cols), w.data(), int(cols),
                           0.0f, y.data(), int(rows));
  return y;
}

double sq_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double e = 0;
  for (size_t i = 0; i < a.size(); ++i) e += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return e;
}

}  // namespace

std::vector<float> awq_search(const std::vector<float>& w, int64_t rows, int64_t cols, const std::vector<float>& x,
                              int64_t n, const std::vector<double>& mean_abs, int64_t group, int grid,
                              double* plain_error, double* best_error) {
  const std::vector<float> ref = matmul_t(x, n, w, rows, cols);
  double norm = 0;
  for (float v : ref) norm += double(v) * v;
  norm = std::max(norm, 1e-30);
  std::vector<float> best(static_cast<size_t>(cols), 1.0f), s(static_cast<size_t>(cols)), ws(w.size());
  double best_err = -1;
  for (int g = 0; g <= grid; ++g) {
    const double alpha = double(g) / grid;
    double lo = INFINITY, hi = 0;
    for (int64_t c = 0; c < cols; ++c) {
      s[size_t(c)] = float(std::pow(std::max(mean_abs[size_t(c)], 1e-4), alpha));
      lo = std::min(lo, double(s[size_t(c)]));
      hi = std::max(hi, double(s[size_t(c)]));
    }
    const float mid = float(std::sqrt(lo * hi));
    for (float& v : s) v /= mid;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) ws[size_t(r * cols + c)] = w[size_t(r * cols + c)] * s[size_t(c)];
    std::vector<float> dq = int4_roundtrip(ws, rows, cols, group);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) dq[size_t(r * cols + c)] /= s[size_t(c)];
    const double err = sq_diff(matmul_t(x, n, dq, rows, cols), ref) / norm;
    if (g == 0) *plain_error = err;
    if (best_err < 0 || err < best_err) {
      best_err = err;
      best = s;
      if (g == 0) std::fill(best.begin(), best.end(), 1.0f);  // alpha 0: s is all ones anyway
    }
  }
  *best_error = best_err;
  return best;
}

namespace {

// Statistics of one linear input (a layer and site) over the calibration rows.
struct SiteStats {
  std::vector<double> sum_abs;  // per channel
  int64_t rows = 0;
  float amax = 0;
  std::vector<float> sample;    // sampled rows, back to back
  int64_t sampled = 0;
};

uint64_t folder_weight_bytes(const std::string& dir) {
  uint64_t b = 0;
  for (const auto& f : model::hf_weight_files(dir)) b += fs::file_size(f);
  return b;
}

// Greedy decode speed of a Decoder: one BOS-or-0 token, then `tokens` steps; the best of three.
double decode_speed(model::Decoder& d, int tokens) {
  if (tokens <= 0) return 0;
  std::vector<float> logits(static_cast<size_t>(d.vocab_size()));
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    d.truncate(0, 0);
    int32_t id = 0;
    d.prefill(0, &id, 1, logits.data());
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < tokens; ++i) {
      id = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      const int32_t slot = 0;
      d.step(&slot, &id, 1, logits.data());
    }
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, sec > 0 ? tokens / sec : 0.0);
  }
  return best;
}

}  // namespace

QuantizeResult quantize_model(const std::string& model_dir, const QuantizeOptions& o) {
  const std::string already = model::read_quantization_info(model_dir).format;
  if (!already.empty())
    usage_error("the model is already quantised (" + already + ")", model_dir,
                "quantise the unquantised model it came from");
  if (fs::weakly_canonical(o.output) == fs::weakly_canonical(model_dir))
    usage_error("the output folder is the model folder", o.output, "write the quantised model elsewhere");
  auto& be = tensor::backend_for("cpu");
  auto m = model::load_hf_model(model_dir, be);
  const model::ModelConfig c = m->config();
  const int L = static_cast<int>(c.num_hidden_layers);
  const int64_t C = c.hidden_size, I = c.intermediate_size, NH = c.num_attention_heads,
                NKV = c.num_key_value_heads, hs = c.hs();
  const bool int4 = o.format == "int4", fp8 = o.format == "fp8";
  if (int4)
    for (auto [name, width] : {std::pair<const char*, int64_t>{"hidden_size", C}, {"intermediate_size", I},
                               {"num_attention_heads x head_dim", NH * hs}})
      if (width % o.group_size)
        usage_error("int4 groups of " + std::to_string(o.group_size) + " columns do not divide the model's " + name +
                        " (" + std::to_string(width) + ")",
                    model_dir, "use a --group-size that divides it (a multiple of 64), or --format int8");

  // Documents: the last `heldout` share (at least one) measures perplexity, the rest calibrates.
  const int64_t T = std::min<int64_t>(o.seq_len, c.max_position_embeddings);
  auto docs = eval::read_eval_documents(model_dir, o.calibration, o.read, o.max_docs, c.vocab_size);
  const size_t ndocs = docs.tokens.size();
  if (ndocs < 2)
    usage_error("calibration holds " + std::to_string(ndocs) + " document(s); at least 2 are needed (one is held out)",
                "quantize", "give more text in the model's language (a few hundred paragraphs)");
  const size_t held = std::clamp<size_t>(size_t(std::lround(double(ndocs) * o.heldout)), 1, ndocs - 1);
  std::vector<std::vector<int32_t>> held_docs(docs.tokens.end() - std::ptrdiff_t(held), docs.tokens.end());
  std::vector<uint64_t> held_bytes;
  if (!docs.bytes.empty()) held_bytes.assign(docs.bytes.end() - std::ptrdiff_t(held), docs.bytes.end());
  std::vector<std::vector<int32_t>> windows;
  int64_t calib_tokens = 0;
  for (size_t d = 0; d + held < ndocs && int(windows.size()) < o.max_windows; ++d)
    for (size_t p = 0; p < docs.tokens[d].size() && int(windows.size()) < o.max_windows; p += size_t(T)) {
      const size_t n = std::min(docs.tokens[d].size() - p, size_t(T));
      windows.emplace_back(docs.tokens[d].begin() + std::ptrdiff_t(p), docs.tokens[d].begin() + std::ptrdiff_t(p + n));
      calib_tokens += int64_t(n);
    }
  if (calib_tokens < kMinCalibrationTokens)
    usage_error("calibration holds " + std::to_string(calib_tokens) + " tokens outside the held-out documents; at least " +
                    std::to_string(kMinCalibrationTokens) + " are needed",
                "quantize", "give more text in the model's language (a few hundred paragraphs)");

  QuantizeResult r;
  r.format = o.format;
  r.output = o.output;
  r.calibration_tokens = calib_tokens;
  for (const auto& d : held_docs) r.heldout_tokens += int64_t(d.size());

  // Calibration pass through the engine, fp32, observing every linear input.
  std::vector<SiteStats> stats(size_t(L) * 4);
  const int64_t stride = std::max<int64_t>(1, calib_tokens / std::max(1, o.awq_rows));
  {
    model::DecoderOptions d;
    d.context = static_cast<int>(T);
    d.prefill_chunk = static_cast<int>(T);
    int64_t row_index = 0;  // of the current call's first row, counted per (layer 0, site 0)
    model::Decoder dec(*m, d);
    dec.set_observer([&](int l, int site, const float* x, int n, int64_t cols) {
      SiteStats& st = stats[size_t(l * 4 + site)];
      if (st.sum_abs.empty()) st.sum_abs.assign(size_t(cols), 0.0);
      if (l == 0 && site == 0) row_index = st.rows;
      for (int i = 0; i < n; ++i) {
        const float* row = x + int64_t(i) * cols;
        for (int64_t k = 0; k < cols; ++k) {
          const float a = std::fabs(row[k]);
          st.sum_abs[size_t(k)] += a;
          st.amax = std::max(st.amax, a);
        }
        if (o.awq && (row_index + i) % stride == 0 && st.sampled < o.awq_rows) {
          st.sample.insert(st.sample.end(), row, row + cols);
          ++st.sampled;
        }
      }
      st.rows += n;
    });
    std::vector<float> logits(static_cast<size_t>(c.vocab_size));
    for (const auto& w : windows) {
      dec.truncate(0, 0);
      dec.prefill(0, w.data(), static_cast<int>(w.size()), logits.data());
    }
  }

  // Every parameter on the host by name; linears are replaced by their quantised tensors on write.
  std::map<std::string, std::vector<float>> host;
  for (const model::Param& p : m->params()) {
    std::vector<float> v(static_cast<size_t>(p.value.numel()));
    be.download(p.value, v.data(), DType::F32);
    host[p.name] = std::move(v);
  }
  auto mean_abs = [&](int l, int site) {
    const SiteStats& st = stats[size_t(l * 4 + site)];
    std::vector<double> v(st.sum_abs.size());
    for (size_t k = 0; k < v.size(); ++k) v[k] = st.sum_abs[k] / double(std::max<int64_t>(1, st.rows));
    return v;
  };

  // AWQ: per layer, the scales of each linear group and where they fold in.
  if (o.awq) {
    double plain = 0, best = 0;
    int searched = 0;
    for (int l = 0; l < L; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      auto joined = [&](const std::vector<std::string>& names) {
        std::vector<float> w;
        for (const auto& n : names) w.insert(w.end(), host[p + n].begin(), host[p + n].end());
        return w;
      };
      auto search = [&](int site, const std::vector<std::string>& names, int64_t rows, int64_t cols,
                        std::vector<double> act) {
        const SiteStats& st = stats[size_t(l * 4 + site)];
        double e0 = 0, e1 = 0;
        auto s = awq_search(joined(names), rows, cols, st.sample, st.sampled, act, o.group_size, o.awq_grid, &e0, &e1);
        plain += e0;
        best += e1;
        ++searched;
        for (const auto& n : names) {
          auto& w = host[p + n];
          for (size_t i = 0; i < w.size(); ++i) w[i] *= s[i % size_t(cols)];
        }
        return s;
      };
      // down_proj: its input is silu(gate)·up, so 1/s folds into up_proj's rows.
      auto s = search(3, {"mlp.down_proj.weight"}, C, I, mean_abs(l, 3));
      auto& up = host[p + "mlp.up_proj.weight"];
      for (int64_t j = 0; j < I; ++j)
        for (int64_t k = 0; k < C; ++k) up[size_t(j * C + k)] /= s[size_t(j)];
      // o_proj: its input is attention over v, so 1/s folds into v_proj's rows; query heads sharing
      // a KV head must share s, so the statistics are averaged over each group first.
      {
        auto act = mean_abs(l, 1);
        const int64_t group = NH / NKV;
        for (int64_t kh = 0; kh < NKV; ++kh)
          for (int64_t dd = 0; dd < hs; ++dd) {
            double sum = 0;
            for (int64_t h = kh * group; h < (kh + 1) * group; ++h) sum += act[size_t(h * hs + dd)];
            for (int64_t h = kh * group; h < (kh + 1) * group; ++h) act[size_t(h * hs + dd)] = sum / double(group);
          }
        auto so = search(1, {"self_attn.o_proj.weight"}, C, NH * hs, act);
        auto& v = host[p + "self_attn.v_proj.weight"];
        for (int64_t kh = 0; kh < NKV; ++kh)
          for (int64_t dd = 0; dd < hs; ++dd) {
            const float f = so[size_t(kh * group * hs + dd)];
            for (int64_t k = 0; k < C; ++k) v[size_t((kh * hs + dd) * C + k)] /= f;
            if (c.attention_bias) host[p + "self_attn.v_proj.bias"][size_t(kh * hs + dd)] /= f;
          }
      }
      // q/k/v and gate/up read a norm's output: 1/s folds into the norm's weight.
      auto sq = search(0, {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"},
                       (NH + 2 * NKV) * hs, C, mean_abs(l, 0));
      for (int64_t k = 0; k < C; ++k) host[p + "input_layernorm.weight"][size_t(k)] /= sq[size_t(k)];
      auto sg = search(2, {"mlp.gate_proj.weight", "mlp.up_proj.weight"}, 2 * I, C, mean_abs(l, 2));
      for (int64_t k = 0; k < C; ++k) host[p + "post_attention_layernorm.weight"][size_t(k)] /= sg[size_t(k)];
    }
    r.awq_error_plain = plain / std::max(1, searched);
    r.awq_error = best / std::max(1, searched);
  }

  // Quantise and write: every parameter in the model's order, linears as stored tensors + scales.
  std::vector<std::vector<char>> blobs;
  blobs.reserve(host.size() * 3);
  std::vector<model::SafetensorsTensor> tensors;
  auto blob = [&](const void* p, size_t bytes) {
    blobs.emplace_back(static_cast<const char*>(p), static_cast<const char*>(p) + bytes);
    return static_cast<const void*>(blobs.back().data());
  };
  for (const model::Param& p : m->params()) {
    if (p.adapter) continue;
    const auto& w = host[p.name];
    const std::string& n = p.name;
    const std::string base = n.substr(0, n.size() - std::string(".weight").size());
    const bool linear = n.starts_with("model.layers.") && n.ends_with("_proj.weight");
    r.f32_bytes += w.size() * 4;
    if (!linear) {
      tensors.push_back({n, DType::F32, p.value.shape(), blob(w.data(), w.size() * 4)});
      continue;
    }
    ++r.linears;
    const int64_t rows = p.value.dim(0), cols = p.value.dim(1);
    if (o.format == "int8") {
      std::vector<int8_t> q(w.size());
      std::vector<float> s(static_cast<size_t>(rows));
      tensor::quantize_int8_rows(w.data(), rows, cols, q.data(), s.data());
      tensors.push_back({n, DType::I8, {rows, cols}, blob(q.data(), q.size())});
      tensors.push_back({base + ".weight_scale", DType::F32, {rows, 1}, blob(s.data(), s.size() * 4)});
    } else if (int4) {
      const int64_t groups = cols / o.group_size;
      std::vector<int8_t> q(w.size());
      std::vector<float> s(static_cast<size_t>(rows * groups));
      tensor::quantize_int4_groups(w.data(), rows, cols, o.group_size, q.data(), s.data());
      std::vector<uint8_t> packed(w.size() / 2);
      tensor::pack_int4(q.data(), int64_t(q.size()), packed.data());
      tensors.push_back({n, DType::U8, {rows, cols / 2}, blob(packed.data(), packed.size())});
      tensors.push_back({base + ".weight_scale", DType::F32, {rows, groups}, blob(s.data(), s.size() * 4)});
    } else if (fp8) {
      float amax = 0;
      for (float v : w) amax = std::max(amax, std::fabs(v));
      const float s = tensor::fp8_scale(amax);
      std::vector<uint8_t> q(w.size());
      for (size_t i = 0; i < w.size(); ++i) q[i] = tensor::f32_to_e4m3(w[i] / s);
      // The linear's input site: q/k/v 0, o 1, gate/up 2, down 3.
      const int l = std::stoi(n.substr(13));
      const int site = n.find("o_proj") != std::string::npos       ? 1
                       : n.find("down_proj") != std::string::npos  ? 3
                       : n.find("self_attn") != std::string::npos  ? 0
                                                                   : 2;
      const float in_scale = tensor::fp8_scale(stats[size_t(l * 4 + site)].amax);
      tensors.push_back({n, DType::F8_E4M3, {rows, cols}, blob(q.data(), q.size())});
      tensors.push_back({base + ".weight_scale", DType::F32, {}, blob(&s, 4)});
      tensors.push_back({base + ".input_scale", DType::F32, {}, blob(&in_scale, 4)});
    }
  }
  make_dirs(o.output);
  for (const auto& f : {"model.safetensors.index.json"})
    if (fs::exists(o.output + "/" + f)) fs::remove(o.output + "/" + f);
  model::write_safetensors(o.output + "/model.safetensors", tensors, {{"format", "pt"}});
  {
    json cfg = json::parse(model::to_hf_config_json(c));
    json qc = {{"nativelm", {{"format", o.format}}}};
    if (o.format == "int8") {
      qc["quant_method"] = "compressed-tensors";
      qc["format"] = "int-quantized";
      qc["config_groups"] = {{"group_0", {{"targets", {"Linear"}},
                                          {"weights", {{"num_bits", 8}, {"type", "int"}, {"symmetric", true},
                                                       {"strategy", "channel"}, {"dynamic", false}}}}}};
      qc["ignore"] = {"lm_head"};
    } else if (int4) {
      qc["quant_method"] = "nativelm";
      qc["nativelm"]["group_size"] = o.group_size;
      qc["nativelm"]["awq"] = o.awq;
      qc["nativelm"]["packing"] = "uint8, two values a byte, low nibble first, offset 8";
      qc["bits"] = 4;
      qc["group_size"] = o.group_size;
      qc["sym"] = true;
    } else {
      qc["quant_method"] = "fp8";
      qc["activation_scheme"] = "static";
      qc["ignored_layers"] = {"lm_head"};
    }
    cfg["quantization_config"] = qc;
    write_file_atomic(o.output + "/config.json", cfg.dump(2) + "\n");
  }
  model::copy_model_files(model_dir, o.output);
  r.quantized_bytes = folder_weight_bytes(o.output);

  // The report: perplexity on the held-out documents (weights dequantised in the training model),
  // and decode speed through the engine.
  eval::PerplexityOptions po;
  po.max_length = static_cast<int>(T);
  const auto f32_ppl = eval::rolling_perplexity(*m, held_docs, held_bytes, po);
  auto qm = model::load_hf_model(o.output, be);
  const auto q_ppl = eval::rolling_perplexity(*qm, held_docs, held_bytes, po);
  r.bytes_known = f32_ppl.bytes > 0;
  r.bpb_f32 = r.bytes_known ? f32_ppl.bits_per_byte() : f32_ppl.nll / double(std::max<uint64_t>(1, f32_ppl.tokens));
  r.bpb_quantized = r.bytes_known ? q_ppl.bits_per_byte() : q_ppl.nll / double(std::max<uint64_t>(1, q_ppl.tokens));
  if (o.bench_tokens > 0) {
    model::DecoderOptions d;
    d.context = static_cast<int>(std::min<int64_t>(c.max_position_embeddings, o.bench_tokens + 1));
    const int tokens = d.context - 1;
    {
      model::Decoder f32(*m, d);
      r.tok_s_f32 = decode_speed(f32, tokens);
    }
    model::Decoder q(*qm, d, model::load_packed_linears(o.output, *qm));
    r.tok_s_quantized = decode_speed(q, tokens);
  }
  write_file_atomic(o.output + "/quantization_report.json", r.to_json());
  return r;
}

}  // namespace nlm::compress
