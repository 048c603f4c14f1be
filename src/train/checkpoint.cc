// Training checkpoints (see checkpoint.h).
#include "train/checkpoint.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "core/json_ints.h"
#include "model/hf_checkpoint.h"
#include "model/peft_adapter.h"
#include "model/sampler.h"
#include "tokenizer/tokenizer.h"

namespace nlm::train {

namespace fs = std::filesystem;

namespace {
std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& run_dir) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::string dir = run_dir + "/checkpoints";
  if (!fs::exists(dir)) return out;
  for (auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename().string();
    if (!n.starts_with("step-") || !fs::exists(e.path() / "trainer_state.json")) continue;
    try {
      out.push_back({std::stoll(n.substr(5)), e.path().string()});
    } catch (...) {
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The spelling of token `id` (when the tokenizer has it), else of the first of `names` that the
// tokenizer holds as one special token; "" when neither.
std::string token_text(const tokenizer::Tokenizer& tok, int64_t id, const std::vector<const char*>& names) {
  if (id >= 0 && id < static_cast<int64_t>(tok.vocab_size())) {
    if (const tokenizer::AddedToken* a = tok.added_token(static_cast<uint32_t>(id))) return a->content;
    if (static_cast<size_t>(id) < tok.model.tokens.size()) return tok.model.tokens[static_cast<size_t>(id)];
  }
  for (const char* n : names)
    for (uint32_t i = 0; i < tok.vocab_size(); ++i)
      if (const tokenizer::AddedToken* a = tok.added_token(i); a && a->special && a->content == n) return n;
  return {};
}
}  // namespace

void write_model_files(const std::string& dir, const model::ModelConfig& c, const std::string& tokenizer_path) {
  if (!tokenizer_path.empty()) {
    // Published like every other file, so a kill never leaves a torn copy behind.
    const std::string tokenizer_json = tokenizer::tokenizer_file(tokenizer_path);
    if (!fs::is_regular_file(tokenizer_json))
      usage_error("no tokenizer.json at " + echoed(tokenizer_json), {},
                  "pass --tokenizer as a tokenizer.json or the folder 'nativelm tokenizer train' wrote");
    write_file_atomic(dir + "/tokenizer.json", read_file(tokenizer_json));
    fs::path beside = fs::path(tokenizer_json).parent_path() / "tokenizer_config.json";
    if (fs::exists(beside)) {
      write_file_atomic(dir + "/tokenizer_config.json", read_file(beside.string()));
    } else {
      auto tok = tokenizer::Tokenizer::load(tokenizer_json);
      nlohmann::json t = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                          {"model_max_length", c.max_position_embeddings},
                          {"clean_up_tokenization_spaces", false}};
      std::string bos = token_text(tok, c.bos_token_id, tokenizer::bos_token_names());
      std::string eos = token_text(tok, c.eos_token_id, tokenizer::eos_token_names());
      if (!bos.empty()) t["bos_token"] = bos;
      if (!eos.empty()) t["eos_token"] = eos;
      write_file_atomic(dir + "/tokenizer_config.json", t.dump(2) + "\n");
    }
  }
  const model::SamplingOptions defaults;
  nlohmann::json g = {{"do_sample", defaults.temperature > 0},
                      {"temperature", defaults.temperature},
                      {"top_k", defaults.top_k},
                      {"top_p", defaults.top_p},
                      {"repetition_penalty", defaults.repetition_penalty},
                      {"max_new_tokens", defaults.max_tokens}};
  if (c.bos_token_id >= 0) g["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_id >= 0) g["eos_token_id"] = c.eos_token_id;
  write_file_atomic(dir + "/generation_config.json", g.dump(2) + "\n");
}

std::string save_checkpoint(const std::string& run_dir, const model::Llama& model,
                            const AdamW& opt, const TrainerState& state, int keep,
                            const std::string& tokenizer_json) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(state.step));
  std::string base = run_dir + "/checkpoints";
  std::string final_dir = base + "/" + name, tmp = base + "/." + std::string(name) + ".tmp";
  // Data parallel: rank 0 writes the model and the state, every rank its optimizer shard into
  // the same temp folder (a shared filesystem across nodes), and rank 0 renames it when all are in.
  dist::DeviceComm& comm = opt.comm();
  const bool lead = comm.rank() == 0;
  if (lead) {
    fs::remove_all(tmp);
    make_dirs(tmp);
  }
  comm.barrier();
  opt.save_dir(tmp);
  comm.barrier();
  if (!lead) {
    comm.barrier();
    return final_dir;
  }
  if (model.lora().enabled()) {
    // LoRA: the adapter only (a PEFT folder); resume reloads the frozen base from its source.
    model::save_peft_adapter(tmp, model, "");
    write_file_atomic(tmp + "/config.json", model::to_hf_config_json(model.config()));
  } else {
    model::save_hf_model(tmp, model, {});
  }
  write_model_files(tmp, model.config(), tokenizer_json);
  nlohmann::json j;
  j["step"] = state.step;
  j["data"] = nlohmann::json::parse(state.data_state);
  j["fingerprint"] = state.fingerprint;
  if (!state.config.empty()) j["config"] = nlohmann::json::parse(state.config);
  if (state.tokens >= 0) j["tokens"] = state.tokens;
  if (comm.size() > 1) j["ranks"] = comm.size();
  write_file_atomic(tmp + "/trainer_state.json", j.dump(2) + "\n");
  sync_dir(tmp);
  fs::remove_all(final_dir);
  fs::rename(tmp, final_dir);
  sync_dir(base);
  prune_checkpoints(run_dir, keep);
  comm.barrier();
  return final_dir;
}

void prune_checkpoints(const std::string& run_dir, int keep) {
  auto all = list_checkpoints(run_dir);
  for (size_t i = 0; keep > 0 && i + static_cast<size_t>(keep) < all.size(); ++i) {
    // Out of the step-* names first: a kill while its files go leaves a hidden folder, never a
    // step-* folder missing some of them.
    fs::path p(all[i].second), doomed = p.parent_path() / ("." + p.filename().string() + ".old");
    fs::remove_all(doomed);
    fs::rename(p, doomed);
    fs::remove_all(doomed);
  }
  // What killed runs left: hidden folders of saves (.step-N.tmp) and of removals (.step-N.old).
  std::error_code ec;
  for (auto it = fs::directory_iterator(run_dir + "/checkpoints", ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    if (it->path().filename().string().starts_with(".step-")) fs::remove_all(it->path());
}

std::string latest_checkpoint(const std::string& run_dir) {
  auto all = list_checkpoints(run_dir);
  return all.empty() ? std::string() : all.back().second;
}

TrainerState load_checkpoint(const std::string& dir, model::Llama& model, AdamW& opt) {
  TrainerState s;
  std::string path = dir + "/trainer_state.json";
  try {
    std::string text = read_file(path);
    check_json_depth(text, path);
    auto j = nlohmann::json::parse(text);
    s.step = json_int(j.at("step"), "step", path);
    s.data_state = j.at("data").dump();
    s.fingerprint = j.at("fingerprint").get<std::string>();
    if (j.contains("tokens")) s.tokens = j.at("tokens").get<double>();
  } catch (const nlohmann::json::exception& e) {
    runtime_error(std::string("corrupt trainer state: ") + e.what(), path,
                  "delete this checkpoint to resume from an older one");
  }
  model::ModelConfig saved = model::load_hf_config(dir);
  if (saved.parameter_count() != model.config().parameter_count() ||
      saved.num_hidden_layers != model.config().num_hidden_layers)
    usage_error("checkpoint model does not match the configured model", dir,
                "resume with the config the run started with");
  if (model.lora().enabled() != model::is_peft_adapter(dir))
    usage_error(std::string("checkpoint ") + (model.lora().enabled() ? "holds full weights but this run trains LoRA"
                                                                     : "holds a LoRA adapter but this run trains every weight"),
                dir, "resume with the lora settings the run started with");
  if (model.lora().enabled()) model::load_peft_adapter(dir, model);
  else model::load_hf_weights(dir, model);
  opt.load_dir(dir, s.step);
  return s;
}

}  // namespace nlm::train
