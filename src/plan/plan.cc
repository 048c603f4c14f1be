// The planner's arithmetic: NeMo's 8·N·T size formula, Chinchilla's 20 tokens per parameter,
// Muennighoff et al.'s ~4 useful epochs of repeated data, a shape table, a memory estimate per
// device, and the train YAML. Everything here is a pure function of PlanOptions except the cpu
// row (this machine's sgemm peak and memory) and reading the tokenize manifest.
#include "plan/plan.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/manifest.h"
#include "data/token_shard.h"
#include "model/classifier.h"
#include "model/config.h"
#include "tensor/backend.h"

namespace nlm::plan {

namespace {

constexpr double kTokensPerParam = 20;   // Chinchilla (Hoffmann et al. 2022)
constexpr double kUsefulEpochs = 4;      // Muennighoff et al. 2023: ~4 epochs are nearly as good as new data
constexpr double kGiB = 1024.0 * 1024 * 1024;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// 1234567 -> "1.23M"
std::string human(double v) {
  const char* units[] = {"", "K", "M", "B", "T"};
  int u = 0;
  while (std::fabs(v) >= 1000 && u < 4) v /= 1000, ++u;
  return fmt(v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v) + units[u];
}

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

}  // namespace

std::vector<Hardware> hardware_table() {
  // Dense bf16 tensor-core peaks (no sparsity) and memory of the SXM/PCIe parts named.
  return {{"a100", 312, 80}, {"h100", 989, 80}, {"h200", 989, 141}, {"l40s", 362, 48}, {"rtx4090", 165, 24}};
}

Hardware gpu_hardware(const std::string& name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "4090") lower = "rtx4090";
  if (lower == "cpu") {
    Hardware h{"cpu", tensor::backend_for("cpu").peak_flops() / 1e12, 0};
    h.memory_gib = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE)) / kGiB;
    return h;
  }
  std::string known;
  for (auto& h : hardware_table()) {
    if (h.name == lower) return h;
    known += h.name + ", ";
  }
  opt::fail("gpu", "is '" + name + "', which is not in the hardware table", "use one of " + known + "or cpu");
}

double parse_params(const std::string& text, const std::string& key) {
  if (text.empty()) opt::fail(key, "is empty", "give a parameter count such as 125M or 1.3B");
  double mult = 1;
  std::string num = text;
  switch (std::toupper(static_cast<unsigned char>(text.back()))) {
    case 'K': mult = 1e3; break;
    case 'M': mult = 1e6; break;
    case 'B': case 'G': mult = 1e9; break;
    case 'T': mult = 1e12; break;
    default: break;
  }
  if (mult != 1) num.pop_back();
  double v = opt::parse_real(num, key) * mult;
  if (!(v >= 1e3)) opt::fail(key, "is '" + text + "', under 1K parameters", "give a size such as 125M or 1.3B");
  return v;
}

double nemo_size(double days, int gpus, double tflops, double tokens) {
  return days * 86400 * gpus * tflops * 1e12 / (8 * tokens);
}

std::vector<model::ModelConfig> shape_table(int64_t vocab, int seq_len) {
  // (layers, hidden, heads): small shapes for CPU runs, then GPT-3's family with NeMo's 5B.
  struct Row { int layers, hidden, heads; };
  static const Row rows[] = {{2, 64, 2},      {2, 128, 2},     {4, 256, 4},     {6, 384, 6},
                             {8, 512, 8},     {12, 768, 12},   {16, 1024, 16},  {24, 1024, 16},
                             {24, 1536, 16},  {24, 2048, 16},  {32, 2560, 32},  {24, 4096, 32},
                             {32, 4096, 32},  {40, 5120, 40},  {44, 6144, 48},  {48, 8192, 64},
                             {80, 8192, 64},  {96, 12288, 96}};
  std::vector<model::ModelConfig> out;
  for (const Row& r : rows) {
    model::ModelConfig m;
    m.vocab_size = vocab;
    m.hidden_size = r.hidden;
    m.num_hidden_layers = r.layers;
    m.num_attention_heads = r.heads;
    // Grouped-query attention from 2048 wide on (a quarter of the heads), full heads below.
    m.num_key_value_heads = r.hidden >= 2048 ? std::max(1, r.heads / 4) : r.heads;
    // SwiGLU at 8/3 of the width (the FLOPs of a 4x GELU MLP), rounded to 64 (256 when large).
    m.intermediate_size = round_up(r.hidden * 8 / 3, r.hidden >= 1024 ? 256 : 64);
    m.max_position_embeddings = seq_len;
    m.tie_word_embeddings = r.hidden < 1024;  // small models spend too much on two vocab matrices
    out.push_back(m);
  }
  return out;
}

model::ModelConfig shape_for(double params, int64_t vocab, int seq_len) {
  model::ModelConfig best;
  double best_d = 1e300;
  for (const auto& m : shape_table(vocab, seq_len)) {
    double d = std::fabs(std::log(static_cast<double>(m.parameter_count()) / params));
    if (d < best_d) best_d = d, best = m;
  }
  return best;
}

MemoryEstimate estimate_memory(const model::ModelConfig& m, int rows, int seq_len, bool gpu, int dp, bool shard,
                               bool recompute) {
  const double n = static_cast<double>(m.parameter_count());
  MemoryEstimate e;
  // CPU: fp32 weights, grads and two AdamW moments. GPU: bf16 weights and grads, fp32 master and moments.
  e.weights = gpu ? 2 * n : 4 * n;
  e.grads = gpu ? 2 * n : 4 * n;
  e.optimizer = (gpu ? 12 : 8) * n / (shard ? dp : 1);
  const double tokens = static_cast<double>(rows) * seq_len;
  const double C = static_cast<double>(m.hidden_size), F = static_cast<double>(m.intermediate_size);
  const double kv = static_cast<double>(m.num_key_value_heads * m.hs());
  const double bytes = gpu ? 2 : 4;
  // Saved per token and layer for backward: norms, q/k/v, attention output, the o projection,
  // residuals (~6C + 2kv), and the SwiGLU gate, up and product (3F).
  const double per_layer = bytes * tokens * (6 * C + 2 * kv + 3 * F);
  const double layers = static_cast<double>(m.num_hidden_layers);
  e.activations = recompute ? bytes * tokens * C * layers + per_layer : per_layer * layers;
  // Logits and their gradient in fp32, for the rows the classifier holds at once (model/classifier.h).
  const int64_t chunk = model::classifier_chunk_rows(0, static_cast<int64_t>(tokens), m.vocab_size,
                                                     gpu ? tensor::DType::BF16 : tensor::DType::F32);
  e.activations += 2 * 4 * static_cast<double>(chunk) * static_cast<double>(m.vocab_size);
  // Fitted to the peak RSS of CPU train runs (three widths, 2 steps with the final checkpoint):
  // beyond the terms above the process holds about 12 bytes per parameter.
  if (!gpu) e.buffers = 12 * n;
  return e;
}

namespace {

// Train and val .tok files and the train token count from a tokenize output folder.
void read_data(const std::string& dir, Plan& p, int64_t& vocab) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) opt::fail("data", "is '" + dir + "', which is not a folder", "give a nativelm tokenize output folder");
  auto m = read_manifest(dir);
  if (!m) opt::fail("data", "has no manifest.json in '" + dir + "'", "run nativelm tokenize -o " + dir + " first");
  if (m->stage != "tokenize")
    opt::fail("data", "holds a '" + m->stage + "' manifest in '" + dir + "'", "give a nativelm tokenize output folder");
  uint64_t tokens = 0;
  for (auto& f : m->outputs) {
    std::string name = fs::path(f.path).filename().string();
    std::string path = (fs::path(dir) / f.path).string();
    if (name.rfind("train-", 0) == 0) {
      p.train_files.push_back(path);
      tokens += f.records;
    } else if (name.rfind("val-", 0) == 0) {
      p.eval_files.push_back(path);
    }
  }
  if (p.train_files.empty()) opt::fail("data", "lists no train shards in " + dir + "/manifest.json", "rerun nativelm tokenize");
  // The manifest counts each shard's tokens as its records; read the headers when it does not.
  if (tokens == 0)
    for (auto& f : p.train_files) tokens += data::TokShardReader(f).size();
  if (p.dataset_tokens == 0) p.dataset_tokens = tokens;
  if (vocab == 0) vocab = static_cast<int64_t>(data::TokShardReader(p.train_files.front()).header().vocab_size);
}

}  // namespace

namespace {

// One plan at `tflops` achieved per device (0 = mfu x peak).
Plan plan_once(const PlanOptions& o, double tflops) {
  Plan p;
  p.hw = gpu_hardware(o.gpu);
  const bool gpu = p.hw.name != "cpu";
  p.devices = gpu ? o.gpus * o.nodes : o.nodes;
  if (o.hours > 0 && o.gpu_hours > 0) opt::fail("gpu_hours", "is given with hours", "give one budget: hours or gpu_hours");
  p.hours = o.hours > 0 ? o.hours : o.gpu_hours / p.devices;
  if (!(p.hours > 0)) opt::fail("hours", "is not set", "give a budget: hours (wall clock) or gpu_hours with price");
  p.achieved_tflops = tflops > 0 ? tflops : o.mfu * p.hw.peak_tflops;
  p.budget_flops = p.hours * 3600 * p.devices * p.achieved_tflops * 1e12;

  int64_t vocab = o.vocab_size;
  p.dataset_tokens = o.tokens;
  if (!o.data.empty()) read_data(o.data, p, vocab);
  if (p.dataset_tokens == 0) opt::fail("data", "is not set", "give a nativelm tokenize output folder (or tokens)");
  if (vocab == 0) vocab = 32000;
  vocab = round_up(vocab, 64);  // rows past the tokenizer's are padding, for matmul-friendly sizes
  const int seq = o.seq_len > 0 ? o.seq_len : gpu ? 2048 : 256;
  p.seq_len = seq;
  const double U = static_cast<double>(p.dataset_tokens), C = p.budget_flops;

  // The scenarios of the explanation table, all in NeMo's 8·N·T (training with recompute).
  const double n_opt = std::sqrt(C / (8 * kTokensPerParam));
  p.scenarios.push_back({"compute-optimal", "Chinchilla: 20 tokens per parameter for the budget", n_opt,
                         kTokensPerParam * n_opt, kTokensPerParam * n_opt / U});
  const double n_data = kUsefulEpochs * U / kTokensPerParam;
  p.scenarios.push_back({"data-limited", "the data at 4 epochs (Muennighoff) and 20 tokens per parameter", n_data,
                         kUsefulEpochs * U, kUsefulEpochs});
  const double n_nemo = C / (8 * U);
  p.scenarios.push_back({"NeMo 8NT", "NeMo's formula: the budget over the data once", n_nemo, U, 1});

  double target = 0;
  std::string fixed_why;
  if (!o.init_from.empty()) {
    p.shape = model::load_hf_config(o.init_from);
    target = static_cast<double>(p.shape.parameter_count());
    fixed_why = "the base checkpoint's size is fixed";
  } else if (!o.size.empty()) {
    target = parse_params(o.size, "size");
    fixed_why = "the target size was given";
  }
  if (target > 0) {
    p.binds = "size";
    p.binds_why = fixed_why;  // the tokens follow once the shape is known
  } else if (kTokensPerParam * n_opt <= kUsefulEpochs * U) {
    target = n_opt;
    p.binds = "compute";
    p.binds_why = "the compute-optimal run needs " + fmt("%.2f", kTokensPerParam * n_opt / U) +
                  " epochs, within the 4 that repeated data stays nearly as good as new";
  } else {
    target = n_data;
    p.binds = "data";
    p.binds_why = "the budget could train " + human(n_opt) + " parameters on " + human(kTokensPerParam * n_opt) +
                  " tokens, but the data gives " + human(kUsefulEpochs * U) +
                  " at 4 epochs; a larger model would see too few tokens per parameter";
  }
  if (o.init_from.empty()) p.shape = shape_for(target, vocab, seq);
  p.params = static_cast<double>(p.shape.parameter_count());
  if (p.binds == "data") {
    p.train_tokens = std::min(kUsefulEpochs * U, C / (8 * p.params));
  } else {
    p.train_tokens = p.binds == "compute" ? std::min(C / (8 * p.params), kUsefulEpochs * U) : C / (8 * p.params);
  }
  p.epochs = p.train_tokens / U;
  if (p.binds == "size") p.binds_why += "; the budget trains it on " + human(p.train_tokens) + " tokens";
  p.scenarios.push_back({"recommended", "the " + p.binds + " limit binds", p.params, p.train_tokens, p.epochs});

  // Batch and learning rate from the compute (DeepSeek LLM's fits: B = 0.292 C^0.3271 tokens,
  // lr = 0.3118 C^-0.125), the batch rounded to whole rows over the devices and kept to at least
  // 100 steps.
  const double c_run = 8 * p.params * p.train_tokens;
  double b = 0.292 * std::pow(c_run, 0.3271);
  b = std::min(b, p.train_tokens / 100);
  p.dp = p.devices;
  int64_t rows = std::max<int64_t>(p.dp, static_cast<int64_t>(std::llround(b / seq)) / p.dp * p.dp);
  p.batch_tokens = rows * seq;
  p.lr = std::clamp(0.3118 * std::pow(c_run, -0.125), 1e-4, 1e-2);
  if (p.train_tokens < static_cast<double>(p.batch_tokens)) {
    const char* key = o.hours > 0 ? "hours" : "gpu_hours";
    opt::fail(key, "is too small to train anything: it trains the " + human(p.params) + "-parameter shape on " +
                       human(p.train_tokens) + " tokens, less than one step of " +
                       human(static_cast<double>(p.batch_tokens)) + " tokens",
              "raise the budget");
  }
  p.steps = static_cast<int64_t>(p.train_tokens / static_cast<double>(p.batch_tokens));
  p.min_lr = p.lr / 10;
  p.warmup_steps = std::max<int64_t>(1, std::min<int64_t>(2000, p.steps / 20));

  // Micro-batch: the most rows per device (a divisor of the device's rows per step) that fit in
  // 90 % of its memory, with optimizer sharding when there is more than one device, and recompute
  // only when one row does not fit otherwise.
  const double mem = p.hw.memory_gib * kGiB * 0.9;
  p.shard_optimizer = p.dp > 1;
  const int64_t per_device = rows / p.dp;
  for (bool rc : {false, true}) {
    p.recompute = rc;
    p.micro_batch = 1;
    for (int64_t mb = 2; mb <= std::min<int64_t>(per_device, 1024); ++mb)
      if (per_device % mb == 0 && estimate_memory(p.shape, static_cast<int>(mb), seq, gpu, p.dp, p.shard_optimizer, rc).total() <= mem)
        p.micro_batch = static_cast<int>(mb);
    p.memory = estimate_memory(p.shape, p.micro_batch, seq, gpu, p.dp, p.shard_optimizer, rc);
    p.fits = p.memory.total() <= mem;
    if (p.fits) break;
  }
  p.grad_accum = static_cast<int>(per_device / p.micro_batch);
  p.expected_hours = 8 * p.params * p.train_tokens / (p.devices * p.achieved_tflops * 1e12) / 3600;
  p.cost = o.price * p.expected_hours * p.devices;
  return p;
}

bool same_shape(const model::ModelConfig& a, const model::ModelConfig& b) {
  return a.hidden_size == b.hidden_size && a.num_hidden_layers == b.num_hidden_layers &&
         a.intermediate_size == b.intermediate_size && a.vocab_size == b.vocab_size;
}

// The probe run of `p`'s shape at its micro-batch and recompute setting, if one was made.
const ProbeResult* probe_of(const std::vector<ProbeResult>& probes, const Plan& p) {
  for (auto& r : probes)
    if (same_shape(r.shape, p.shape) && r.rows == p.micro_batch && r.recompute == p.recompute) return &r;
  return nullptr;
}

}  // namespace

Plan make_plan(const PlanOptions& o) {
  Plan p = plan_once(o, o.tflops);
  if (!o.probe) return p;
  // The planned shape and its neighbours in the table (a fixed checkpoint: that shape alone).
  std::vector<model::ModelConfig> candidates;
  const int seq = p.seq_len;
  if (!o.init_from.empty()) {
    candidates = {p.shape};
  } else {
    auto table = shape_table(p.shape.vocab_size, seq);
    for (size_t i = 0; i < table.size(); ++i)
      if (same_shape(table[i], p.shape))
        for (size_t j = i == 0 ? 0 : i - 1; j <= i + 1 && j < table.size(); ++j) candidates.push_back(table[j]);
  }
  ProbeSetup setup;
  setup.seq_len = seq;
  setup.steps = o.probe_steps;
  setup.device = p.hw.name == "cpu" ? "cpu" : "cuda";
  setup.train_files = p.train_files;
  auto probe = [&](const std::vector<model::ModelConfig>& shapes, const Plan& at) {
    setup.rows = at.micro_batch;
    setup.recompute = at.recompute;
    return probe_shapes(shapes, setup);
  };
  std::vector<ProbeResult> probes = probe(candidates, p);
  // Plan again at the measured throughput of the planned shape. The measured figure changes the
  // budget in FLOPs, so the new plan may pick another shape or micro-batch (throughput depends on
  // both): that one is measured too and the plan made again, until the plan is made from a
  // measurement of its own shape and micro-batch (at most 4 rounds).
  // Two plans can also point at each other (8 rows measured plan 9, 9 rows measured plan 8): a
  // plan already visited ends the rounds, at a shape and micro-batch that was measured.
  auto same_setup = [](const Plan& a, const Plan& b) {
    return same_shape(a.shape, b.shape) && a.micro_batch == b.micro_batch && a.recompute == b.recompute;
  };
  std::vector<Plan> visited;
  for (int round = 0; round < 4; ++round) {
    const ProbeResult* hit = probe_of(probes, p);
    if (!hit) {
      auto more = probe({p.shape}, p);
      probes.insert(probes.end(), more.begin(), more.end());
      hit = &probes.back();
    }
    if (hit->achieved_tflops <= 0) break;
    visited.push_back(p);
    Plan next = plan_once(o, hit->achieved_tflops);
    p = next;
    bool seen = false;
    for (const Plan& v : visited) seen = seen || same_setup(v, next);
    if (seen) break;
  }
  // The table shows the final plan's own shape and micro-batch even when the rounds ran out.
  if (!probe_of(probes, p)) {
    auto more = probe({p.shape}, p);
    probes.insert(probes.end(), more.begin(), more.end());
  }
  p.probes = probes;
  return p;
}

std::string plan_text(const Plan& p) {
  std::string s;
  s += "hardware: " + std::to_string(p.devices) + " x " + p.hw.name + " (" + fmt("%.3g", p.hw.peak_tflops) +
       " TFLOP/s peak, " + fmt("%.3g", p.achieved_tflops) + (p.probes.empty() ? " assumed" : " measured") + " achieved, " + fmt("%.0f", p.hw.memory_gib) +
       " GiB each)\n";
  s += "budget: " + fmt("%.3g", p.hours) + " h = " + fmt("%.3g", p.budget_flops) + " FLOPs; data: " +
       human(static_cast<double>(p.dataset_tokens)) + " tokens\n\n";
  s += "| scenario | params | tokens | epochs | why |\n|---|---|---|---|---|\n";
  for (auto& sc : p.scenarios)
    s += "| " + sc.name + " | " + human(sc.params) + " | " + human(sc.tokens) + " | " + fmt("%.2f", sc.epochs) +
         " | " + sc.why + " |\n";
  if (!p.probes.empty()) {
    s += "\nprobe (" + std::string(p.hw.name) + ", measured with short train runs):\n";
    s += "| shape | params | micro-batch | tokens/s | achieved TFLOP/s (8NT) |\n|---|---|---|---|---|\n";
    for (auto& r : p.probes)
      s += "| " + std::to_string(r.shape.num_hidden_layers) + " x " + std::to_string(r.shape.hidden_size) + " | " +
           human(r.params) + " | " + std::to_string(r.rows) + " x " + std::to_string(p.seq_len) +
           (r.recompute ? ", recompute" : "") + " | " + fmt("%.0f", r.tokens_per_second) + " | " +
           fmt("%.4g", r.achieved_tflops) + " |\n";
  }
  s += "\nbinds: " + p.binds + ": " + p.binds_why + "\n\n";
  const auto& m = p.shape;
  s += "shape: " + std::to_string(m.num_hidden_layers) + " layers, hidden " + std::to_string(m.hidden_size) +
       ", " + std::to_string(m.num_attention_heads) + " heads, " + std::to_string(m.num_key_value_heads) +
       " KV heads, FFN " + std::to_string(m.intermediate_size) + ", seq " +
       std::to_string(p.seq_len) + ", vocab " + std::to_string(m.vocab_size) + " (" +
       human(p.params) + " parameters)\n";
  s += "batch: " + human(static_cast<double>(p.batch_tokens)) + " tokens per step, lr " + fmt("%.2e", p.lr) + ", " +
       std::to_string(p.steps) + " steps\n";
  s += "parallelism: data-parallel " + std::to_string(p.dp) + ", optimizer sharding " +
       (p.shard_optimizer ? "on" : "off") + ", recompute " + (p.recompute ? "on" : "off") + ", micro-batch " +
       std::to_string(p.micro_batch) + " rows, grad accumulation " + std::to_string(p.grad_accum) + "\n";
  s += "memory per device: " + fmt("%.2f", p.memory.total() / kGiB) + " GiB (weights " +
       fmt("%.2f", p.memory.weights / kGiB) + ", grads " + fmt("%.2f", p.memory.grads / kGiB) + ", optimizer " +
       fmt("%.2f", p.memory.optimizer / kGiB) + ", activations " + fmt("%.2f", p.memory.activations / kGiB) +
       (p.memory.buffers > 0 ? ", other buffers " + fmt("%.2f", p.memory.buffers / kGiB) : std::string()) + ") of " + fmt("%.0f", p.hw.memory_gib) + " GiB" +
       (p.fits ? "" : ": DOES NOT FIT; this toolkit has no tensor parallelism, pick a smaller --size") + "\n";
  s += "run: " + fmt("%.2f", p.epochs) + " epochs, " + human(p.train_tokens) + " tokens, " +
       fmt("%.3g", p.expected_hours) + " h";
  if (p.cost > 0) s += ", cost " + fmt("%.2f", p.cost);
  s += "\n";
  return s;
}

std::string train_yaml(const Plan& p, const PlanOptions& o) {
  const auto& m = p.shape;
  std::string y = "# Written by nativelm plan: " + human(p.params) + " parameters, " + human(p.train_tokens) +
                  " tokens (" + fmt("%.2f", p.epochs) + " epochs), about " + fmt("%.3g", p.expected_hours) +
                  " h on " + std::to_string(p.devices) + " x " + p.hw.name + ".\n";
  if (p.dp > 1)
    y += "# Data-parallel over " + std::to_string(p.dp) + " ranks" +
         (p.shard_optimizer ? " with optimizer sharding" : "") + "; batch_size is per rank.\n";
  y += "out_dir: " + o.out_dir + "\n";
  if (!o.init_from.empty()) {
    y += "init_from: " + o.init_from + "\n";
  } else {
    y += "model:\n  vocab_size: " + std::to_string(m.vocab_size) + "\n  hidden_size: " + std::to_string(m.hidden_size) +
         "\n  intermediate_size: " + std::to_string(m.intermediate_size) + "\n  num_hidden_layers: " +
         std::to_string(m.num_hidden_layers) + "\n  num_attention_heads: " + std::to_string(m.num_attention_heads) +
         "\n  num_key_value_heads: " + std::to_string(m.num_key_value_heads) + "\n  max_position_embeddings: " +
         std::to_string(m.max_position_embeddings) + "\n  tie_word_embeddings: " +
         (m.tie_word_embeddings ? "true" : "false") + "\n";
  }
  if (!p.train_files.empty()) {
    y += "data:\n  train:\n";
    for (auto& f : p.train_files) y += "    - " + f + "\n";
    if (!p.eval_files.empty()) {
      y += "  eval:\n";
      for (auto& f : p.eval_files) y += "    - " + f + "\n";
    }
  }
  y += "batch_size: " + std::to_string(p.micro_batch) + "\nseq_len: " +
       std::to_string(p.seq_len) + "\ngrad_accum: " + std::to_string(p.grad_accum) +
       "\nsteps: " + std::to_string(p.steps) + "\nrecompute: " + (p.recompute ? "true" : "false") +
       "\nshuffle_documents: true\n";
  y += "schedule: {type: cosine, lr: " + fmt("%.3g", p.lr) + ", min_lr: " + fmt("%.3g", p.min_lr) +
       ", warmup_steps: " + std::to_string(p.warmup_steps) + "}\n";
  y += "device: " + std::string(p.hw.name == "cpu" ? "cpu" : "cuda") + "\n";
  return y;
}

const std::vector<std::string>& budget_keys() {
  static const std::vector<std::string> keys = {"gpu",  "hours",  "gpu_hours", "price",
                                                "mfu",  "tflops", "probe",     "probe_steps"};
  return keys;
}

void declare_budget(opt::Schema& s, BudgetOptions& o, const std::string& prefix, const std::string& gpu_doc) {
  s.add(prefix + "gpu", o.gpu,
        gpu_doc.empty() ? "Device kind: a100, h100, h200, l40s, rtx4090 (peak bf16 TFLOP/s and memory from a table) "
                          "or cpu (this machine's measured sgemm peak and memory)"
                        : gpu_doc);
  s.add(prefix + "hours", o.hours, "Wall-clock budget in hours (or gpu_hours)").min(0);
  s.add(prefix + "gpu_hours", o.gpu_hours, "Budget in device hours over all devices, instead of hours").min(0);
  s.add(prefix + "price", o.price, "Price of one device hour, for the cost line (0 = none)").min(0);
  s.add(prefix + "mfu", o.mfu, "Assumed model FLOPs utilisation of the peak").range(0.01, 1);
  s.add(prefix + "tflops", o.tflops, "Achieved TFLOP/s per device (NeMo's tflops_per_gpu); 0 = mfu x peak").min(0);
  s.add(prefix + "probe", o.probe,
        "Measure 2-3 candidate shapes with short train runs on this machine's backend (cpu, or cuda for GPU kinds) "
        "instead of assuming mfu");
  s.add(prefix + "probe_steps", o.probe_steps, "Steps of each probe run (the first, with allocation, is not timed)")
      .range(2, 1000);
  s.check([&o, prefix] {
    if (o.hours > 0 && o.gpu_hours > 0) opt::fail(prefix + "gpu_hours", "is given with hours", "give one budget");
  });
}

void declare(opt::Schema& s, PlanOptions& o) {
  declare_budget(s, o, "");
  s.add("gpus", o.gpus, "Devices per node (cpu: ignored, one process per node)").min(1);
  s.add("nodes", o.nodes, "Nodes").min(1);
  s.add("data", o.data, "nativelm tokenize output folder: its manifest.json gives the dataset tokens and shards");
  s.add("tokens", o.tokens, "Dataset tokens, when there is no tokenize folder (0 = from data)");
  s.add("vocab_size", o.vocab_size, "Tokenizer vocabulary (rounded up to 64 in the model); 0 = from the shards").min(0);
  s.add("size", o.size, "Target parameters (125M, 1.3B); empty = the planner picks the size");
  s.add("init_from", o.init_from, "Base HF checkpoint for continued pretraining: its size is fixed, the plan is tokens and time");
  s.add("seq_len", o.seq_len, "Sequence length; 0 = 2048 on GPUs, 256 on cpu").min(0);
  s.add("output", o.output, "Write the train YAML here (empty = print the plan only)").flag("-o,--output");
  s.add("out_dir", o.out_dir, "out_dir written into the train YAML");
  s.check([&o] {
    if (o.hours <= 0 && o.gpu_hours <= 0) opt::fail("hours", "is not set (or zero)", "give hours or gpu_hours above zero");
    if (!o.size.empty() && !o.init_from.empty()) opt::fail("size", "is given with init_from", "a base checkpoint fixes the size");
  });
}

}  // namespace nlm::plan
