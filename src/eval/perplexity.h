// Perplexity the way lm-evaluation-harness computes loglikelihood_rolling: each document is cut
// into windows of at most max_length predicted tokens; the first window is preceded by a prefix
// token (BOS/EOT), later windows see the max_length tokens before their first prediction. Every
// token is predicted exactly once. Reported as bits per byte (first), byte perplexity and token
// perplexity.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "corpus/read_options.h"
#include "model/llama.h"
#include "model/sampler.h"

namespace nlm::tokenizer {
class Tokenizer;
}
namespace nlm::opt {
class Schema;
}

namespace nlm::eval {

struct PerplexityOptions {
  int max_length = 0;     // window length in tokens; 0 = the model's max_position_embeddings
  int32_t prefix_token = -1;  // token before each document; −1 = bos_token_id (or eos) of the model
  uint64_t max_docs = 0;  // documents scored at most (0 = all); read by the document readers
  std::string device = "cpu";  // compute device, as tensor::backend_for() names it
};
// `nativelm eval ppl` flags and the pipeline's eval stage keys.
void declare(opt::Schema& schema, PerplexityOptions& options);

// The pipeline's eval stage: perplexity of the trained model on the held-out shards, a sampled
// continuation of each prompt in `samples`, and lm-eval-style task files (`eval run`'s) at each
// few-shot count of `task_shots`, for the report's leaderboard.
struct EvalOptions {
  EvalOptions() { ppl.max_docs = 500; }  // held-out shards can be large; a sample is enough
  PerplexityOptions ppl;
  std::vector<std::string> samples;
  model::SamplingOptions sampling;
  std::vector<std::string> tasks;              // task YAML files (docs/eval.md)
  std::vector<std::string> task_shots = {"0"};  // few-shot counts each task runs with, side by side
  int64_t task_limit = 0;                      // documents per task at most (0 = all)
};
void declare(opt::Schema& schema, EvalOptions& options);

struct PerplexityResult {
  double nll = 0;            // total negative log-likelihood in nats
  uint64_t tokens = 0;       // predicted tokens
  uint64_t bytes = 0;        // UTF-8 bytes of the documents (0 if unknown)
  uint64_t documents = 0;
  double bits_per_byte() const;      // nll / ln 2 / bytes
  double byte_perplexity() const;    // exp(nll / bytes)
  double token_perplexity() const;   // exp(nll / tokens)
  std::string to_json() const;
  std::string to_table() const;
};

// docs: token ids per document; doc_bytes: byte length of each document's text (may be empty).
PerplexityResult rolling_perplexity(model::Llama& model, const std::vector<std::vector<int32_t>>& docs,
                                    const std::vector<uint64_t>& doc_bytes,
                                    const PerplexityOptions& options);

// The documents of .tok shards as id lists (at most max_docs; 0 = all). A usage error when a
// shard's vocabulary is larger than `model_vocab`.
std::vector<std::vector<int32_t>> read_shard_documents(const std::vector<std::string>& shards,
                                                       uint64_t max_docs, int64_t model_vocab);

// UTF-8 byte length of each document decoded with <model_dir>/tokenizer.json, special tokens
// (the EOS that `nativelm tokenize` appends, BOS) left out, so the bytes are the text's own; empty
// when the directory has no tokenizer (bits per byte is then not reported).
std::vector<uint64_t> document_bytes(const std::string& model_dir,
                                     const std::vector<std::vector<int32_t>>& docs);

// Documents to score: token ids and the UTF-8 byte length of each document's text.
struct EvalDocuments {
  std::vector<std::vector<int32_t>> tokens;
  std::vector<uint64_t> bytes;  // one per document, or empty when unknown
  corpus::ReadStats read;       // what the document readers read and skipped (text inputs)
};

// Documents (JSONL or plain text, compressed or not, split and parsed by `read`) encoded with
// `tok` without special tokens, as lm-evaluation-harness encodes a rolling-loglikelihood document;
// bytes are the documents' UTF-8 lengths (after the reader's UTF-8 repair). At most max_docs
// documents (0 = all). A usage error when the tokenizer yields an id outside `model_vocab`.
EvalDocuments read_text_documents(const std::vector<std::string>& files, const corpus::ReadOptions& read,
                                  const tokenizer::Tokenizer& tok, uint64_t max_docs, int64_t model_vocab);

// Documents of `files` for perplexity: *.tok shards as stored (bytes decoded with the model
// directory's tokenizer, when it has one), every other file read as documents and encoded with
// <model_dir>/tokenizer.json (a usage error when there is none). Files keep their order;
// max_docs (0 = all) counts across all of them.
EvalDocuments read_eval_documents(const std::string& model_dir, const std::vector<std::string>& files,
                                  const corpus::ReadOptions& read, uint64_t max_docs, int64_t model_vocab);

}  // namespace nlm::eval
