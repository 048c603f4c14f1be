// The shared optimizer loop (see loop.h), moved here from trainer.cc so that `train` and `sft`
// run the same steps, logging, checkpoints and resume. Deterministic: same seed, data and thread
// count give the same losses, and a resumed run continues the same curve.
#include "train/loop.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/log.h"
#include "core/options.h"
#include "core/progress.h"
#include "model/hf_checkpoint.h"
#include "model/peft_adapter.h"
#include "train/checkpoint.h"
#include "train/tracking.h"

namespace nlm::train {

namespace fs = std::filesystem;

Interrupted::Interrupted(int sig, int64_t done, std::string dir, const std::string& command)
    : Error(ErrorKind::Runtime,
            format_error(std::string("interrupted by ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + " after step " +
                             std::to_string(done) + "; checkpoint saved",
                         dir, "continue with: nativelm " + command + " <the same arguments> --resume")),
      signal(sig),
      step(done),
      checkpoint(std::move(dir)) {}

namespace {

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

// SIGINT/SIGTERM while run_loop runs: the first asks the loop to stop after the current step
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

std::string outputs_text(const TrainResult& r) {
  if (r.adapter_dir.empty()) return "model in " + r.model_dir;
  if (r.model_dir.empty()) return "LoRA adapter (PEFT) in " + r.adapter_dir + "; add --merge for a merged model";
  return "LoRA adapter (PEFT) in " + r.adapter_dir + ", merged model in " + r.model_dir;
}

void check_ranks(const LoopOptions& o) {
  const int ranks = o.comm ? o.comm->size() : 1;
  if (o.grad_accum % ranks != 0)
    usage_error("grad_accum " + std::to_string(o.grad_accum) + " is not a multiple of the " + std::to_string(ranks) +
                    " data-parallel ranks",
                o.command, "make grad_accum a multiple of the rank count (each rank computes grad_accum/ranks micro-batches)");
}

void check_run_dir(const LoopOptions& o) {
  if (o.resume) return;
  std::string old = latest_checkpoint(o.out_dir);
  if (!old.empty() && !o.force)
    opt::fail("out_dir", "holds checkpoints of an earlier run (newest: " + fs::path(old).filename().string() + ")",
              "add --resume to continue that run, --force to start over from step 0 (deleting them), or choose "
              "a fresh run directory");
  if (!old.empty()) fs::remove_all(fs::path(o.out_dir) / "checkpoints");
}

TrainResult run_loop(model::Llama& m, LoopData& data, const LoopOptions& o,
                     const std::function<EvalFigures(model::Llama&)>& evaluate) {
  auto& be = m.backend();
  const int ranks = o.comm ? o.comm->size() : 1, rank = o.comm ? o.comm->rank() : 0;
  const bool lead = rank == 0;
  check_ranks(o);
  AdamW opt(m, o.optimizer, o.comm);
  // Sums host figures over the ranks (the identity with one).
  auto sum_over_ranks = [&](std::vector<double> v) {
    if (ranks > 1) o.comm->all_reduce_sum(v);
    return v;
  };
  const std::string metrics_path = o.out_dir + "/metrics.jsonl";

  int64_t start = 0;
  double tokens_done = 0;  // real tokens of the steps completed
  if (o.resume) {
    std::string ck = latest_checkpoint(o.out_dir);
    if (ck.empty()) {
      log::warn("no checkpoint in " + o.out_dir + "/checkpoints; starting from step 0");
    } else {
      TrainerState st = load_checkpoint(ck, m, opt);
      if (st.fingerprint != o.fingerprint)
        usage_error("checkpoint was made by a run with " + st.fingerprint + ", this run has " + o.fingerprint, ck,
                    "resume with the same batch, sequence and model settings");
      data.restore(st.data_state);
      start = st.step;
      tokens_done = st.tokens;  // −1 (older checkpoint): estimated from the first step below
      log::info("resumed from " + ck + " at step " + std::to_string(start));
    }
  }
  TrainResult r;
  r.rank = rank;
  // Rank 0 alone writes metrics.jsonl and logs to MLflow; the other ranks write to nowhere.
  if (lead && start == 0) write_file_atomic(metrics_path, "");
  else if (lead) truncate_metrics(metrics_path, start, r);
  else r.steps = start;
  std::ofstream metrics;
  if (lead) metrics.open(metrics_path, std::ios::app);
  LoopOptions untracked = o;
  untracked.mlflow.clear();
  RunTracker tracker(lead ? o : untracked, start);

  r.sgemm_gflops = be.peak_flops() / 1e9;
  const double flops_per_token = m.train_flops_per_token(o.seq_len);
  double timed_seconds = 0, timed_tokens = 0;
  auto save = [&](int64_t step) {
    TrainerState st{step, data.state_json(), o.fingerprint, o.config_json, tokens_done};
    return save_checkpoint(o.out_dir, m, opt, st, o.keep_checkpoints, o.tokenizer);
  };
  StopSignals signals;

  for (int64_t step = start; step < o.steps; ++step) {
    auto t0 = std::chrono::steady_clock::now();
    m.zero_grad();
    double loss = 0, step_tokens = 0;
    for (int micro = 0; micro < o.grad_accum; ++micro) {
      int64_t n = 0;
      model::Batch b = data.next(n);
      step_tokens += static_cast<double>(n);
      if (micro % ranks != rank) continue;  // another rank's micro-batch
      // In this rank's last micro-batch, each layer's gradients are reduce-scattered as soon as
      // backward finishes them. A custom micro_step may run several backwards: reduced in step().
      if (ranks > 1 && micro + ranks >= o.grad_accum && !o.micro_step)
        m.set_grad_ready_hook([&opt](int group) { opt.grads_ready(group); });
      // LoRA dropout, in these forwards only, with masks named by (step, micro) so resume redraws them.
      m.set_training(true, static_cast<uint64_t>(step) * 4096 + static_cast<uint64_t>(micro) + 1);
      if (o.micro_step) {
        loss += o.micro_step(m, b, 1.0 / o.grad_accum) / o.grad_accum;
      } else {
        loss += m.forward_backward(b, 1.0 / o.grad_accum) / o.grad_accum;  // one pass over the LM head
      }
      m.set_training(false);
      m.set_grad_ready_hook(nullptr);
    }
    double lr = lr_at(o.schedule, step, o.steps);
    double norm = opt.step(lr);
    loss = sum_over_ranks({loss})[0];  // the global mean: each rank's share is already over grad_accum
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!std::isfinite(loss))
      runtime_error("loss became " + std::to_string(loss) + " at step " + std::to_string(step + 1), o.command,
                    "lower the learning rate or check the data");
    if (tokens_done < 0) tokens_done = static_cast<double>(start) * step_tokens;
    tokens_done += step_tokens;
    if (step > start || o.steps - start == 1) {  // the first step includes allocation; skip it
      timed_seconds += dt;
      timed_tokens += step_tokens;
    }
    r.losses.push_back(loss);
    r.last_loss = loss;
    r.steps = step + 1;
    double tps = timed_seconds > 0 ? timed_tokens / timed_seconds : step_tokens / dt;
    double mfu = tps * flops_per_token / (r.sgemm_gflops * 1e9);
    metrics << "{\"step\":" << step + 1 << ",\"loss\":" << fmt("%.6f", loss) << ",\"lr\":" << fmt("%.6g", lr)
            << ",\"grad_norm\":" << fmt("%.6g", norm) << ",\"tokens\":" << fmt("%.0f", tokens_done)
            << ",\"tokens_per_s\":" << fmt("%.1f", tps) << ",\"mfu\":" << fmt("%.4f", mfu);
    Figures extra = o.step_figures ? o.step_figures() : Figures{};
    if (ranks > 1 && !extra.empty()) {  // the mean of the ranks' figures (each over its micro-batches)
      std::vector<double> v;
      for (const auto& f : extra) v.push_back(f.second);
      v = sum_over_ranks(v);
      for (size_t i = 0; i < extra.size(); ++i) extra[i].second = v[i] / ranks;
    }
    std::string shown;
    for (const auto& [name, v] : extra) {
      metrics << ",\"" << name << "\":" << fmt("%.6g", v);
      shown += " | " + name + " " + fmt("%.4g", v);
    }
    metrics << "}\n";
    metrics.flush();
    Figures logged = {{"loss", loss}, {"lr", lr}, {"grad_norm", norm}, {"tokens", tokens_done},
                      {"tokens_per_s", tps}, {"mfu", mfu}};
    logged.insert(logged.end(), extra.begin(), extra.end());
    tracker.log(step + 1, logged);
    if (lead && o.log_every > 0 && ((step + 1) % o.log_every == 0 || step + 1 == o.steps)) {
      double per_step = timed_seconds > 0 && step > start ? timed_seconds / double(step - start) : dt;
      double eta = double(o.steps - step - 1) * per_step;
      log::info("step " + std::to_string(step + 1) + "/" + std::to_string(o.steps) + " | loss " +
                fmt("%.4f", loss) + " | lr " + fmt("%.3g", lr) + " | " + human_count(tps) +
                " tok/s | MFU " + fmt("%.1f", 100 * mfu) + "% | ETA " + human_duration(eta) + shown);
    }
    bool last = step + 1 == o.steps;
    if (lead && evaluate && ((o.eval_every > 0 && (step + 1) % o.eval_every == 0) || last)) {
      EvalFigures e = evaluate(m);
      r.last_eval_loss = e.loss;
      r.last_eval_bpb = e.bpb;
      metrics << "{\"step\":" << step + 1 << ",\"eval_loss\":" << fmt("%.6f", e.loss);
      if (e.bpb >= 0) metrics << ",\"eval_bits_per_byte\":" << fmt("%.6f", e.bpb);
      std::string shown_eval;
      for (const auto& [name, v] : e.extra) {
        metrics << ",\"eval_" << name << "\":" << fmt("%.6g", v);
        shown_eval += " | " + name + " " + fmt("%.4g", v);
      }
      metrics << "}\n";
      metrics.flush();
      Figures eval_logged = {{"eval_loss", e.loss}};
      if (e.bpb >= 0) eval_logged.emplace_back("eval_bits_per_byte", e.bpb);
      for (const auto& [name, v] : e.extra) eval_logged.emplace_back("eval_" + name, v);
      tracker.log(step + 1, eval_logged);
      log::info("eval step " + std::to_string(step + 1) + (e.bpb >= 0 ? " | bits/byte " + fmt("%.4f", e.bpb) : "") +
                " | loss " + fmt("%.4f", e.loss) + shown_eval);
    }
    std::string saved;
    if ((o.checkpoint_every > 0 && (step + 1) % o.checkpoint_every == 0) || last) saved = save(step + 1);
    // Every rank stops after the same step (a signal may reach the ranks at different times).
    int stop = signals.pending();
    if (ranks > 1 && sum_over_ranks({static_cast<double>(stop)})[0] > 0 && stop == 0) stop = SIGTERM;
    if (stop && !last) {
      if (saved.empty()) saved = save(step + 1);
      tracker.killed();
      throw Interrupted(stop, step + 1, saved, o.command);
    }
  }
  if (timed_seconds > 0) r.tokens_per_second = timed_tokens / timed_seconds;
  r.mfu = r.tokens_per_second * flops_per_token / (r.sgemm_gflops * 1e9);
  if (!lead) {  // rank 0 saves the model; the others only wait for it to finish
    r.model_dir = m.lora().enabled() && !o.merge_lora ? "" : o.out_dir + "/model";
    if (m.lora().enabled()) r.adapter_dir = o.out_dir + "/adapter";
    tracker.finished(metrics_path);
    o.comm->barrier();
    return r;
  }
  model::SaveOptions so;
  so.dtype = o.save_dtype;
  if (m.lora().enabled()) {
    r.adapter_dir = o.out_dir + "/adapter";
    model::save_peft_adapter(r.adapter_dir, m, o.base_model);
    write_model_files(r.adapter_dir, m.config(), o.tokenizer);
    remove_stale_temps(r.adapter_dir);
    if (o.merge_lora) m.merge_lora();
    // A model/ of an earlier run in this folder would pass for this run's result.
    else if (fs::exists(o.out_dir + "/model")) fs::remove_all(o.out_dir + "/model");
  }
  if (!m.lora().enabled()) {
    r.model_dir = o.out_dir + "/model";
    model::save_hf_model(r.model_dir, m, so);
    write_model_files(r.model_dir, m.config(), o.tokenizer);
  }
  // What killed earlier runs left: a checkpoint saved but not yet rotated (when the kill came
  // right after the last step's), and the temps of metrics.jsonl and of the model's files
  // (checkpoints are folders of their own, renamed whole).
  prune_checkpoints(o.out_dir, o.keep_checkpoints);
  remove_stale_temps(o.out_dir);
  if (!r.model_dir.empty()) remove_stale_temps(r.model_dir);
  metrics.close();
  tracker.finished(metrics_path);
  if (ranks > 1) o.comm->barrier();
  return r;
}

}  // namespace nlm::train
