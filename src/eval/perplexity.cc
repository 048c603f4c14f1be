// Rolling-window perplexity (see perplexity.h).
#include "eval/perplexity.h"

#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/log.h"
#include "core/options.h"
#include "corpus/reader.h"
#include "data/token_shard.h"
#include "tokenizer/tokenizer.h"

namespace nlm::eval {

void declare(opt::Schema& s, PerplexityOptions& o) {
  s.add("max_length", o.max_length, "Window length in tokens (0 = the model's context)").min(0);
  s.add("prefix_token", o.prefix_token, "Token before each document (-1 = the model's BOS, else EOS)").min(-1);
  s.add("max_docs", o.max_docs, "Score at most this many documents (0 = all)");
  s.add("device", o.device, "Compute device: cpu, or cuda / cuda:N in builds with CUDA");
}

void declare(opt::Schema& s, EvalOptions& o) {
  declare(s, o.ppl);
  s.add("samples", o.samples, "Prompts whose sampled continuations the report shows");
  model::declare(s, o.sampling);
  s.add("tasks", o.tasks, "lm-eval-style task YAML files to score the model on (as `eval run --tasks`)");
  s.add("task_shots", o.task_shots, "Few-shot counts every task runs with, shown side by side (e.g. [0, 5])");
  s.add("task_limit", o.task_limit, "Documents per task at most (0 = all)").min(0);
  s.check([&o] {
    for (const auto& shots : o.task_shots) {
      char* end = nullptr;
      const long n = std::strtol(shots.c_str(), &end, 10);
      if (shots.empty() || *end != '\0' || n < 0 || n > 64)
        opt::fail("task_shots", "holds " + echoed(shots) + ", not a few-shot count from 0 to 64");
    }
    if (o.task_shots.empty() && !o.tasks.empty()) opt::fail("task_shots", "is empty", "list at least one count, e.g. [0]");
  });
  for (auto& f : s.fields()) f.no_flag();  // a pipeline stage: keys only (the commands have the flags)
}

double PerplexityResult::bits_per_byte() const { return bytes ? nll / std::log(2.0) / double(bytes) : NAN; }
double PerplexityResult::byte_perplexity() const { return bytes ? std::exp(nll / double(bytes)) : NAN; }
double PerplexityResult::token_perplexity() const { return tokens ? std::exp(nll / double(tokens)) : NAN; }

std::string PerplexityResult::to_json() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"bits_per_byte\":%s,\"byte_perplexity\":%s,\"token_perplexity\":%.6f,\"nll\":%.6f,"
                "\"tokens\":%llu,\"bytes\":%llu,\"documents\":%llu}\n",
                bytes ? std::to_string(bits_per_byte()).c_str() : "null",
                bytes ? std::to_string(byte_perplexity()).c_str() : "null", token_perplexity(), nll,
                static_cast<unsigned long long>(tokens), static_cast<unsigned long long>(bytes),
                static_cast<unsigned long long>(documents));
  return buf;
}

std::string PerplexityResult::to_table() const {
  char buf[512];
  std::string out;
  if (bytes) {
    std::snprintf(buf, sizeof buf, "bits_per_byte     %.4f\nbyte_perplexity   %.4f\n", bits_per_byte(),
                  byte_perplexity());
    out += buf;
  } else {
    out += "bits_per_byte     n/a (document bytes unknown)\n";
  }
  std::snprintf(buf, sizeof buf, "token_perplexity  %.4f\ntokens            %llu\ndocuments         %llu\n",
                token_perplexity(), static_cast<unsigned long long>(tokens),
                static_cast<unsigned long long>(documents));
  return out + buf;
}

PerplexityResult rolling_perplexity(model::Llama& model, const std::vector<std::vector<int32_t>>& docs,
                                    const std::vector<uint64_t>& doc_bytes,
                                    const PerplexityOptions& o) {
  const auto& c = model.config();
  const int L = o.max_length > 0 ? o.max_length : static_cast<int>(c.max_position_embeddings);
  if (L > c.max_position_embeddings)
    opt::fail("max_length", "(" + std::to_string(L) + ") exceeds the model's context (" +
                                std::to_string(c.max_position_embeddings) + " tokens)");
  int32_t prefix = o.prefix_token >= 0 ? o.prefix_token
                   : c.bos_token_id >= 0 ? static_cast<int32_t>(c.bos_token_id)
                                         : static_cast<int32_t>(std::max<int64_t>(0, c.eos_token_id));
  if (!doc_bytes.empty() && doc_bytes.size() != docs.size())
    runtime_error("doc_bytes does not match docs", "eval ppl");
  PerplexityResult r;
  for (size_t d = 0; d < docs.size(); ++d) {
    const auto& tok = docs[d];
    if (tok.empty()) continue;
    ++r.documents;
    if (!doc_bytes.empty()) r.bytes += doc_bytes[d];
    const int64_t n = static_cast<int64_t>(tok.size());
    int64_t predicted = 0;
    while (predicted < n) {
      // Predict tokens [predicted, end). The input at index j predicts token j+1, so inputs run
      // over [s, end−1) with s = max(−1, end−1−L); index −1 is the prefix token.
      const int64_t end = std::min(n, predicted + L);
      const int64_t s = std::max<int64_t>(-1, end - 1 - L);
      model::Batch b;
      b.B = 1;
      b.T = static_cast<int>(end - 1 - s);
      for (int64_t j = s; j < end - 1; ++j) {
        b.inputs.push_back(j < 0 ? prefix : tok[j]);
        b.targets.push_back(j + 1 >= predicted ? tok[j + 1] : -1);
      }
      b.set_default_positions();
      model.forward(b);
      for (double x : model.token_losses()) r.nll += x;
      r.tokens += static_cast<uint64_t>(end - predicted);
      predicted = end;
    }
  }
  return r;
}

std::vector<std::vector<int32_t>> read_shard_documents(const std::vector<std::string>& shards,
                                                       uint64_t max_docs, int64_t model_vocab) {
  std::vector<std::vector<int32_t>> docs;
  for (auto& path : shards) {
    data::TokShardReader r(path);
    if (static_cast<int64_t>(r.header().vocab_size) > model_vocab)
      usage_error("vocabulary mismatch: shard vocabulary " + std::to_string(r.header().vocab_size) +
                      " > model " + std::to_string(model_vocab),
                  path, "tokenize with the model's tokenizer");
    for (uint64_t d = 0; d < r.docs() && (!max_docs || docs.size() < max_docs); ++d) {
      auto t = r.document(d);
      docs.emplace_back(t.begin(), t.end());
    }
  }
  return docs;
}

namespace {
std::vector<uint64_t> decoded_bytes(const tokenizer::Tokenizer& tok, const std::vector<std::vector<int32_t>>& docs) {
  std::vector<uint64_t> bytes;
  for (auto& d : docs)
    bytes.push_back(tok.decode(std::vector<uint32_t>(d.begin(), d.end()), /*skip_special_tokens=*/true).size());
  return bytes;
}
}  // namespace

std::vector<uint64_t> document_bytes(const std::string& model_dir,
                                     const std::vector<std::vector<int32_t>>& docs) {
  std::string path = model_dir + "/tokenizer.json";
  if (!std::filesystem::exists(path)) return {};
  return decoded_bytes(tokenizer::Tokenizer::load(path), docs);
}

EvalDocuments read_text_documents(const std::vector<std::string>& files, const corpus::ReadOptions& read,
                                  const tokenizer::Tokenizer& tok, uint64_t max_docs, int64_t model_vocab) {
  EvalDocuments out;
  corpus::Diagnostics diag(read.max_reported, read.strict);
  corpus::Document doc;
  std::vector<uint32_t> ids;
  for (auto& path : files) {
    if (max_docs && out.tokens.size() >= max_docs) break;
    corpus::DocumentReader reader(path, read, &diag);
    while ((!max_docs || out.tokens.size() < max_docs) && reader.next(doc)) {
      ids.clear();
      tok.encode_into(doc.text, /*add_special_tokens=*/false, ids);
      for (uint32_t id : ids)
        if (static_cast<int64_t>(id) >= model_vocab)
          usage_error("vocabulary mismatch: the tokenizer gave id " + std::to_string(id) + ", the model has " +
                          std::to_string(model_vocab) + " rows",
                      doc.where(), "use the model's own tokenizer.json");
      out.tokens.emplace_back(ids.begin(), ids.end());
      out.bytes.push_back(doc.text.size());
    }
    out.read.merge(reader.stats());
  }
  if (out.read.skipped())
    log::warn("eval ppl: skipped " + std::to_string(out.read.skipped()) + " malformed records");
  return out;
}

EvalDocuments read_eval_documents(const std::string& model_dir, const std::vector<std::string>& files,
                                  const corpus::ReadOptions& read, uint64_t max_docs, int64_t model_vocab) {
  const std::string tok_path = model_dir + "/tokenizer.json";
  std::unique_ptr<tokenizer::Tokenizer> tok;
  if (std::filesystem::exists(tok_path)) tok = std::make_unique<tokenizer::Tokenizer>(tokenizer::Tokenizer::load(tok_path));
  EvalDocuments out;
  bool bytes_known = true;
  // Consecutive files of the same kind go through one call, so max_docs and diagnostics span them.
  for (size_t i = 0; i < files.size();) {
    const bool shard = files[i].ends_with(".tok");
    size_t j = i;
    while (j < files.size() && files[j].ends_with(".tok") == shard) ++j;
    std::vector<std::string> group(files.begin() + static_cast<std::ptrdiff_t>(i),
                                   files.begin() + static_cast<std::ptrdiff_t>(j));
    i = j;
    const uint64_t left = max_docs ? max_docs - std::min<uint64_t>(max_docs, out.tokens.size()) : 0;
    if (max_docs && !left) break;
    EvalDocuments part;
    if (shard) {
      part.tokens = read_shard_documents(group, left, model_vocab);
      if (tok) part.bytes = decoded_bytes(*tok, part.tokens);
    } else {
      if (!tok)
        usage_error("scoring text needs the model's tokenizer, and " + tok_path + " does not exist", group.front(),
                    "copy the tokenizer.json the model was trained with into the model directory");
      part = read_text_documents(group, read, *tok, left, model_vocab);
    }
    bytes_known = bytes_known && part.bytes.size() == part.tokens.size();
    for (auto& t : part.tokens) out.tokens.push_back(std::move(t));
    out.bytes.insert(out.bytes.end(), part.bytes.begin(), part.bytes.end());
    out.read.merge(part.read);
  }
  if (!bytes_known) out.bytes.clear();
  return out;
}

}  // namespace nlm::eval
