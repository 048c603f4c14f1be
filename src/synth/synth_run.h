// The machinery every `nativelm synth` task shares (internal to src/synth): the output folder
// (run.json, part-NNNNN shards published atomically that a rerun resumes, summary.json), the
// endpoints' concurrent clients under one rate limit shared by the whole run, and the checks every
// output passes (language ID, decontamination against eval sets, dedup over the run).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "eval/judge/chat_client.h"
#include "synth/run_synth.h"
#include "synth/synth_options.h"

namespace nlm::curate {
class LanguageDetector;
}
namespace nlm::dedup {
class DecontamIndex;
}

namespace nlm::synth {

using ojson = nlohmann::ordered_json;
using Counts = std::map<std::string, uint64_t>;

// One record as a JSONL line (invalid UTF-8 replaced, never thrown on).
std::string dump_line(const ojson& j);

// What one shard produced: its funnel counts, tokens and kept records (JSONL text).
struct ShardOutcome {
  Counts counts;
  int64_t prompt_tokens = 0, completion_tokens = 0;
  std::string records;
};

// The output folder. The constructor makes it, sweeps temp files a killed run left, and checks
// run.json against `identity` (the inputs and every option that shapes the output): a different
// run is refused unless --force, which deletes its shards.
class ShardStore {
 public:
  ShardStore(const SynthOptions& o, const ojson& identity);
  // Shard `k` of `items` inputs as an earlier run finished it, else nullopt.
  std::optional<ShardOutcome> finished(uint64_t k, size_t items) const;
  // Publishes shard `k`: the stats file, then the records (the shard counts as done once they are
  // in place).
  void publish(uint64_t k, size_t items, const ShardOutcome& r) const;

 private:
  std::string folder_;
};

// Shard `k` of `items` inputs when an earlier run finished it: its counts and tokens are added to
// `t`, `on_record` sees each of its kept records (to seed dedup), and true comes back.
bool resume_shard(const ShardStore& store, uint64_t k, size_t items, SynthTotals& t,
                  const std::function<void(const ojson&)>& on_record);

// A usage error naming the first of `inputs` that does not exist.
void require_inputs(const std::vector<std::string>& inputs, const std::string& hint);

// One line of a JSONL input (translate, prefs).
struct InputRecord {
  std::string where;  // file:line
  ojson record;       // null when the line is not a JSON object
  std::string bad;    // why the record cannot be used ("" = it can); the task adds its own reasons
};

// Counts records that cannot be used as "bad_input", printing the first five with file:line.
class BadInputs {
 public:
  // True (counted and maybe printed) when r.bad is set.
  bool skip(const InputRecord& r, Counts& c);
  // Says how many more were skipped than printed.
  void report() const;

 private:
  size_t seen_ = 0;
};
// Reads `inputs` line by line and calls on_shard(k, records) with --shard-chunks lines at a time
// (the last call may have fewer); returns the number of shards.
uint64_t for_each_record_shard(const std::vector<std::string>& inputs, const SynthOptions& o, const std::string& hint,
                               const std::function<void(uint64_t, std::vector<InputRecord>&)>& on_shard);

// The inputs as run.json records them (absolute paths), and benchmark files with their sizes.
ojson input_paths(const std::vector<std::string>& inputs);
ojson benchmark_ids(const std::vector<std::string>& benchmark);

// Adds a shard's counts and tokens to the run's.
void add_outcome(SynthTotals& t, const ShardOutcome& r);
// Writes summary.json ({"task", ..., "funnel" in `funnel`'s order, "tokens", "cost_usd"} plus
// `extra`'s members) and prints the funnel and tokens to `out`.
void finish_run(const SynthOptions& o, const std::vector<std::string>& funnel, SynthTotals& t, const ojson& extra,
                std::ostream& out);

// The run's one rate limiter (null when neither limit is set).
std::shared_ptr<eval::judge::RateLimiter> run_limiter(const SynthOptions& o);

// One endpoint's clients, --concurrency of them, all under the run's limiter.
class Workers {
 public:
  struct Endpoint {
    std::string url, model, role;  // role: "generator", "judge", ... in messages
    int max_tokens = 1024;
    double temperature = 0;
  };
  Workers(const SynthOptions& o, const Endpoint& e, std::shared_ptr<eval::judge::RateLimiter> limiter);
  // Calls fn(client, i) for every i in [0, n), up to --concurrency at once. The first exception
  // (an endpoint that cannot be reached, or keeps failing) stops new calls and is rethrown.
  void run(size_t n, const std::function<void(eval::judge::ChatClient&, size_t)>& fn);

 private:
  std::vector<std::unique_ptr<eval::judge::ChatClient>> clients_;
};

// The checks every task's outputs pass. Not thread-safe: outputs are checked in input order.
class OutputChecks {
 public:
  explicit OutputChecks(const SynthOptions& o);
  ~OutputChecks();
  // Whether language ID puts `text` in --lang with at least --min-lang-score; `score` gets its score.
  bool right_language(std::string_view text, double* score = nullptr);
  // Whether `text` shares a word n-gram with a --benchmark item.
  bool contaminated(std::string_view text);
  bool seen(const std::string& key) const { return seen_.count(key) != 0; }
  void remember(const std::string& key) { seen_.insert(key); }

 private:
  const SynthOptions& o_;
  std::unique_ptr<curate::LanguageDetector> lid_;
  std::unique_ptr<dedup::DecontamIndex> decontam_;
  std::vector<std::string> keep_langs_;
  std::unordered_set<std::string> seen_;
};

// The task's user-message template: --prompt-file's text, else the built-in --prompt (default: the
// task's first); `name` gets the file or the prompt's name. A field outside `fields` is a usage error.
std::string load_template(const SynthOptions& o, const std::vector<std::string>& fields, std::string& name);

}  // namespace nlm::synth
