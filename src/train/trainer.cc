// `nativelm train` (see trainer.h): build or load the model, batch the token shards, and run the
// optimizer loop shared with `sft` (train/loop.cc: steps, logging, eval, checkpoints, resume)
// with the LM eval loss and bits per byte on the eval shards.
#include "train/trainer.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/options.h"
#include "model/hf_checkpoint.h"
#include "tokenizer/tokenizer.h"
#include "train/checkpoint.h"
#include "train/lm_loop_data.h"
#include "train/data_parallel.h"
#include "train/run_fields.h"

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
  if (lora.enabled() && init_from.empty())
    opt::fail("lora.rank", "needs init_from: LoRA adapts a trained model", "set init_from, or lora.rank: 0 to train from scratch");
}

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

EvalFigures evaluate(model::Llama& m, const TrainOptions& o) {
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
  EvalFigures r;
  r.loss = count ? nats / static_cast<double>(count) : 0;
  if (bytes > 0) r.bpb = nats / std::log(2.0) / bytes;
  return r;
}

std::string fingerprint(const TrainOptions& o, const model::ModelConfig& c) {
  return "B=" + std::to_string(o.batch_size) + " T=" + std::to_string(o.seq_len) +
         " accum=" + std::to_string(o.grad_accum) + " params=" + std::to_string(c.parameter_count()) +
         " sources=" + std::to_string(o.train_data.size());
}

}  // namespace

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

std::vector<uint32_t> token_byte_lengths(const tokenizer::Tokenizer& tok) {
  bool byte_level = false;
  for (auto& d : tok.decoders) byte_level |= d.kind == tokenizer::DecoderStep::ByteLevel;
  std::vector<uint32_t> bytes;
  for (uint32_t id = 0; id < tok.vocab_size(); ++id) bytes.push_back(token_byte_length(tok, id, byte_level));
  return bytes;
}

namespace {

TrainResult train_on(const TrainOptions& options, const Ranks& ranks) {
  auto& be = ranks.backend();
  TrainOptions o = options;
  for (auto& src : o.train_data) src.shards = expand_shards(src.shards, "data.train");
  o.eval_shards = expand_shards(o.eval_shards, "data.eval");
  LoopOptions lo = loop_options(o);
  lo.steps = o.steps;
  lo.tokenizer = o.tokenizer;
  lo.seq_len = o.seq_len;
  ranks.attach(lo);
  if (o.token_bytes.empty() && !o.tokenizer.empty()) {
    o.token_bytes = token_byte_lengths(tokenizer::Tokenizer::load(o.tokenizer));
  }
  make_dirs(o.out_dir);
  model::ModelOptions mopt;
  mopt.recompute = o.recompute;
  mopt.dtype = o.precision;
  std::unique_ptr<model::Llama> m;
  if (!o.init_from.empty()) {
    model::VocabExtension ext;
    if (!o.vocab_extension.empty()) ext = model::read_vocab_extension(o.vocab_extension);
    m = model::load_hf_model(o.init_from, be, mopt, o.vocab_extension.empty() ? nullptr : &ext);
  } else {
    m = std::make_unique<model::Llama>(o.model, be, mopt);
    m->init_random(o.seed);
  }
  m->add_lora(o.lora, o.seed);
  if (o.seq_len > m->config().max_position_embeddings)
    usage_error("seq_len " + std::to_string(o.seq_len) + " exceeds max_position_embeddings " +
                    std::to_string(m->config().max_position_embeddings),
                "train", "lower seq_len");
  if (!o.token_bytes.empty() && static_cast<int64_t>(o.token_bytes.size()) < m->config().vocab_size)
    usage_error("vocabulary mismatch: tokenizer has " + std::to_string(o.token_bytes.size()) +
                    " tokens, model " + std::to_string(m->config().vocab_size),
                "train", "use the model's tokenizer");
  LmBatches batches(o.train_data, o.batch_size, o.seq_len, o.doc_masking, o.seed ^ 0x5eedull,
                    m->config().vocab_size, o.shuffle_documents);
  LmLoopData data(batches, int64_t(o.batch_size) * o.seq_len);
  lo.fingerprint = fingerprint(o, m->config()) + lora_fingerprint(o.lora);
  lo.base_model = o.init_from;
  lo.config_json = config_json(o);
  std::function<EvalFigures(model::Llama&)> eval;
  if (!o.eval_shards.empty()) eval = [&o](model::Llama& model) { return evaluate(model, o); };
  return run_loop(*m, data, lo, eval);
}

}  // namespace

TrainResult run_train(const TrainOptions& options) {
  options.validate();
  return run_data_parallel(options.device, "train", [&](Ranks& ranks) { return train_on(options, ranks); });
}

}  // namespace nlm::train
