// `nativelm dpo` (see dpo.h): its option declaration and the run: load the model and its
// tokenizer and chat template, read and count the pairs, score them once with the initial model
// (or reuse reference_logps.json), run the shared loop with the DPO micro-step, and finish the
// output model folder as sft does.
#include "train/dpo.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/log.h"
#include "data/chat_template/model_template.h"
#include "data/sft_example.h"
#include "model/hf_checkpoint.h"
#include "tokenizer/tokenizer.h"
#include "train/dpo_data.h"
#include "train/dpo_step.h"
#include "train/data_parallel.h"
#include "train/run_fields.h"
#include "train/sft.h"
#include "train/trainer.h"

namespace nlm::train {

namespace fs = std::filesystem;

DpoTrainOptions::DpoTrainOptions() {
  encode.max_length = 1024;
  schedule.lr = 1e-6;
  schedule.min_lr = 1e-7;
  schedule.warmup_steps = 10;
}

void declare(opt::Schema& s, DpoTrainOptions& o) {
  s.add("model", o.model_dir, "HF model folder to train (config.json, safetensors, tokenizer.json, chat template)")
      .no_flag();
  s.add("data", o.data, "Training JSONL files of prompt (or messages), chosen and rejected records").no_flag();
  s.add("out_dir", o.out_dir,
        "Run directory: metrics.jsonl, reference_logps.json, checkpoints/step-NNNNNNNN/, and the model in model/")
      .flag("-o,--out")
      .no_json();
  s.add("eval_data", o.eval_data, "Held-out JSONL pair files for the eval figures (else eval_fraction of the pairs)")
      .flag("--eval");
  s.add("eval_fraction", o.eval_fraction,
        "Fraction of the pairs held out for eval when no eval files are given (0 = no eval)")
      .range(0, 0.5);
  s.add("strict", o.strict, "Stop at the first bad record instead of skipping and counting it");
  data::declare(s, o.encode);
  // DPO scores the responses only; its own `loss_type` names the preference loss.
  std::erase_if(s.fields(), [](const opt::Field& f) { return f.key == "loss"; });
  for (auto& f : s.fields())
    if (f.key == "max_length") {
      f.doc = "Longest prompt + response in tokens, per side of a pair (at most the model's max_position_embeddings)";
      f.min(2);
    }
  s.choice("loss_type", o.loss.type, {{"sigmoid", DpoLoss::Sigmoid}, {"hinge", DpoLoss::Hinge}, {"ipo", DpoLoss::Ipo}},
           "sigmoid: -logsigmoid(beta*h) (DPO); hinge: relu(1 - beta*h); ipo: (h - 1/(2*beta))^2 on per-token "
           "mean log-probs; h = (policy - reference) log-ratio of chosen minus that of rejected");
  s.add("beta", o.loss.beta, "Strength of the pull towards the reference model (DPO's beta)").range(1e-6, 100);
  s.add("label_smoothing", o.loss.label_smoothing,
        "Assumed probability that a preference label is flipped (sigmoid loss; 0 = plain DPO)")
      .range(0, 0.49);
  s.add("batch_size", o.batch_size, "Pairs per micro-batch (each is two rows: chosen and rejected)").min(1);
  s.add("grad_accum", o.grad_accum, "Micro-batches per optimizer step").min(1);
  s.add("epochs", o.epochs, "Passes over the training pairs (when steps is 0)").min(1);
  s.add("steps", o.steps, "Optimizer steps (0 = epochs x pairs / (batch_size x grad_accum), rounded up)").min(0);
  declare(s, o.schedule);
  declare(s, o.optimizer);
  s.add("eval_every", o.eval_every, "Steps between evals (0 = only at the end)").min(0);
  declare_run_fields(s, o, "Seed of the pair order and of the held-out split");
  s.check([&o] {
    if (o.model_dir.empty()) opt::fail("model", "is required", "name the HF model folder to train");
    if (o.data.empty()) opt::fail("data", "is empty", "name JSONL files of prompt/chosen/rejected records");
    if (o.out_dir.empty()) opt::fail("out_dir", "is required", "name the run directory");
    if (!o.eval_data.empty() && o.eval_fraction > 0)
      opt::fail("eval_fraction", "and eval files are both given", "use one of the two");
    if (o.loss.label_smoothing > 0 && o.loss.type != DpoLoss::Sigmoid)
      opt::fail("label_smoothing", "applies to the sigmoid loss only", "drop it or use loss_type sigmoid");
  });
}

namespace {

// FNV-1a over the pairs' ids and masks: reference log-probs are reused only for the same data.
std::string data_hash(const DpoSplit& train, const DpoSplit& eval) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint64_t v) {
    h ^= v;
    h *= 1099511628211ull;
  };
  for (const DpoSplit* s : {&train, &eval}) {
    mix(s->examples.size());
    for (const auto& e : s->examples) {
      mix(e.ids.size());
      for (size_t t = 0; t < e.ids.size(); ++t) mix((uint64_t(e.ids[t]) << 1) | e.mask[t]);
    }
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

nlohmann::json to_json(const SeqLogps& s) { return {{"sum", s.sum}, {"tokens", s.tokens}}; }

bool from_json(const nlohmann::json& j, SeqLogps& s, size_t n) {
  if (!j.is_object() || !j.contains("sum") || !j.contains("tokens")) return false;
  s.sum = j["sum"].get<std::vector<double>>();
  s.tokens = j["tokens"].get<std::vector<int64_t>>();
  return s.sum.size() == n && s.tokens.size() == n;
}

// Loads OUT/reference_logps.json when it was written for the same model and data (on every rank,
// or else on none); else scores the pairs with the model as loaded (the initial weights: run_loop
// loads checkpoints later), each rank its share of the batches, and rank 0 writes the file.
bool reference_logps(model::Llama& m, const Ranks& ranks, const std::string& path, const std::string& key,
                     const DpoBatches& train, const DpoBatches* eval, int B, SeqLogps& ref_train, SeqLogps& ref_eval) {
  bool reuse = false;
  if (fs::exists(path)) {
    auto j = nlohmann::json::parse(read_file(path), nullptr, false);
    reuse = !j.is_discarded() && j.is_object() && j.value("key", "") == key &&
            from_json(j["train"], ref_train, 2 * train.pairs()) &&
            from_json(j["eval"], ref_eval, eval ? 2 * eval->pairs() : 0);
    if (!reuse) log::warn("reference log-probs in " + path + " are for other data or another model; scoring again");
  }
  if (ranks.all(reuse)) return true;
  auto score = [&](const DpoBatches& data) {
    SeqLogps s = score_pairs(m, data, B, ranks.rank(), ranks.size());
    std::vector<double> tokens(s.tokens.begin(), s.tokens.end());
    ranks.sum(s.sum);  // each pair was scored on one rank, zeros elsewhere: the sums are exact
    ranks.sum(tokens);
    for (size_t k = 0; k < tokens.size(); ++k) s.tokens[k] = static_cast<int64_t>(tokens[k]);
    return s;
  };
  ref_train = score(train);
  ref_eval = eval ? score(*eval) : SeqLogps{};
  if (ranks.lead()) {
    nlohmann::json j = {{"key", key}, {"train", to_json(ref_train)}, {"eval", to_json(ref_eval)}};
    write_file_atomic(path, j.dump() + "\n");
  }
  return false;
}

DpoRunResult dpo_on(const DpoTrainOptions& o, const Ranks& ranks) {
  auto& be = ranks.backend();
  LoopOptions lo = loop_options(o);
  lo.command = "dpo";
  ranks.attach(lo);
  check_model_folder(o.model_dir, o.encode.max_length);
  const std::string tokenizer_path = o.model_dir + "/tokenizer.json";
  auto tok = tokenizer::Tokenizer::load(tokenizer_path);
  auto chat = data::chat_template::load_model_chat_template(o.model_dir);
  data::SftOptions enc = o.encode;
  enc.loss = data::SftLoss::Response;
  data::SftEncoder encoder(tok, chat, enc);
  warn_split_chat_markers(tok, chat);

  DpoRunResult r;
  DpoSplit train = read_dpo_files(o.data, encoder, o.strict);
  DpoSplit eval = o.eval_data.empty() ? hold_out_pairs(train, o.eval_fraction, o.seed)
                                      : read_dpo_files(o.eval_data, encoder, o.strict);
  add_counts(r, train.counts);
  add_counts(r, eval.counts);
  r.records = train.records;
  r.pairs = train.pairs();
  r.eval_pairs = eval.pairs();
  log::info("dpo data: " + describe(train));
  if (!o.eval_data.empty()) log::info("dpo eval data: " + describe(eval));
  else if (eval.pairs()) log::info("dpo eval: " + std::to_string(eval.pairs()) + " pairs held out");
  if (train.pairs() == 0)
    usage_error("no usable training pairs in " + std::to_string(train.records) + " records", o.data.front(),
                "check the records' shape (prompt or messages, chosen, rejected); the first errors are above");

  make_dirs(o.out_dir);
  model::ModelOptions mopt;
  mopt.recompute = o.recompute;
  auto m = model::load_hf_model(o.model_dir, be, mopt);
  m->add_lora(o.lora, o.seed);  // B = 0: the reference log-probs below are the base model's
  check_vocab(tok, *m, o.model_dir);

  const int T = static_cast<int>(o.encode.max_length);
  DpoBatches batches(train, o.batch_size, T, o.seed ^ 0xd90ull);
  std::unique_ptr<DpoBatches> eval_pairs;
  if (eval.pairs()) eval_pairs = std::make_unique<DpoBatches>(eval, o.batch_size, T, 0);
  SeqLogps ref_train, ref_eval;
  r.reference_reused = reference_logps(*m, ranks, o.out_dir + "/reference_logps.json",
                                       o.model_dir + " " + data_hash(train, eval), batches, eval_pairs.get(),
                                       o.batch_size, ref_train, ref_eval);
  log::info(std::string("dpo: reference log-probs ") + (r.reference_reused ? "reused from" : "written to") + " " +
            o.out_dir + "/reference_logps.json");

  const int64_t per_step = int64_t(o.batch_size) * o.grad_accum;
  lo.steps = o.steps > 0 ? o.steps : o.epochs * ((static_cast<int64_t>(train.pairs()) + per_step - 1) / per_step);
  lo.tokenizer = tokenizer_path;
  lo.seq_len = T;
  lo.fingerprint = "B=" + std::to_string(o.batch_size) + " T=" + std::to_string(T) + " accum=" +
                   std::to_string(o.grad_accum) + " params=" + std::to_string(m->config().parameter_count()) +
                   " pairs=" + std::to_string(train.pairs()) + " dpo" + lora_fingerprint(o.lora);
  lo.base_model = o.model_dir;
  lo.config_json = opt::json_of(o);
  DpoFigures step_figures;
  lo.micro_step = [&](model::Llama& model, const model::Batch& b, double scale) {
    return dpo_micro_step(model, b, batches.last_pairs(), ref_train, o.loss, scale, step_figures);
  };
  lo.step_figures = [&] {
    Figures f = step_figures.named();
    step_figures = DpoFigures{};
    return f;
  };
  log::info("dpo: " + std::to_string(train.pairs()) + " pairs, " + std::to_string(lo.steps) + " steps");
  std::function<EvalFigures(model::Llama&)> eval_fn;
  if (eval_pairs)
    eval_fn = [&](model::Llama& model) {
      EvalFigures e = evaluate_pairs(model, *eval_pairs, ref_eval, o.loss, o.batch_size);
      r.last_eval = e.extra;
      return e;
    };
  r.train = run_loop(*m, batches, lo, eval_fn);
  if (ranks.lead())
    for (const auto& dir : {r.train.model_dir, r.train.adapter_dir})
      if (!dir.empty()) finish_chat_model(dir, tok, chat);
  return r;
}

}  // namespace

DpoRunResult run_dpo(const DpoTrainOptions& options) {
  check_options(options, "dpo");
  return run_data_parallel(options.device, "dpo", [&](Ranks& ranks) { return dpo_on(options, ranks); });
}

}  // namespace nlm::train
