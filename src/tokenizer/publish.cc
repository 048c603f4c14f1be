// Train or extend a tokenizer and publish its folder with a manifest: the whole of
// `tokenizer train` and `tokenizer extend`, shared by the CLI and the pipeline.
#include "tokenizer/publish.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/json_escape.h"
#include "core/log.h"
#include "core/manifest.h"
#include "core/progress.h"
#include "core/stage_output.h"

namespace nlm::tokenizer {

namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// An empty folder name would write DIR + "/tokenizer.json" to the filesystem root.
void require_output(const std::string& dir) {
  if (dir.empty())
    opt::fail("output", "is an empty path (an empty output folder would write to the filesystem root)", "name a folder");
}

// The tokenizer.json a path names: the path itself, or the file in the folder it names.
std::string tokenizer_file(const std::string& path) {
  return path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0 ? path : path + "/tokenizer.json";
}

// The text of the tokenizer_config.json beside a base tokenizer.json ("" when there is none,
// or when the base file is not named tokenizer.json and so has no folder of its own).
std::string base_config_text(const std::string& base_json) {
  fs::path p(base_json);
  if (p.filename() != "tokenizer.json") return {};
  fs::path config = p.parent_path() / "tokenizer_config.json";
  std::error_code ec;
  return fs::is_regular_file(config, ec) ? read_file(config.string()) : std::string();
}

// The base's folder and the output folder are the same directory (the output need not exist).
bool same_folder(const fs::path& a, const fs::path& b) {
  std::error_code ea, eb;
  fs::path ca = fs::weakly_canonical(fs::absolute(a), ea), cb = fs::weakly_canonical(fs::absolute(b), eb);
  return !ea && !eb && ca == cb;
}

}  // namespace

void declare(opt::Schema& s, TrainTokenizerOptions& o) {
  s.add("output", o.output, "Output folder (tokenizer.json, tokenizer_config.json, manifest.json)")
      .flag("-o,--output")
      .no_yaml()
      .no_json();
  declare(s, o.train);
}

void declare(opt::Schema& s, ExtendTokenizerOptions& o) {
  s.add("base", o.base, "Base tokenizer.json or its folder (a tokenizer_config.json beside it is carried over)")
      .flag("-t,--tokenizer");
  s.add("output", o.output, "Output folder (not the base's): tokenizer.json, tokenizer_config.json, new_tokens.json")
      .flag("-o,--output")
      .no_yaml()
      .no_json();
  declare(s, o.extend);
}

std::string TrainTokenizerResult::summary() const {
  char buf[256];
  std::snprintf(buf, sizeof buf, "trained %u tokens (%llu merges) from %llu docs, %s in %.1f s -> %s/tokenizer.json",
                vocab_size, static_cast<unsigned long long>(stats.merges), static_cast<unsigned long long>(stats.docs),
                human_bytes(static_cast<double>(stats.bytes)).c_str(), seconds, output.c_str());
  std::string s = buf;
  if (!shortfall.empty())
    s += "\n  only " + std::to_string(vocab_size) + " of the " + std::to_string(requested) + " tokens asked for: " +
         shortfall;
  return s;
}

std::string TrainTokenizerResult::to_json() const {
  std::string s = stats.to_json();
  s = opt::with_member(s, "requested_vocab_size", std::to_string(requested));
  s = opt::with_member(s, "vocab_size", std::to_string(vocab_size));
  return opt::with_member(s, "shortfall", json_quote(shortfall));
}

std::string ExtendTokenizerResult::summary() const {
  const size_t added = extend.added.size();
  std::string s = "added " + std::to_string(added) +
                  (added < extend.requested ? " of " + std::to_string(extend.requested) : std::string()) +
                  " tokens (vocab now " + std::to_string(vocab_size) + ") -> " + output +
                  "/tokenizer.json, new_tokens.json";
  if (!extend.shortfall.empty()) s += "\n  fewer than asked: " + extend.shortfall;
  return s;
}

std::string ExtendTokenizerResult::to_json() const {
  return opt::with_member(extend.stats_json(), "vocab_size", std::to_string(vocab_size));
}

TrainTokenizerResult train_and_publish(const std::vector<std::string>& files, const TrainTokenizerOptions& o) {
  require_output(o.output);
  check_train_options(o.train);
  auto start = std::chrono::steady_clock::now();
  TrainTokenizerResult r;
  r.output = o.output;
  r.requested = o.train.vocab_size;
  Tokenizer tok = train_bpe(files, o.train, &r.stats);
  r.vocab_size = tok.vocab_size();
  if (r.vocab_size < r.requested) r.shortfall = r.stats.stop_reason(o.train.min_frequency);
  r.seconds = seconds_since(start);
  publish_tokenizer(tok, o.output, "tokenizer.train", opt::json_of(o), files, r.to_json(), r.seconds);
  return r;
}

ExtendTokenizerResult extend_and_publish(const std::vector<std::string>& files, const ExtendTokenizerOptions& o) {
  if (o.base.empty()) opt::fail("base", "is an empty tokenizer path", "pass the base tokenizer.json or its folder");
  require_output(o.output);
  const std::string base_json = tokenizer_file(o.base);
  if (same_folder(fs::path(base_json).parent_path(), o.output))
    opt::fail("output", "is the base tokenizer's folder (" + fs::path(base_json).parent_path().string() + ")",
              "write the extended tokenizer to another folder; extending in place would overwrite the base");
  auto start = std::chrono::steady_clock::now();
  Tokenizer tok = Tokenizer::load(o.base);
  const std::string base_config = base_config_text(base_json);
  ExtendTokenizerResult r;
  r.output = o.output;
  r.extend = extend_tokenizer(tok, files, o.extend);
  r.vocab_size = tok.vocab_size();
  r.seconds = seconds_since(start);
  if (!r.extend.shortfall.empty())
    log::warn("tokenizer extend: added " + std::to_string(r.extend.added.size()) + " of " +
              std::to_string(r.extend.requested) + " tokens: " + r.extend.shortfall);
  // new_tokens.json first: the tokenizer folder is complete once the manifest lists it.
  make_dirs(o.output);
  retract_stage(o.output);
  write_file_atomic(o.output + "/new_tokens.json", r.extend.to_json());
  std::vector<std::string> inputs = files;
  inputs.push_back(base_json);
  publish_tokenizer(tok, o.output, "tokenizer.extend", opt::json_of(o), inputs, r.to_json(), r.seconds,
                    {"new_tokens.json"}, base_config);
  return r;
}

void publish_tokenizer(const Tokenizer& tok, const std::string& dir, const std::string& stage,
                       const std::string& options_json, const std::vector<std::string>& inputs,
                       const std::string& stats_json, double seconds,
                       const std::vector<std::string>& extra_outputs, const std::string& base_config) {
  // The folder's old manifest goes first: a run killed while the files are replaced must not
  // leave it describing the new tokenizer.json.
  retract_stage(dir);
  tok.save(dir, base_config);
  Manifest m = plan_stage(stage, options_json, inputs);
  for (const char* name : {"tokenizer.json", "tokenizer_config.json"})
    m.outputs.push_back(describe_file(dir + "/" + name, name));
  m.outputs.front().records = tok.vocab_size();
  for (auto& name : extra_outputs) m.outputs.push_back(describe_file(dir + "/" + name, name));
  publish_stage(dir, std::move(m), seconds, stats_json);
}

}  // namespace nlm::tokenizer
