// `nativelm sft`: full supervised fine-tuning of an HF Llama-family model folder on chat
// (`messages`) or prompt/completion JSONL, with the loss on the assistant turns / completions
// (or every token), examples packed into rows with document masking (or padded), an eval loss on
// a held-out split, and an HF model folder out whose tokenizer_config.json carries the chat
// template it was trained with. The options are the struct below; sft::declare lists each once
// (flags, YAML keys, docs/sft.md's table).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"
#include "data/sft_options.h"
#include "tensor/dtype.h"
#include "train/lora_options.h"
#include "train/adamw.h"
#include "train/loop.h"
#include "train/schedule.h"

namespace nlm::tokenizer {
class Tokenizer;
}
namespace nlm::data::chat_template {
struct ModelChatTemplate;
}

namespace nlm::train {

struct SftTrainOptions {
  SftTrainOptions();
  // HF model folder to fine-tune: config.json, safetensors, tokenizer.json, and its chat
  // template (chat_template.jinja or tokenizer_config.json; ChatML when it has none).
  std::string model_dir;
  // Training data: JSONL files (optionally compressed) of chat or prompt/completion records.
  std::vector<std::string> data;
  // Run directory: metrics.jsonl, checkpoints/step-NNNNNNNN/, and the fine-tuned model in model/.
  std::string out_dir;
  // Held-out JSONL files for the eval loss; when empty, eval_fraction of the examples is held out.
  std::vector<std::string> eval_data;
  // Fraction of the examples held out for eval when eval_data is empty (0 = no eval).
  double eval_fraction = 0;
  // Stop at the first bad record (a usage error naming it) instead of skipping and counting it.
  bool strict = false;
  // How records become ids and loss masks (loss, max_length, overlong, chat_prompt, add_eos).
  // max_length is also the row length; it defaults to 1024 here.
  data::SftOptions encode;
  // Bfd ("bfd"): best-fit decreasing packing of whole examples into rows of max_length tokens,
  // each attending only within itself. None ("none"): one example per row, padded to the batch's
  // longest row.
  data::SftPacking packing = data::SftPacking::Bfd;
  int batch_size = 8;       // rows per micro-batch
  int grad_accum = 1;       // micro-batches per optimizer step
  int64_t epochs = 1;       // passes over the training rows (when steps is 0)
  int64_t steps = 0;        // optimizer steps; 0 = epochs × ⌈rows / (batch_size · grad_accum)⌉
  ScheduleOptions schedule; // lr 2e-5 cosine to 2e-6 after 10 warmup steps by default
  AdamWOptions optimizer;
  int64_t eval_every = 0;       // steps between evals (0 = only at the end)
  int64_t checkpoint_every = 0; // steps between checkpoints (0 = only at the end)
  int keep_checkpoints = 2;
  int64_t log_every = 10;
  uint64_t seed = 1234;         // row order and the held-out split
  bool recompute = false;
  tensor::DType save_dtype = tensor::DType::F32;
  std::string device = "cpu";
  std::string mlflow;                       // MLflow file store (mlruns folder) to log to; empty = none
  std::string mlflow_experiment = "nativelm";  // its experiment, by name
  // LoRA adapters instead of full fine-tuning (lora.rank > 0); see docs/lora.md.
  LoraOptions lora;
  bool resume = false;
  bool force = false;
};

void declare(opt::Schema& schema, SftTrainOptions& options);

struct SftRunResult {
  TrainResult train;
  uint64_t records = 0, examples = 0;        // training records read, examples trained on
  uint64_t bad = 0, truncated = 0, dropped = 0;  // over training and eval files
  uint64_t eval_examples = 0;
  uint64_t rows = 0;                         // training rows (packed or one example each)
  double fill = 0;                           // real tokens / row slots with packing
  std::vector<std::string> first_errors;
};

// Shared with dpo (dpo.cc). Usage errors unless model_dir holds config.json and tokenizer.json
// and max_length fits its max_position_embeddings:
void check_model_folder(const std::string& model_dir, uint32_t max_length);
// a usage error when the tokenizer has more ids than the model's embedding;
void check_vocab(const tokenizer::Tokenizer& tok, const model::Llama& model, const std::string& model_dir);
// writes the trained-with chat template into dir's tokenizer_config.json (unless it has one) and
// lists the template's end-of-turn token in generation_config.json's eos_token_id.
void finish_chat_model(const std::string& dir, const tokenizer::Tokenizer& tok,
                       const data::chat_template::ModelChatTemplate& chat);

// The template's turn markers (<|im_start|>, <start_of_turn>, [INST], ...) that this tokenizer
// splits into several tokens, each with its token count. A tokenizer trained for one language
// without --special markers pays ~10 byte tokens per marker on every turn; sft and dpo warn.
std::vector<std::pair<std::string, size_t>> split_chat_markers(const tokenizer::Tokenizer& tok,
                                                               const data::chat_template::ModelChatTemplate& chat);
void warn_split_chat_markers(const tokenizer::Tokenizer& tok, const data::chat_template::ModelChatTemplate& chat);

// Runs the fine-tuning. Throws Interrupted on SIGINT/SIGTERM after checkpointing (see loop.h).
SftRunResult run_sft(const SftTrainOptions& options);

}  // namespace nlm::train
