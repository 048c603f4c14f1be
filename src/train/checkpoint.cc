// Training checkpoints (see checkpoint.h).
#include "train/checkpoint.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "model/hf_checkpoint.h"

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
}  // namespace

std::string save_checkpoint(const std::string& run_dir, const model::Llama& model,
                            const AdamW& opt, const TrainerState& state, int keep,
                            const std::string& tokenizer_json) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(state.step));
  std::string base = run_dir + "/checkpoints";
  std::string final_dir = base + "/" + name, tmp = base + "/." + std::string(name) + ".tmp";
  fs::remove_all(tmp);
  make_dirs(tmp);
  model::save_hf_model(tmp, model, {});
  opt.save(tmp + "/optimizer.safetensors");
  if (!tokenizer_json.empty()) fs::copy_file(tokenizer_json, tmp + "/tokenizer.json");
  nlohmann::json j;
  j["step"] = state.step;
  j["data"] = nlohmann::json::parse(state.data_state);
  j["fingerprint"] = state.fingerprint;
  write_file_atomic(tmp + "/trainer_state.json", j.dump(2) + "\n");
  sync_dir(tmp);
  fs::remove_all(final_dir);
  fs::rename(tmp, final_dir);
  sync_dir(base);
  auto all = list_checkpoints(run_dir);
  for (size_t i = 0; keep > 0 && i + keep < all.size(); ++i) fs::remove_all(all[i].second);
  return final_dir;
}

std::string latest_checkpoint(const std::string& run_dir) {
  auto all = list_checkpoints(run_dir);
  return all.empty() ? std::string() : all.back().second;
}

TrainerState load_checkpoint(const std::string& dir, model::Llama& model, AdamW& opt) {
  TrainerState s;
  std::string path = dir + "/trainer_state.json";
  try {
    auto j = nlohmann::json::parse(read_file(path));
    s.step = j.at("step").get<int64_t>();
    s.data_state = j.at("data").dump();
    s.fingerprint = j.at("fingerprint").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    runtime_error(std::string("corrupt trainer state: ") + e.what(), path,
                  "delete this checkpoint to resume from an older one");
  }
  model::ModelConfig saved = model::load_hf_config(dir);
  if (saved.parameter_count() != model.config().parameter_count() ||
      saved.num_hidden_layers != model.config().num_hidden_layers)
    usage_error("checkpoint model does not match the configured model", dir,
                "resume with the config the run started with");
  model::load_hf_weights(dir, model);
  opt.load(dir + "/optimizer.safetensors", s.step);
  return s;
}

}  // namespace nlm::train
