// `nativelm sft` (see sft.h): its option declaration and the run: load the model, its tokenizer
// and chat template, encode and count the records, pack them, run the shared loop, and write the
// chat template into the output's tokenizer_config.json.
#include "train/sft.h"

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/log.h"
#include "data/chat_template/model_template.h"
#include "data/sft_example.h"
#include "model/hf_checkpoint.h"
#include "tokenizer/tokenizer.h"
#include "train/data_parallel.h"
#include "train/run_fields.h"
#include "train/sft_batches.h"
#include "train/sft_data.h"
#include "train/trainer.h"

namespace nlm::train {

namespace fs = std::filesystem;

SftTrainOptions::SftTrainOptions() {
  encode.max_length = 1024;
  schedule.lr = 2e-5;
  schedule.min_lr = 2e-6;
  schedule.warmup_steps = 10;
}

void declare(opt::Schema& s, SftTrainOptions& o) {
  s.add("model", o.model_dir, "HF model folder to fine-tune (config.json, safetensors, tokenizer.json, chat template)")
      .no_flag();
  s.add("data", o.data, "Training JSONL files of chat (messages) or prompt/completion records").no_flag();
  s.add("out_dir", o.out_dir, "Run directory: metrics.jsonl, checkpoints/step-NNNNNNNN/, and the model in model/")
      .flag("-o,--out")
      .no_json();
  s.add("eval_data", o.eval_data, "Held-out JSONL files for the eval loss (else eval_fraction of the examples)")
      .flag("--eval");
  s.add("eval_fraction", o.eval_fraction,
        "Fraction of the examples held out for the eval loss when no eval files are given (0 = no eval)")
      .range(0, 0.5);
  s.add("strict", o.strict, "Stop at the first bad record instead of skipping and counting it");
  data::declare(s, o.encode);
  for (auto& f : s.fields())  // here max_length is also the row length, so it has no "no limit"
    if (f.key == "max_length") {
      f.doc = "Longest example in tokens, and the length of a training row (at most the model's "
              "max_position_embeddings)";
      f.min(2);
    }
  s.choice("packing", o.packing, {{"bfd", data::SftPacking::Bfd}, {"none", data::SftPacking::None}},
           "bfd: pack whole examples into rows of max_length tokens (best-fit decreasing), each attending only "
           "within itself; none: one example per row, padded to the batch's longest");
  s.add("batch_size", o.batch_size, "Rows per micro-batch").min(1);
  s.add("grad_accum", o.grad_accum, "Micro-batches per optimizer step").min(1);
  s.add("epochs", o.epochs, "Passes over the training rows (when steps is 0)").min(1);
  s.add("steps", o.steps, "Optimizer steps (0 = epochs x rows / (batch_size x grad_accum), rounded up)").min(0);
  declare(s, o.schedule);
  declare(s, o.optimizer);
  s.add("eval_every", o.eval_every, "Steps between evals (0 = only at the end)").min(0);
  declare_run_fields(s, o, "Seed of the row order and of the held-out split");
  s.check([&o] {
    if (o.model_dir.empty()) opt::fail("model", "is required", "name the HF model folder to fine-tune");
    if (o.data.empty()) opt::fail("data", "is empty", "name JSONL files of chat or prompt/completion records");
    if (o.out_dir.empty()) opt::fail("out_dir", "is required", "name the run directory");
    if (!o.eval_data.empty() && o.eval_fraction > 0)
      opt::fail("eval_fraction", "and eval files are both given", "use one of the two");
  });
}

namespace {

// Writes the template the run trained with into tokenizer_config.json, unless the copied config
// already holds one (kept as is: a list of named templates stays a list).
void write_chat_template(const std::string& dir, const std::string& source) {
  const std::string path = dir + "/tokenizer_config.json";
  nlohmann::ordered_json cfg = nlohmann::ordered_json::object();
  if (fs::exists(path)) {
    cfg = nlohmann::ordered_json::parse(read_file(path), nullptr, false);
    if (cfg.is_discarded() || !cfg.is_object())
      runtime_error("tokenizer_config.json is not a JSON object", path, "fix the input model's tokenizer_config.json");
  }
  if (cfg.contains("chat_template") && !cfg["chat_template"].is_null()) return;
  cfg["chat_template"] = source;
  write_file_atomic(path, cfg.dump(2) + "\n");
}

// The special token that ends an assistant turn in the model's template (ChatML's <|im_end|>,
// Llama 3's <|eot_id|>): the first special token in the loss span of a probe chat; −1 when none.
int64_t end_of_turn_id(const tokenizer::Tokenizer& tok, const data::chat_template::ModelChatTemplate& chat) {
  data::SftEncoder enc(tok, chat, data::SftOptions{});
  nlohmann::ordered_json probe = {
      {"messages", {{{"role", "user"}, {"content", "x"}}, {{"role", "assistant"}, {"content", "y"}}}}};
  data::SftResult r = enc.encode(probe, "end-of-turn probe");
  if (r.status != data::SftStatus::Ok) return -1;
  for (size_t t = 0; t < r.example.ids.size(); ++t)
    if (r.example.mask[t])
      if (const tokenizer::AddedToken* a = tok.added_token(r.example.ids[t]); a && a->special) return r.example.ids[t];
  return -1;
}

}  // namespace

std::vector<std::pair<std::string, size_t>> split_chat_markers(const tokenizer::Tokenizer& tok,
                                                               const data::chat_template::ModelChatTemplate& chat) {
  static const std::regex kMarker(R"(<\|[A-Za-z0-9_]{1,40}\|>|<(start|end)_of_turn>|\[/?INST\])");
  std::vector<std::pair<std::string, size_t>> split;
  std::set<std::string> seen;
  for (std::sregex_iterator it(chat.source.begin(), chat.source.end(), kMarker), end; it != end; ++it) {
    const std::string marker = it->str();
    if (!seen.insert(marker).second) continue;
    const size_t n = tok.encode(marker).size();
    if (n > 1) split.emplace_back(marker, n);
  }
  return split;
}

void warn_split_chat_markers(const tokenizer::Tokenizer& tok, const data::chat_template::ModelChatTemplate& chat) {
  auto split = split_chat_markers(tok, chat);
  if (split.empty()) return;
  std::string list, names;
  for (size_t i = 0; i < split.size() && i < 3; ++i) {
    list += (i ? ", " : "") + split[i].first + " (" + std::to_string(split[i].second) + " tokens)";
    names += (i ? "," : "") + split[i].first;
  }
  if (split.size() > 3) list += ", ...";
  log::warn("the chat template's markers are not single tokens of this tokenizer: " + list +
            "; every turn pays for them. Train the tokenizer with --special '" + names + "' (or extend it)");
}

namespace {

// Lists `id` in generation_config.json's eos_token_id (beside config.json's EOS), so generation
// stops at the end of the assistant turn the model was trained to produce.
void add_generation_eos(const std::string& dir, int64_t id) {
  const std::string path = dir + "/generation_config.json";
  std::vector<int64_t> ids = model::load_generation_eos_ids(dir);
  if (id < 0 || std::find(ids.begin(), ids.end(), id) != ids.end()) return;
  ids.push_back(id);
  auto g = nlohmann::ordered_json::parse(read_file(path));  // load_generation_eos_ids checked it
  g["eos_token_id"] = ids.size() == 1 ? nlohmann::ordered_json(ids[0]) : nlohmann::ordered_json(ids);
  write_file_atomic(path, g.dump(2) + "\n");
}

}  // namespace

void check_model_folder(const std::string& model_dir, uint32_t max_length) {
  if (!fs::exists(model_dir + "/config.json"))
    usage_error("not an HF model folder (no config.json)", model_dir, "name a folder written by train or HF");
  if (!fs::exists(model_dir + "/tokenizer.json"))
    usage_error("the model folder has no tokenizer.json", model_dir, "add the model's tokenizer.json");
  const model::ModelConfig config = model::load_hf_config(model_dir);
  if (static_cast<int64_t>(max_length) > config.max_position_embeddings)
    opt::fail("max_length", "is " + std::to_string(max_length) + ", over the model's max_position_embeddings " +
                                std::to_string(config.max_position_embeddings),
              "lower max_length");
}

void check_vocab(const tokenizer::Tokenizer& tok, const model::Llama& m, const std::string& model_dir) {
  if (static_cast<int64_t>(tok.vocab_size()) > m.config().vocab_size)
    usage_error("vocabulary mismatch: tokenizer has " + std::to_string(tok.vocab_size()) + " tokens, model " +
                    std::to_string(m.config().vocab_size),
                model_dir, "use the model's own tokenizer.json");
}

void finish_chat_model(const std::string& dir, const tokenizer::Tokenizer& tok,
                       const data::chat_template::ModelChatTemplate& chat) {
  write_chat_template(dir, chat.source);
  add_generation_eos(dir, end_of_turn_id(tok, chat));
}

namespace {

// Mean loss over every target of the eval rows, in batches of B rows.
EvalFigures evaluate(model::Llama& m, const SftBatches& eval, int B) {
  double nats = 0;
  int64_t count = 0;
  for (size_t first = 0; first < eval.rows(); first += static_cast<size_t>(B)) {
    int64_t tokens = 0;
    model::Batch b = eval.rows_batch(first, static_cast<size_t>(B), tokens);
    m.forward(b);
    auto losses = m.token_losses();
    for (size_t k = 0; k < losses.size(); ++k)
      if (b.targets[k] >= 0) {
        nats += losses[k];
        ++count;
      }
  }
  EvalFigures r;
  r.loss = count ? nats / static_cast<double>(count) : 0;
  return r;
}

}  // namespace

namespace {

SftRunResult sft_on(const SftTrainOptions& o, const Ranks& ranks) {
  auto& be = ranks.backend();
  LoopOptions lo = loop_options(o);
  lo.command = "sft";
  ranks.attach(lo);

  const std::string tokenizer_path = o.model_dir + "/tokenizer.json";
  check_model_folder(o.model_dir, o.encode.max_length);
  auto tok = tokenizer::Tokenizer::load(tokenizer_path);
  auto chat = data::chat_template::load_model_chat_template(o.model_dir);
  data::SftEncoder encoder(tok, chat, o.encode);
  warn_split_chat_markers(tok, chat);

  SftRunResult r;
  SftSplit train = read_sft_files(o.data, encoder, o.strict);
  SftSplit eval = o.eval_data.empty() ? hold_out(train, o.eval_fraction, o.seed)
                                      : read_sft_files(o.eval_data, encoder, o.strict);
  add_counts(r, train.counts);
  add_counts(r, eval.counts);
  r.records = train.records;
  r.examples = train.examples.size();
  r.eval_examples = eval.examples.size();
  log::info("sft data: " + describe(train));
  if (!o.eval_data.empty()) log::info("sft eval data: " + describe(eval));
  else if (!eval.examples.empty()) log::info("sft eval: " + std::to_string(eval.examples.size()) + " examples held out");
  if (train.examples.empty())
    usage_error("no usable training examples in " + std::to_string(train.records) + " records", o.data.front(),
                "check the records' shape (messages, or prompt and completion); the first errors are above");

  make_dirs(o.out_dir);
  model::ModelOptions mopt;
  mopt.recompute = o.recompute;
  auto m = model::load_hf_model(o.model_dir, be, mopt);
  m->add_lora(o.lora, o.seed);
  const auto& cfg = m->config();
  check_vocab(tok, *m, o.model_dir);

  const int T = static_cast<int>(o.encode.max_length);
  SftBatches batches(train.examples, o.batch_size, T, o.packing, o.seed ^ 0x5f7ull, 0);
  r.rows = batches.rows();
  r.fill = batches.fill();
  std::unique_ptr<SftBatches> eval_rows;
  if (!eval.examples.empty())
    eval_rows = std::make_unique<SftBatches>(eval.examples, o.batch_size, T, o.packing, 0, 0);

  const int64_t per_step = int64_t(o.batch_size) * o.grad_accum;
  lo.steps = o.steps > 0 ? o.steps : o.epochs * ((static_cast<int64_t>(batches.rows()) + per_step - 1) / per_step);
  lo.tokenizer = tokenizer_path;
  lo.seq_len = T;
  lo.fingerprint = "B=" + std::to_string(o.batch_size) + " T=" + std::to_string(T) + " accum=" +
                   std::to_string(o.grad_accum) + " params=" + std::to_string(cfg.parameter_count()) +
                   " rows=" + std::to_string(batches.rows()) + (o.packing == SftPacking::Bfd ? " packed" : " padded") +
                   lora_fingerprint(o.lora);
  lo.base_model = o.model_dir;
  lo.config_json = opt::json_of(o);
  const std::string fill = std::to_string(std::lround(100 * r.fill));
  log::info("sft: " + std::to_string(batches.rows()) + " rows of " + std::to_string(T) + " tokens" +
            (o.packing == SftPacking::Bfd ? " (packed, " + fill + "% full)" : "") + ", " +
            std::to_string(lo.steps) + " steps");
  std::function<EvalFigures(model::Llama&)> eval_fn;
  if (eval_rows) eval_fn = [&](model::Llama& model) { return evaluate(model, *eval_rows, o.batch_size); };
  r.train = run_loop(*m, batches, lo, eval_fn);
  if (ranks.lead())
    for (const auto& dir : {r.train.model_dir, r.train.adapter_dir})
      if (!dir.empty()) finish_chat_model(dir, tok, chat);
  return r;
}

}  // namespace

SftRunResult run_sft(const SftTrainOptions& options) {
  check_options(options, "sft");
  return run_data_parallel(options.device, "sft", [&](Ranks& ranks) { return sft_on(options, ranks); });
}

}  // namespace nlm::train
