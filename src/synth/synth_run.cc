// The shared machinery of the synth tasks (synth_run.h).
#include "synth/synth_run.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_ints.h"
#include "core/log.h"
#include "curate/dedup/decontam.h"
#include "curate/lang_codes.h"
#include "curate/lid.h"
#include "eval/judge/prompts.h"
#include "eval/judge/rate_limiter.h"
#include "synth/generate.h"
#include "train/sft_data.h"

namespace nlm::synth {

namespace fs = std::filesystem;

std::string dump_line(const ojson& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

namespace {

std::string shard_name(uint64_t k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "part-%05llu", static_cast<unsigned long long>(k));
  return buf;
}

}  // namespace

ShardStore::ShardStore(const SynthOptions& o, const ojson& identity) : folder_(o.output) {
  make_dirs(folder_);
  remove_stale_temps(folder_);
  const std::string run_path = folder_ + "/run.json";
  if (fs::exists(run_path)) {
    auto before = ojson::parse(read_file(run_path), nullptr, false);
    if (before != identity) {
      if (!o.force)
        usage_error("the output folder holds a run with other inputs or options", folder_,
                    "rerun with the same ones to resume, or pass --force to start over");
      for (const auto& e : fs::directory_iterator(folder_))
        if (e.path().filename().string().rfind("part-", 0) == 0) fs::remove(e.path());
    }
  }
  write_file_atomic(run_path, identity.dump(2) + "\n");
}

std::optional<ShardOutcome> ShardStore::finished(uint64_t k, size_t items) const {
  const std::string base = folder_ + "/" + shard_name(k);
  const std::string part = base + ".jsonl", stats = base + ".stats.json";
  if (!fs::exists(part) || !fs::exists(stats)) return std::nullopt;
  auto s = ojson::parse(read_file(stats), nullptr, false);
  if (!s.is_object() || json_uint_at(s, "chunks_in_shard", 0, stats) != items || !s.contains("counts") ||
      !s["counts"].is_object() || !s.contains("tokens") || !s["tokens"].is_object())
    return std::nullopt;
  ShardOutcome r;
  for (const auto& [key, v] : s["counts"].items())
    if (v.is_number_unsigned()) r.counts[key] = v.get<uint64_t>();
  r.prompt_tokens = json_int_at(s["tokens"], "prompt", 0, stats);
  r.completion_tokens = json_int_at(s["tokens"], "completion", 0, stats);
  r.records = read_file(part);
  return r;
}

void ShardStore::publish(uint64_t k, size_t items, const ShardOutcome& r) const {
  const std::string base = folder_ + "/" + shard_name(k);
  ojson s = {{"chunks_in_shard", items},
             {"counts", r.counts},
             {"tokens", {{"prompt", r.prompt_tokens}, {"completion", r.completion_tokens}}}};
  write_file_atomic(base + ".stats.json", s.dump(2) + "\n");
  write_file_atomic(base + ".jsonl", r.records);  // the shard counts as done once this is in place
}

bool resume_shard(const ShardStore& store, uint64_t k, size_t items, SynthTotals& t,
                  const std::function<void(const ojson&)>& on_record) {
  auto done = store.finished(k, items);
  if (!done) return false;
  add_outcome(t, *done);
  std::istringstream in(done->records);
  std::string line;
  while (std::getline(in, line)) {
    auto r = ojson::parse(line, nullptr, false);
    if (r.is_object()) on_record(r);
  }
  ++t.shards_resumed;
  return true;
}

void require_inputs(const std::vector<std::string>& inputs, const std::string& hint) {
  for (const auto& f : inputs)
    if (!fs::exists(f)) usage_error("the input file does not exist", f, hint);
}

uint64_t for_each_record_shard(const std::vector<std::string>& inputs, const SynthOptions& o, const std::string& hint,
                               const std::function<void(uint64_t, std::vector<InputRecord>&)>& on_shard) {
  require_inputs(inputs, hint);
  std::vector<InputRecord> batch;
  uint64_t shard = 0;
  train::for_each_record(inputs, hint, [&](const ojson* r, const std::string& where) {
    batch.push_back({where, r ? *r : ojson(nullptr), r ? "" : "not a JSON object"});
    if (batch.size() == size_t(o.shard_chunks)) {
      on_shard(shard++, batch);
      batch.clear();
    }
  });
  if (!batch.empty()) on_shard(shard++, batch);
  return shard;
}

bool BadInputs::skip(const InputRecord& r, Counts& c) {
  if (r.bad.empty()) return false;
  ++c["bad_input"];
  if (seen_++ < 5) log::warn("skipped " + r.where + ": " + r.bad);
  return true;
}

void BadInputs::report() const {
  if (seen_ > 5) log::warn(std::to_string(seen_ - 5) + " more records skipped");
}

ojson input_paths(const std::vector<std::string>& inputs) {
  ojson in = ojson::array();
  for (const auto& f : inputs) in.push_back(fs::absolute(f).lexically_normal().string());
  return in;
}

ojson benchmark_ids(const std::vector<std::string>& benchmark) {
  ojson b = ojson::array();
  for (const auto& f : benchmark)
    b.push_back({{"path", fs::absolute(f).lexically_normal().string()},
                 {"bytes", fs::exists(f) ? fs::file_size(f) : uintmax_t{0}}});
  return b;
}

void add_outcome(SynthTotals& t, const ShardOutcome& r) {
  for (const auto& [k, v] : r.counts) t.counts[k] += v;
  t.prompt_tokens += r.prompt_tokens;
  t.completion_tokens += r.completion_tokens;
}

void finish_run(const SynthOptions& o, const std::vector<std::string>& funnel, SynthTotals& t, const ojson& extra,
                std::ostream& out) {
  t.cost = double(t.prompt_tokens) * o.price_prompt / 1e6 + double(t.completion_tokens) * o.price_completion / 1e6;
  ojson s = {{"task", task_name(o.task)}, {"model", o.model}, {"lang", o.lang}};
  for (const auto& [k, v] : extra.items()) s[k] = v;
  s["shards"] = t.shards;
  s["shards_resumed"] = t.shards_resumed;
  ojson f = ojson::object();
  for (const auto& k : funnel) f[k] = t.count(k);
  s["funnel"] = f;
  s["tokens"] = {{"prompt", t.prompt_tokens},
                 {"completion", t.completion_tokens},
                 {"total", t.prompt_tokens + t.completion_tokens}};
  s["cost_usd"] = t.cost;
  write_file_atomic(o.output + "/summary.json", s.dump(2) + "\n");

  out << "synth " << task_name(o.task) << ": " << t.shards << " shards (" << t.shards_resumed
      << " from an earlier run)\n";
  for (const auto& k : funnel) out << "  " << k << ": " << t.count(k) << "\n";
  char buf[160];
  std::snprintf(buf, sizeof buf, "tokens: %lld prompt, %lld completion; cost $%.4f; output in ",
                static_cast<long long>(t.prompt_tokens), static_cast<long long>(t.completion_tokens), t.cost);
  out << buf << o.output << "\n";
}

std::shared_ptr<eval::judge::RateLimiter> run_limiter(const SynthOptions& o) {
  if (o.requests_per_minute <= 0 && o.tokens_per_minute <= 0) return nullptr;
  return std::make_shared<eval::judge::RateLimiter>(o.requests_per_minute, o.tokens_per_minute);
}

Workers::Workers(const SynthOptions& o, const Endpoint& e, std::shared_ptr<eval::judge::RateLimiter> limiter) {
  eval::judge::ChatClientOptions co;
  co.base_url = e.url;
  co.model = e.model;
  if (!o.api_key_env.empty())
    if (const char* env = std::getenv(o.api_key_env.c_str())) co.api_key = env;
  co.max_tokens = e.max_tokens;
  co.temperature = e.temperature;
  co.retries = o.retries;
  co.retry_wait = o.retry_wait;
  co.timeout = o.timeout;
  co.limiter = std::move(limiter);
  co.role = e.role;
  co.model_flag = e.role == "judge" ? "--judge-model" : "--model";
  co.key_hint = "check the key in $" + o.api_key_env + " (--api-key-env)";
  for (int k = 0; k < o.concurrency; ++k) clients_.push_back(std::make_unique<eval::judge::ChatClient>(co));
}

void Workers::run(size_t n, const std::function<void(eval::judge::ChatClient&, size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr failure;
  std::mutex mu;
  auto work = [&](eval::judge::ChatClient& client) {
    for (;;) {
      const size_t i = next.fetch_add(1);
      if (i >= n || stop) return;
      try {
        fn(client, i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failure) failure = std::current_exception();
        stop = true;
        return;
      }
    }
  };
  const size_t nthreads = std::min(clients_.size(), n);
  std::vector<std::thread> threads;
  for (size_t k = 1; k < nthreads; ++k) threads.emplace_back(work, std::ref(*clients_[k]));
  if (nthreads) work(*clients_[0]);
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

OutputChecks::OutputChecks(const SynthOptions& o) : o_(o) {
  curate::LidOptions lo;
  lo.backend = o.lid_model.empty() ? "cld2" : "fasttext";
  lo.model = o.lid_model;
  lid_ = std::make_unique<curate::LanguageDetector>(lo);
  keep_langs_ = curate::resolve_lang_codes({o.lang}, lid_->labels(), lid_->name(), "lang");
  if (!o.benchmark.empty()) {
    dedup::DecontamOptions d;
    d.benchmarks = o.benchmark;
    d.ngram = o.decontam_ngram;
    decontam_ = std::make_unique<dedup::DecontamIndex>(d);
  }
}

OutputChecks::~OutputChecks() = default;

bool OutputChecks::right_language(std::string_view text, double* score) {
  const auto guess = lid_->detect(text);
  if (score) *score = guess.score;
  return std::find(keep_langs_.begin(), keep_langs_.end(), guess.lang) != keep_langs_.end() &&
         guess.score >= o_.min_lang_score;
}

bool OutputChecks::contaminated(std::string_view text) {
  return decontam_ && !decontam_->matches(std::string(text)).empty();
}

std::string load_template(const SynthOptions& o, const std::vector<std::string>& fields, std::string& name) {
  std::string templ;
  if (!o.prompt_file.empty()) {
    if (!fs::exists(o.prompt_file))
      usage_error("the prompt file does not exist", o.prompt_file, "give a text file with the prompt template");
    templ = read_file(o.prompt_file);
    name = o.prompt_file;
  } else {
    const auto names = builtin_prompt_names(o.task);
    const std::string pname = o.prompt.empty() ? names.front() : o.prompt;
    auto t = builtin_prompt(o.task, pname);
    if (!t) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      usage_error("no built-in prompt is named " + echoed(pname, 60), "--prompt", "use one of " + list);
    }
    templ = *t;
    name = pname;
  }
  std::string wanted;
  for (const auto& f : fields) wanted += (wanted.empty() ? "{" : ", {") + f + "}";
  for (const auto& f : eval::judge::template_fields(templ, name))
    if (std::find(fields.begin(), fields.end(), f) == fields.end())
      usage_error("the prompt uses {" + printable(f, 40) + "}, which synth " + task_name(o.task) + " does not fill",
                  name, "use " + wanted + "; write {{ and }} for literal braces");
  return templ;
}

}  // namespace nlm::synth
