// Parallel, order-preserving tokenization of documents into train/val token shards.
#include "data/tokenize_shards.h"

#include <chrono>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/atomic_file.h"
#include "core/hash.h"
#include "core/stage_output.h"
#include "core/progress.h"
#include "core/runtime.h"
#include "core/thread_pool.h"
#include "corpus/inputs.h"
#include "corpus/reader.h"
#include "data/token_shard.h"
#include "tokenizer/tokenizer.h"

namespace nlm::data {

namespace {

uint32_t find_token(const tokenizer::Tokenizer& tok, const std::string& wanted,
                    const std::vector<const char*>& fallbacks, const char* key) {
  if (!wanted.empty() && wanted != "auto") {
    uint32_t id = tok.token_id(wanted);
    if (id == tokenizer::kNoToken)
      opt::fail(key, "names '" + wanted + "', which is not in the tokenizer", "pass a token of its vocabulary");
    return id;
  }
  std::string tried;
  for (const char* f : fallbacks) {
    uint32_t id = tok.token_id(f);
    if (id != tokenizer::kNoToken) return id;
    tried += (tried.empty() ? "" : ", ") + std::string(f);
  }
  opt::fail(key, "is not given and the tokenizer has none of the usual tokens (" + tried + ")", "name one explicitly");
}

void check_options(const TokenizeOptions& o) {
  if (!(o.val_fraction >= 0 && o.val_fraction < 1))  // also rejects NaN
    opt::fail("val_fraction", "must be in [0, 1), got " + opt::real_text(o.val_fraction));
  if (o.output.empty())
    opt::fail("output", "is an empty path (an empty output folder would write to the filesystem root)", "name a folder");
  if (o.max_shard_tokens == 0) opt::fail("max_shard_tokens", "must be at least 1 (shards hold at least one token)");
  if (o.batch_docs == 0) opt::fail("batch_docs", "must be at least 1");
}

// "train-NNNNN.tok" or "val-NNNNN.tok", as SplitWriter names them.
bool is_shard_name(const std::string& name) {
  for (std::string prefix : {"train-", "val-"}) {
    if (name.rfind(prefix, 0) != 0 || !name.ends_with(".tok")) continue;
    std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - 4);
    if (digits.size() >= 5 && digits.find_first_not_of("0123456789") == std::string::npos) return true;
  }
  return false;
}

// One split's output: the current shard and the list of finished ones.
struct SplitWriter {
  std::string dir, prefix;
  uint64_t vocab, max_tokens;
  Hash128 hash;
  std::unique_ptr<TokShardWriter> current;
  std::vector<FileEntry> done;
  uint64_t docs = 0, tokens = 0;
  void add(const std::vector<uint32_t>& ids) {
    if (current && current->tokens() > 0 && current->tokens() + ids.size() > max_tokens) close();
    if (!current) {
      char name[64];
      std::snprintf(name, sizeof name, "%s-%05zu.tok", prefix.c_str(), done.size());
      current = std::make_unique<TokShardWriter>(dir + "/" + name, vocab, hash);
    }
    current->add_document(ids);
    ++docs;
    tokens += ids.size();
  }
  void close() {
    if (!current) return;
    auto h = current->finish();
    std::string name = current->path().substr(dir.size() + 1);
    FileEntry e = describe_file(current->path(), name);
    e.records = h.token_count;
    done.push_back(e);
    current.reset();
  }
};

}  // namespace

void declare(opt::Schema& s, TokenizeOptions& o) {
  s.add("tokenizer", o.tokenizer, "tokenizer.json or a folder holding one").flag("-t,--tokenizer").no_yaml().no_json();
  s.add("output", o.output, "Output folder (train-NNNNN.tok, val-NNNNN.tok, manifest.json)")
      .flag("-o,--output")
      .no_yaml()
      .no_json();
  s.add("eos_token", o.eos_token, "Token after each document (default: the tokenizer's EOS)").flag("--eos");
  s.add("bos_token", o.bos_token, "Token before each document ('auto' = the tokenizer's BOS; default none)").flag("--bos");
  s.add("val_fraction", o.val_fraction, "Fraction of documents held out as validation, in [0, 1)").range(0, 1);
  s.add("max_shard_tokens", o.max_shard_tokens, "Tokens per shard before starting a new one").min(1);
  s.add("batch_docs", o.batch_docs, "Documents encoded per parallel batch (memory; shards are the same for any value)")
      .min(1)
      .no_json();
  s.check([&o] {
    if (o.val_fraction >= 1) opt::fail("val_fraction", "must be in [0, 1), got " + opt::real_text(o.val_fraction));
  });
}

std::string TokenizeResult::summary() const {
  return "tokenized " + std::to_string(docs) + " docs (" + human_bytes(static_cast<double>(bytes)) + ") into " +
         std::to_string(train_tokens) + " train tokens (" + std::to_string(train_docs) + " docs) and " +
         std::to_string(val_tokens) + " val tokens (" + std::to_string(val_docs) + " docs), " +
         std::to_string(shards) + " shards, " + human_duration(seconds);
}

TokenizeResult tokenize_to_shards(const std::vector<std::string>& files, const TokenizeOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  check_options(o);
  auto tok = tokenizer::Tokenizer::load(o.tokenizer);
  const uint32_t eos = find_token(tok, o.eos_token, tokenizer::eos_token_names(), "eos_token");
  const bool bos_on = !o.bos_token.empty();
  const uint32_t bos = bos_on ? find_token(tok, o.bos_token, tokenizer::bos_token_names(), "bos_token") : 0;
  make_dirs(o.output);
  // A rerun replaces the previous output: shards it would not overwrite (a shorter run, no
  // validation split this time) must not stay behind for readers that take the whole folder.
  retract_stage(o.output);
  std::error_code ec;
  std::vector<std::filesystem::path> stale;
  for (auto it = std::filesystem::directory_iterator(o.output, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec))
    if (is_shard_name(it->path().filename().string())) stale.push_back(it->path());
  for (auto& p : stale)
    if (!std::filesystem::remove(p, ec) && ec)
      runtime_error("cannot remove the previous run's shard: " + ec.message(), p.string());
  const Hash128 hash = tok.hash();
  SplitWriter train{o.output, "train", tok.vocab_size(), o.max_shard_tokens, hash, nullptr, {}, 0, 0};
  SplitWriter val{o.output, "val", tok.vocab_size(), o.max_shard_tokens, hash, nullptr, {}, 0, 0};
  const uint64_t val_cut = static_cast<uint64_t>(o.val_fraction * 18446744073709551615.0);
  ThreadPool pool(thread_count());
  corpus::Diagnostics diag(o.read.max_reported, o.read.strict);
  Progress progress("tokenize", corpus::total_size(files));
  TokenizeResult r;
  std::vector<corpus::Document> batch(o.batch_docs);
  std::vector<std::vector<uint32_t>> ids(o.batch_docs);
  std::vector<uint8_t> is_val(o.batch_docs);
  for (auto& f : files) {
    corpus::DocumentReader reader(f, o.read, &diag);
    uint64_t last_raw = 0;
    for (;;) {
      size_t n = 0;
      while (n < batch.size() && reader.next(batch[n])) ++n;
      if (n == 0) break;
      pool.parallel_for(n, [&](size_t i) {
        auto& out = ids[i];
        out.clear();
        if (bos_on) out.push_back(bos);
        tok.encode_into(batch[i].text, false, out);
        out.push_back(eos);
        is_val[i] = val_cut > 0 && hash64(batch[i].text, 0x7a1) < val_cut;
      });
      for (size_t i = 0; i < n; ++i) {
        (is_val[i] ? val : train).add(ids[i]);
        r.bytes += batch[i].text.size();
      }
      r.docs += n;
      uint64_t raw = reader.raw_bytes_read();
      progress.add(n, raw - last_raw);
      last_raw = raw;
    }
  }
  progress.finish();
  if (r.docs == 0)
    runtime_error("no documents in the input", files.size() == 1 ? files[0] : std::to_string(files.size()) + " files",
                  "check the paths and the format / text_field read options");
  train.close();
  val.close();
  r.train_docs = train.docs;
  r.val_docs = val.docs;
  r.train_tokens = train.tokens;
  r.val_tokens = val.tokens;
  r.shards = train.done.size() + val.done.size();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The declared options, and what they resolved to with this tokenizer.
  std::string options_json = opt::json_of(o);
  options_json = opt::with_member(options_json, "tokenizer_hash", "\"" + hash.hex() + "\"");
  options_json = opt::with_member(options_json, "eos_id", std::to_string(eos));
  options_json = opt::with_member(options_json, "bos_id", bos_on ? std::to_string(bos) : std::string("null"));
  std::vector<std::string> inputs = files;
  inputs.push_back(tokenizer::tokenizer_file(o.tokenizer));
  Manifest m = plan_stage("tokenize", options_json, inputs);
  m.outputs = train.done;
  m.outputs.insert(m.outputs.end(), val.done.begin(), val.done.end());
  const std::string stats_json =
      "{\"docs\":" + std::to_string(r.docs) + ",\"train_tokens\":" + std::to_string(r.train_tokens) +
      ",\"val_tokens\":" + std::to_string(r.val_tokens) + ",\"train_docs\":" + std::to_string(r.train_docs) +
      ",\"val_docs\":" + std::to_string(r.val_docs) + "}";
  publish_stage(o.output, std::move(m), r.seconds, stats_json);
  return r;
}

}  // namespace nlm::data
