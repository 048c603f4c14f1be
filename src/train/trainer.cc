// The training loop (see trainer.h): build or load the model, then per step accumulate
// gradients over micro-batches, clip, AdamW at the scheduled learning rate, log, evaluate and
// checkpoint. Deterministic: same seed, data and thread count give the same losses, and a
// resumed run continues the same curve.
#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_escape.h"
#include "core/log.h"
#include "core/options.h"
#include "core/progress.h"
#include "model/hf_checkpoint.h"
#include "tokenizer/tokenizer.h"
#include "train/checkpoint.h"

namespace nlm::train {

namespace fs = std::filesystem;

void TrainOptions::validate() const {
  if (out_dir.empty()) opt::fail("out_dir", "is required", "name the run directory");
  if (train_data.empty()) opt::fail("data.train", "is empty", "list .tok shards to train on");
  for (const auto& src : train_data)
    if (src.shards.empty() || !(src.weight > 0)) opt::fail("data.train", "has a source without shards or weight");
  if (batch_size <= 0) opt::fail("batch_size", "must be at least 1");
  if (seq_len <= 0) opt::fail("seq_len", "must be at least 1");
  if (grad_accum <= 0) opt::fail("grad_accum", "must be at least 1");
  if (steps <= 0) opt::fail("steps", "must be at least 1");
  if (keep_checkpoints < 1) opt::fail("keep_checkpoints", "must be at least 1");
  if (save_dtype != tensor::DType::F32 && save_dtype != tensor::DType::BF16 &&
      save_dtype != tensor::DType::F16)
    opt::fail("save_dtype", "must be float32, bfloat16 or float16");
  train::validate(schedule);
}

Interrupted::Interrupted(int sig, int64_t done, std::string dir)
    : Error(ErrorKind::Runtime,
            format_error(std::string("interrupted by ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + " after step " +
                             std::to_string(done) + "; checkpoint saved",
                         dir, "continue with: nativelm train <the same arguments> --resume")),
      signal(sig),
      step(done),
      checkpoint(std::move(dir)) {}

namespace {

// Decoding one id alone is wrong twice over: a byte-level piece holding part of a multi-byte
// character decodes to U+FFFD (3 bytes), and a special token such as the EOS that `nativelm
// tokenize` appends decodes to its own spelling ("<|end_of_text|>", 15 bytes) although it stands
// for no text. So: byte-level pieces count their raw bytes, byte-fallback pieces "<0xNN>" one
// byte, special tokens none, and other pieces (metaspace vocabularies) what they decode to alone.
uint32_t token_byte_length(const tokenizer::Tokenizer& tok, uint32_t id, bool byte_level) {
  if (const tokenizer::AddedToken* a = tok.added_token(id))
    return a->special ? 0 : static_cast<uint32_t>(tok.decode({id}).size());
  if (tok.is_byte_fallback(id)) return 1;
  if (byte_level && id < tok.model.tokens.size()) return static_cast<uint32_t>(tok.model.tokens[id].size());
  return static_cast<uint32_t>(tok.decode({id}).size());
}

struct EvalResult {
  double loss = 0, bpb = -1;
};

EvalResult evaluate(model::Llama& m, const TrainOptions& o) {
  LmBatches eval({{o.eval_shards, 1.0}}, o.batch_size, o.seq_len, o.doc_masking, 0,
                 m.config().vocab_size);
  double nats = 0, bytes = 0;
  int64_t count = 0;
  for (int i = 0; i < o.eval_batches; ++i) {
    model::Batch b = eval.next();
    m.forward(b);
    auto losses = m.token_losses();
    for (size_t k = 0; k < losses.size(); ++k) {
      if (b.targets[k] < 0) continue;
      nats += losses[k];
      ++count;
      if (!o.token_bytes.empty()) bytes += o.token_bytes.at(static_cast<size_t>(b.targets[k]));
    }
  }
  EvalResult r;
  r.loss = count ? nats / static_cast<double>(count) : 0;
  if (bytes > 0) r.bpb = nats / std::log(2.0) / bytes;
  return r;
}

std::string fingerprint(const TrainOptions& o, const model::ModelConfig& c) {
  return "B=" + std::to_string(o.batch_size) + " T=" + std::to_string(o.seq_len) +
         " accum=" + std::to_string(o.grad_accum) + " params=" + std::to_string(c.parameter_count()) +
         " sources=" + std::to_string(o.train_data.size());
}

// Keeps metrics.jsonl lines with step <= `step` (after a resume, later lines are replaced). A
// process killed mid-line leaves a torn last line ('{"step":1' of step 12, say); only whole JSON
// objects with a step count. The kept lines give `r` the run's figures so far (steps, last loss
// and eval), so a resume with no step left to run reports what the uninterrupted run did.
void truncate_metrics(const std::string& path, int64_t step, TrainResult& r) {
  r.steps = step;
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("step") || !j["step"].is_number_integer()) continue;
    if (j["step"].get<int64_t>() > step) continue;
    kept += line + "\n";
    if (j.contains("loss") && j["loss"].is_number()) r.last_loss = j["loss"];
    if (j.contains("eval_loss") && j["eval_loss"].is_number()) {
      r.last_eval_loss = j["eval_loss"];
      r.last_eval_bpb = j.contains("eval_bits_per_byte") && j["eval_bits_per_byte"].is_number()
                            ? j["eval_bits_per_byte"].get<double>()
                            : -1;
    }
  }
  write_file_atomic(path, kept);
}

// A shard entry is a .tok file or a folder of them (sorted by name).
std::vector<std::string> expand_shards(const std::vector<std::string>& items, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& s : items) {
    if (!fs::is_directory(s)) {
      out.push_back(s);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(s))
      if (e.path().extension() == ".tok") found.push_back(e.path().string());
    std::sort(found.begin(), found.end());
    if (found.empty()) opt::fail(key, "names folder " + s + ", which holds no .tok shards");
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

// SIGINT/SIGTERM while run_train runs: the first asks the loop to stop after the current step
// (and checkpoint); a second one ends the process the default way.
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
  if (g_stop_signal != 0) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_stop_signal = sig;
}

// Installs the handlers for its lifetime and restores the previous ones. A signal that was
// ignored when the run started (a background job of a shell script) stays ignored.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 2; ++i) {
      sigaction(kSignals[i], nullptr, &old_[i]);
      if (old_[i].sa_handler != SIG_IGN) sigaction(kSignals[i], &sa, nullptr);
    }
  }
  ~StopSignals() {
    for (int i = 0; i < 2; ++i) sigaction(kSignals[i], &old_[i], nullptr);
    g_stop_signal = 0;
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  int pending() const { return g_stop_signal; }

 private:
  static constexpr int kSignals[2] = {SIGINT, SIGTERM};
  struct sigaction old_[2];
};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

std::vector<uint32_t> token_byte_lengths(const tokenizer::Tokenizer& tok) {
  bool byte_level = false;
  for (auto& d : tok.decoders) byte_level |= d.kind == tokenizer::DecoderStep::ByteLevel;
  std::vector<uint32_t> bytes;
  for (uint32_t id = 0; id < tok.vocab_size(); ++id) bytes.push_back(token_byte_length(tok, id, byte_level));
  return bytes;
}

TrainResult run_train(const TrainOptions& options) {
  options.validate();
  auto& be = tensor::backend_for(options.device);
  TrainOptions o = options;
  for (auto& src : o.train_data) src.shards = expand_shards(src.shards, "data.train");
  o.eval_shards = expand_shards(o.eval_shards, "data.eval");
  if (!o.resume) {
    std::string old = latest_checkpoint(o.out_dir);
    if (!old.empty() && !o.force)
      opt::fail("out_dir", "holds checkpoints of an earlier run (newest: " + fs::path(old).filename().string() + ")",
                "add --resume to continue that run, --force to start over from step 0 (deleting them), or choose "
                "a fresh run directory");
    if (!old.empty()) fs::remove_all(fs::path(o.out_dir) / "checkpoints");
  }
  if (o.token_bytes.empty() && !o.tokenizer.empty()) {
    o.token_bytes = token_byte_lengths(tokenizer::Tokenizer::load(o.tokenizer));
  }
  make_dirs(o.out_dir);
  model::ModelOptions mopt;
  mopt.recompute = o.recompute;
  std::unique_ptr<model::Llama> m;
  if (!o.init_from.empty()) {
    model::VocabExtension ext;
    if (!o.vocab_extension.empty()) ext = model::read_vocab_extension(o.vocab_extension);
    m = model::load_hf_model(o.init_from, be, mopt, o.vocab_extension.empty() ? nullptr : &ext);
  } else {
    m = std::make_unique<model::Llama>(o.model, be, mopt);
    m->init_random(o.seed);
  }
  if (o.seq_len > m->config().max_position_embeddings)
    usage_error("seq_len " + std::to_string(o.seq_len) + " exceeds max_position_embeddings " +
                    std::to_string(m->config().max_position_embeddings),
                "train", "lower seq_len");
  if (!o.token_bytes.empty() && static_cast<int64_t>(o.token_bytes.size()) < m->config().vocab_size)
    usage_error("vocabulary mismatch: tokenizer has " + std::to_string(o.token_bytes.size()) +
                    " tokens, model " + std::to_string(m->config().vocab_size),
                "train", "use the model's tokenizer");
  AdamW opt(*m, o.optimizer);
  LmBatches data(o.train_data, o.batch_size, o.seq_len, o.doc_masking, o.seed ^ 0x5eedull,
                 m->config().vocab_size, o.shuffle_documents);
  const std::string fp = fingerprint(o, m->config());
  const std::string metrics_path = o.out_dir + "/metrics.jsonl";

  int64_t start = 0;
  if (o.resume) {
    std::string ck = latest_checkpoint(o.out_dir);
    if (ck.empty()) {
      log::warn("no checkpoint in " + o.out_dir + "/checkpoints; starting from step 0");
    } else {
      TrainerState st = load_checkpoint(ck, *m, opt);
      if (st.fingerprint != fp)
        usage_error("checkpoint was made by a run with " + st.fingerprint + ", this run has " + fp, ck,
                    "resume with the same batch, sequence and model settings");
      data.restore(st.data_state);
      start = st.step;
      log::info("resumed from " + ck + " at step " + std::to_string(start));
    }
  }
  TrainResult r;
  if (start == 0) write_file_atomic(metrics_path, "");
  else truncate_metrics(metrics_path, start, r);
  std::ofstream metrics(metrics_path, std::ios::app);

  r.sgemm_gflops = be.peak_flops() / 1e9;
  const double tokens_per_step = double(o.batch_size) * o.seq_len * o.grad_accum;
  const double flops_per_token = m->train_flops_per_token(o.seq_len);
  double timed_seconds = 0, timed_tokens = 0;
  const std::string config = config_json(o);
  auto save = [&](int64_t step) {
    TrainerState st{step, data.state_json(), fp, config};
    return save_checkpoint(o.out_dir, *m, opt, st, o.keep_checkpoints, o.tokenizer);
  };
  StopSignals signals;

  for (int64_t step = start; step < o.steps; ++step) {
    auto t0 = std::chrono::steady_clock::now();
    m->zero_grad();
    double loss = 0;
    for (int micro = 0; micro < o.grad_accum; ++micro) {
      model::Batch b = data.next();
      loss += m->forward(b) / o.grad_accum;
      m->backward(1.0 / o.grad_accum);
    }
    double lr = lr_at(o.schedule, step, o.steps);
    double norm = opt.step(lr);
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!std::isfinite(loss))
      runtime_error("loss became " + std::to_string(loss) + " at step " + std::to_string(step + 1),
                    "train", "lower the learning rate or check the data");
    if (step > start || o.steps - start == 1) {  // the first step includes allocation; skip it
      timed_seconds += dt;
      timed_tokens += tokens_per_step;
    }
    r.losses.push_back(loss);
    r.last_loss = loss;
    r.steps = step + 1;
    double tps = timed_seconds > 0 ? timed_tokens / timed_seconds : tokens_per_step / dt;
    double mfu = tps * flops_per_token / (r.sgemm_gflops * 1e9);
    metrics << "{\"step\":" << step + 1 << ",\"loss\":" << fmt("%.6f", loss) << ",\"lr\":" << fmt("%.6g", lr)
            << ",\"grad_norm\":" << fmt("%.6g", norm) << ",\"tokens\":" << fmt("%.0f", (step + 1) * tokens_per_step)
            << ",\"tokens_per_s\":" << fmt("%.1f", tps) << ",\"mfu\":" << fmt("%.4f", mfu) << "}\n";
    metrics.flush();
    if (o.log_every > 0 && ((step + 1) % o.log_every == 0 || step + 1 == o.steps)) {
      double eta = tps > 0 ? double(o.steps - step - 1) * tokens_per_step / tps : 0;
      log::info("step " + std::to_string(step + 1) + "/" + std::to_string(o.steps) + " | loss " +
                fmt("%.4f", loss) + " | lr " + fmt("%.3g", lr) + " | " + human_count(tps) +
                " tok/s | MFU " + fmt("%.1f", 100 * mfu) + "% | ETA " + human_duration(eta));
    }
    bool last = step + 1 == o.steps;
    if (!o.eval_shards.empty() && ((o.eval_every > 0 && (step + 1) % o.eval_every == 0) || last)) {
      EvalResult e = evaluate(*m, o);
      r.last_eval_loss = e.loss;
      r.last_eval_bpb = e.bpb;
      metrics << "{\"step\":" << step + 1 << ",\"eval_loss\":" << fmt("%.6f", e.loss);
      if (e.bpb >= 0) metrics << ",\"eval_bits_per_byte\":" << fmt("%.6f", e.bpb);
      metrics << "}\n";
      metrics.flush();
      log::info("eval step " + std::to_string(step + 1) + (e.bpb >= 0 ? " | bits/byte " + fmt("%.4f", e.bpb) : "") +
                " | loss " + fmt("%.4f", e.loss));
    }
    std::string saved;
    if ((o.checkpoint_every > 0 && (step + 1) % o.checkpoint_every == 0) || last) saved = save(step + 1);
    if (signals.pending() && !last) {
      if (saved.empty()) saved = save(step + 1);
      throw Interrupted(signals.pending(), step + 1, saved);
    }
  }
  if (timed_seconds > 0) r.tokens_per_second = timed_tokens / timed_seconds;
  r.mfu = r.tokens_per_second * flops_per_token / (r.sgemm_gflops * 1e9);
  model::SaveOptions so;
  so.dtype = o.save_dtype;
  model::save_hf_model(o.out_dir + "/model", *m, so);
  write_model_files(o.out_dir + "/model", m->config(), o.tokenizer);
  // What killed earlier runs left: a checkpoint saved but not yet rotated (when the kill came
  // right after the last step's), and the temps of metrics.jsonl and of the model's files
  // (checkpoints are folders of their own, renamed whole).
  prune_checkpoints(o.out_dir, o.keep_checkpoints);
  remove_stale_temps(o.out_dir);
  remove_stale_temps(o.out_dir + "/model");
  return r;
}

}  // namespace nlm::train
