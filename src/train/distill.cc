// `nativelm distill` (see distill.h): its option declaration and the run: load and freeze the
// teacher, load the student, check that they share a tokenizer, batch the shards as `train` does,
// and run the shared loop with a micro-step that forwards the teacher, then the student, and
// backpropagates the distillation loss through the student alone.
#include "train/distill.h"

#include <cmath>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "model/config.h"
#include "model/hf_checkpoint.h"
#include "tokenizer/tokenizer.h"
#include "train/lm_batches.h"
#include "train/lm_loop_data.h"
#include "train/data_parallel.h"
#include "train/run_fields.h"
#include "train/sft.h"
#include "train/trainer.h"

namespace nlm::train {

namespace fs = std::filesystem;

DistillOptions::DistillOptions() {
  schedule.lr = 1e-4;
  schedule.min_lr = 1e-5;
  schedule.warmup_steps = 20;
}

void declare(opt::Schema& s, DistillOptions& o) {
  s.add("teacher", o.teacher, "HF model folder of the teacher (frozen: forward only, no gradients)")
      .flag("--teacher");
  s.add("student", o.student,
        "HF model folder the student starts from (e.g. from nativelm prune); must share the teacher's tokenizer")
      .flag("--student");
  s.add("data", o.data, "Training .tok shards or folders of them (from nativelm tokenize with the shared tokenizer)")
      .no_flag();
  s.add("data.eval", o.eval_shards,
        "Held-out .tok shards or folders of them: eval loss, bits per byte and KL to the teacher (none = no eval)")
      .flag("--eval")
      .no_json();
  s.add("out_dir", o.out_dir, "Run directory: metrics.jsonl, checkpoints/step-NNNNNNNN/, and the student in model/")
      .flag("-o,--out")
      .no_json();
  s.add("temperature", o.loss.temperature,
        "Softmax temperature of teacher and student in the KD term (loss scaled by its square); 1 is plain KL, "
        "as LM distillation usually uses; above 1 flattens both distributions");
  s.add("alpha", o.loss.alpha, "Weight of the KD term; 1 - alpha goes to the LM cross-entropy on the data (0 = plain LM)")
      .range(0, 1);
  s.add("top_k", o.loss.top_k,
        "Teacher ids kept per position, renormalised (the tail is dropped); 0 = the full vocabulary")
      .min(0);
  s.add("batch_size", o.batch_size, "Rows per micro-batch (B)").min(1);
  s.add("seq_len", o.seq_len, "Tokens per row (T)").min(1);
  s.add("grad_accum", o.grad_accum, "Micro-batches per optimizer step").min(1);
  s.add("doc_masking", o.doc_masking,
        "Attention stays inside each document of a packed row; positions restart per document")
      .flag("--no-doc-masking");
  s.add("steps", o.steps, "Optimizer steps in total").min(1);
  declare(s, o.schedule);
  declare(s, o.optimizer);
  s.add("eval_every", o.eval_every, "Steps between evals (0 = only at the end)").min(0);
  s.add("eval_batches", o.eval_batches, "Micro-batches per eval (from the start of the eval shards)").min(0);
  declare_run_fields(s, o, "Seed of data mixing (and of LoRA adapters)");
  s.check([&o] {
    if (o.teacher.empty()) opt::fail("teacher", "is required", "name the teacher's HF model folder");
    if (o.student.empty()) opt::fail("student", "is required", "name the student's HF model folder");
    if (o.data.empty()) opt::fail("data", "is empty", "name .tok shards to train on");
    if (o.out_dir.empty()) opt::fail("out_dir", "is required", "name the run directory");
    if (!(o.loss.temperature > 0) || !std::isfinite(o.loss.temperature))
      opt::fail("temperature", "must be a positive number, got " + std::to_string(o.loss.temperature),
                "use 1 for plain KL or 2 for the usual softened targets");
  });
}

void check_same_vocabulary(const tokenizer::Tokenizer& t, const std::string& teacher_dir,
                           const tokenizer::Tokenizer& s, const std::string& student_dir) {
  const std::string where = "teacher " + teacher_dir + ", student " + student_dir;
  const std::string fix = "distill needs one tokenizer: give the student the teacher's tokenizer.json";
  if (t.vocab_size() != s.vocab_size())
    usage_error("vocabulary mismatch: the teacher's tokenizer has " + std::to_string(t.vocab_size()) +
                    " tokens, the student's " + std::to_string(s.vocab_size()),
                where, fix);
  for (uint32_t id = 0; id < t.vocab_size(); ++id)
    if (t.token_text(id) != s.token_text(id))
      usage_error("vocabulary mismatch: token " + std::to_string(id) + " is " + echoed(t.token_text(id), 40) +
                      " in the teacher's tokenizer and " + echoed(s.token_text(id), 40) + " in the student's",
                  where, fix);
}

namespace {

// The teacher's targets for a batch: one frozen forward, its logits cut to the loss's support
// (and kept in *logits when asked).
TeacherTargets teacher_forward(model::Llama& teacher, const model::Batch& b, const DistillLossOptions& o,
                               std::vector<float>* logits = nullptr) {
  std::vector<float> own;
  std::vector<float>& l = logits ? *logits : own;
  teacher.forward(b, &l);
  return teacher_targets(l, int64_t(b.B) * b.T, teacher.config().vocab_size, o);
}

struct StepSums {
  double kd = 0, ce = 0;
  int64_t micro = 0;
};

EvalFigures evaluate(model::Llama& student, model::Llama& teacher, const DistillOptions& o,
                     const std::vector<uint32_t>& token_bytes, const std::vector<std::string>& eval_shards) {
  const int64_t V = student.config().vocab_size;
  LmBatches eval({{eval_shards, 1.0}}, o.batch_size, o.seq_len, o.doc_masking, 0, V);
  double nats = 0, bytes = 0, kl = 0, kd = 0;
  int64_t count = 0;
  for (int i = 0; i < o.eval_batches; ++i) {
    model::Batch b = eval.next();
    std::vector<float> tl, sl;
    const TeacherTargets tt = teacher_forward(teacher, b, o.loss, &tl);
    student.forward(b, &sl);
    const DistillLoss l = distill_loss(sl, b.targets, tt, o.loss, 1.0, nullptr);
    kl += kl_sum(tl, sl, b.targets, V);
    kd += l.kd * static_cast<double>(l.positions);
    const std::vector<double> losses = student.token_losses();
    for (size_t k = 0; k < losses.size(); ++k) {
      if (b.targets[k] < 0) continue;
      nats += losses[k];
      ++count;
      if (!token_bytes.empty()) bytes += token_bytes.at(static_cast<size_t>(b.targets[k]));
    }
  }
  EvalFigures r;
  const double n = count ? static_cast<double>(count) : 1;
  r.loss = nats / n;
  if (bytes > 0) r.bpb = nats / std::log(2.0) / bytes;
  r.extra = {{"kl", kl / n}, {"kd_loss", kd / n}};
  return r;
}

}  // namespace

namespace {

// The run on one rank of `ranks` (of one, without a launcher); the teacher's forward runs on the
// micro-batches of this rank only (run_loop's micro_step).
DistillResult distill_on(const DistillOptions& o, const Ranks& ranks) {
  auto& be = ranks.backend();
  LoopOptions lo = loop_options(o);
  lo.command = "distill";
  ranks.attach(lo);

  const auto teacher_tok = tokenizer::Tokenizer::load(o.teacher + "/tokenizer.json");
  const auto student_tok = tokenizer::Tokenizer::load(o.student + "/tokenizer.json");
  check_same_vocabulary(teacher_tok, o.teacher, student_tok, o.student);
  const model::ModelConfig tc = model::load_hf_config(o.teacher), sc = model::load_hf_config(o.student);
  if (tc.vocab_size != sc.vocab_size)
    usage_error("vocabulary mismatch: the teacher's model has " + std::to_string(tc.vocab_size) +
                    " logits per position, the student's " + std::to_string(sc.vocab_size),
                "teacher " + o.teacher + ", student " + o.student, "distill needs models with the same vocabulary");
  const int64_t V = sc.vocab_size;
  if (o.loss.top_k > V)
    opt::fail("top_k", std::to_string(o.loss.top_k) + " is larger than the vocabulary (" + std::to_string(V) + ")",
              "use at most " + std::to_string(V) + ", or 0 for the full vocabulary");
  for (const auto& [role, c] : {std::pair{"teacher", &tc}, std::pair{"student", &sc}})
    if (o.seq_len > c->max_position_embeddings)
      opt::fail("seq_len", std::to_string(o.seq_len) + " exceeds the " + role + "'s max_position_embeddings " +
                               std::to_string(c->max_position_embeddings),
                "lower seq_len");

  make_dirs(o.out_dir);
  model::ModelOptions mopt;
  mopt.recompute = o.recompute;
  auto teacher = model::load_hf_model(o.teacher, be, model::ModelOptions{});
  teacher->freeze();
  auto student = model::load_hf_model(o.student, be, mopt);
  student->add_lora(o.lora, o.seed);
  check_vocab(student_tok, *student, o.student);
  const std::vector<uint32_t> token_bytes = token_byte_lengths(student_tok);
  log::info("distill: teacher " + std::to_string(tc.parameter_count()) + " parameters, student " +
            std::to_string(sc.parameter_count()) + ", vocabulary " + std::to_string(V) + ", " +
            (o.loss.top_k > 0 ? "top " + std::to_string(o.loss.top_k) + " teacher ids" : "full-vocabulary KL"));

  LmBatches batches({{o.data, 1.0}}, o.batch_size, o.seq_len, o.doc_masking, o.seed ^ 0x5eedull, V);
  LmLoopData data(batches, int64_t(o.batch_size) * o.seq_len);
  lo.steps = o.steps;
  lo.tokenizer = o.student + "/tokenizer.json";
  lo.seq_len = o.seq_len;
  lo.base_model = o.student;
  lo.fingerprint = "B=" + std::to_string(o.batch_size) + " T=" + std::to_string(o.seq_len) +
                   " accum=" + std::to_string(o.grad_accum) + " params=" + std::to_string(sc.parameter_count()) +
                   " distill teacher=" + std::to_string(tc.parameter_count()) + lora_fingerprint(o.lora);
  lo.config_json = opt::json_of(o);
  StepSums sums;
  lo.micro_step = [&](model::Llama& m, const model::Batch& b, double scale) {
    const TeacherTargets tt = teacher_forward(*teacher, b, o.loss);
    std::vector<float> logits, grad;
    m.forward(b, &logits);
    const DistillLoss l = distill_loss(logits, b.targets, tt, o.loss, scale, &grad);
    m.backward_logits(grad);
    sums.kd += l.kd;
    sums.ce += l.ce;
    ++sums.micro;
    return l.total;
  };
  lo.step_figures = [&] {
    const double n = sums.micro ? static_cast<double>(sums.micro) : 1;
    Figures f = {{"kd_loss", sums.kd / n}, {"ce_loss", sums.ce / n}};
    sums = StepSums{};
    return f;
  };
  DistillResult r;
  std::function<EvalFigures(model::Llama&)> eval_fn;
  if (!o.eval_shards.empty())
    eval_fn = [&](model::Llama& m) {
      EvalFigures e = evaluate(m, *teacher, o, token_bytes, o.eval_shards);
      r.last_eval_kl = e.extra.front().second;
      return e;
    };
  r.train = run_loop(*student, data, lo, eval_fn);
  return r;
}

}  // namespace

DistillResult run_distill(const DistillOptions& options) {
  check_options(options, "distill");
  DistillOptions o = options;
  for (const auto& [role, dir] : {std::pair{"teacher", o.teacher}, std::pair{"student", o.student}}) {
    if (!fs::is_directory(dir))
      usage_error(std::string("the ") + role + " model folder does not exist", dir,
                  std::string("name the ") + role + "'s HF model folder (config.json, model.safetensors, tokenizer.json)");
    check_model_folder(dir, 0);
  }
  o.data = expand_shards(o.data, "data");
  o.eval_shards = expand_shards(o.eval_shards, "data.eval");
  return run_data_parallel(o.device, "distill", [&](Ranks& ranks) { return distill_on(o, ranks); });
}

}  // namespace nlm::train
