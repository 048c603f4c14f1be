// HF model directory save/load (see hf_checkpoint.h).
#include "model/hf_checkpoint.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "model/quantized_checkpoint.h"
#include "model/safetensors.h"

namespace nlm::model {

using nlohmann::json;
using tensor::DType;
namespace fs = std::filesystem;

namespace {

bool is_vocab_param(const std::string& name) {
  return name == "model.embed_tokens.weight" || name == "lm_head.weight";
}

std::string shard_name(size_t i, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return buf;
}

}  // namespace

void save_hf_model(const std::string& dir, const Llama& model, const SaveOptions& options) {
  const DType dtype = options.dtype.value_or(model.dtype() == DType::BF16 ? DType::BF16 : DType::F32);
  if (dtype != DType::F32 && dtype != DType::BF16 && dtype != DType::F16)
    usage_error("save dtype must be F32, BF16 or F16", "save_hf_model");
  make_dirs(dir);
  ModelConfig cfg = model.config();
  cfg.torch_dtype = dtype == DType::F32 ? "float32" : dtype == DType::BF16 ? "bfloat16" : "float16";
  // Convert every parameter to the storage dtype on the host.
  std::vector<std::vector<char>> host;
  std::vector<SafetensorsTensor> tensors;
  host.reserve(model.params().size());
  for (const Param& p : model.params()) {
    if (p.adapter) continue;  // LoRA matrices go to a PEFT adapter (peft_adapter.h), not the model
    host.emplace_back(static_cast<size_t>(p.value.numel()) * tensor::dtype_size(dtype));
    model.backend().download(p.value, host.back().data(), dtype);
    tensors.push_back({p.name, dtype, p.value.shape(), host.back().data()});
  }
  // Group into shards in parameter order.
  std::vector<std::vector<SafetensorsTensor>> shards(1);
  uint64_t cur = 0, total = 0;
  for (auto& t : tensors) {
    uint64_t bytes = static_cast<uint64_t>(tensor::shape_numel(t.shape)) * tensor::dtype_size(t.dtype);
    if (options.max_shard_bytes && cur > 0 && cur + bytes > options.max_shard_bytes) {
      shards.emplace_back();
      cur = 0;
    }
    shards.back().push_back(t);
    cur += bytes;
    total += bytes;
  }
  std::map<std::string, std::string> meta = {{"format", "pt"}};
  // Remove stale weight files from an earlier save with a different layout.
  std::set<std::string> keep;
  if (shards.size() == 1) {
    write_safetensors(dir + "/model.safetensors", shards[0], meta);
    keep.insert("model.safetensors");
  } else {
    json index;
    index["metadata"] = {{"total_size", total}};
    json map = json::object();
    for (size_t i = 0; i < shards.size(); ++i) {
      std::string name = shard_name(i, shards.size());
      write_safetensors(dir + "/" + name, shards[i], meta);
      keep.insert(name);
      for (auto& t : shards[i]) map[t.name] = name;
    }
    index["weight_map"] = map;
    write_file_atomic(dir + "/model.safetensors.index.json", index.dump(2) + "\n");
    keep.insert("model.safetensors.index.json");
  }
  for (auto& entry : fs::directory_iterator(dir)) {
    std::string n = entry.path().filename().string();
    bool weights = n == "model.safetensors" || n == "model.safetensors.index.json" ||
                   (n.starts_with("model-") && n.ends_with(".safetensors"));
    if (weights && !keep.count(n)) fs::remove(entry.path());
  }
  write_file_atomic(dir + "/config.json", to_hf_config_json(cfg));
}

std::vector<std::string> hf_weight_files(const std::string& dir) {
  std::string index = dir + "/model.safetensors.index.json";
  if (fs::exists(index)) {
    json j;
    try {
      std::string text = read_file(index);
      check_json_depth(text, index);
      j = json::parse(text);
    } catch (const json::exception& e) {
      runtime_error(std::string("corrupt index: ") + e.what(), index);
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      runtime_error("index has no weight_map object", index);
    std::set<std::string> files;
    for (auto& [k, v] : j["weight_map"].items())
      if (v.is_string()) files.insert(v.get<std::string>());
    std::vector<std::string> out;
    for (auto& f : files) out.push_back(dir + "/" + f);
    return out;
  }
  std::string single = dir + "/model.safetensors";
  if (!fs::exists(single))
    usage_error("no model.safetensors or model.safetensors.index.json", dir,
                "point at an HF model directory");
  return {single};
}

VocabExtension read_vocab_extension(const std::string& path) {
  json j;
  try {
    std::string text = read_file(path);
    check_json_depth(text, path);
    j = json::parse(text);
  } catch (const json::exception& e) {
    usage_error(std::string("vocabulary extension map is not valid JSON: ") + e.what(), path);
  }
  VocabExtension ext;
  if (j.is_array()) {
    // new_tokens.json from `nativelm tokenizer extend`: [{"id", "token", "pieces"}, ...]
    for (auto& e : j) {
      if (!e.is_object() || !e.contains("id") || !e["id"].is_number_integer() || !e.contains("pieces") ||
          !e["pieces"].is_array() || e["pieces"].empty())
        usage_error("each entry needs an integer \"id\" and a non-empty \"pieces\" array", path);
      for (auto& x : e["pieces"]) {
        if (!x.is_number_integer()) usage_error("non-integer piece id", path);
        ext.pieces[e["id"].get<int64_t>()].push_back(x.get<int64_t>());
      }
    }
    return ext;
  }
  if (!j.is_object()) usage_error("vocabulary extension map must be a JSON object or array", path);
  for (auto& [k, v] : j.items()) {
    int64_t id = -1;
    try {
      id = std::stoll(k);
    } catch (...) {
    }
    if (id < 0 || !v.is_array() || v.empty())
      usage_error("entry '" + k + "' must map a token id to a non-empty array of ids", path);
    for (auto& x : v) {
      if (!x.is_number_integer()) usage_error("entry '" + k + "' holds a non-integer id", path);
      ext.pieces[id].push_back(x.get<int64_t>());
    }
  }
  return ext;
}

void load_hf_weights(const std::string& dir, Llama& model, const VocabExtension* extension) {
  std::vector<std::unique_ptr<SafetensorsReader>> readers;
  for (auto& f : hf_weight_files(dir)) readers.push_back(std::make_unique<SafetensorsReader>(f));
  auto locate = [&](const std::string& name) -> std::pair<const SafetensorsReader*, const SafetensorsEntry*> {
    for (auto& r : readers)
      if (auto* e = r->find(name)) return {r.get(), e};
    return {nullptr, nullptr};
  };
  const int64_t V = model.config().vocab_size;
  for (Param& p : model.params()) {
    if (p.adapter) continue;
    auto [reader, e] = locate(p.name);
    if (!e)
      usage_error("checkpoint lacks tensor '" + p.name + "'", dir,
                  "the config.json does not match the weights (tie_word_embeddings? layers?)");
    const tensor::Shape& want = p.value.shape();
    if (is_quantized_entry(*e)) {  // a `nativelm quantize` folder: the training model computes in fp32
      std::vector<float> host(static_cast<size_t>(p.value.numel()));
      dequantize_weight(*reader, *e, want, host.data());
      model.backend().upload(p.value, host.data(), DType::F32);
      continue;
    }
    bool vocab_grows = is_vocab_param(p.name) && e->shape.size() == 2 && e->shape[1] == want[1] &&
                       e->shape[0] < want[0];
    if (e->shape != want && !vocab_grows)
      usage_error("tensor '" + p.name + "' has shape " + tensor::shape_string(e->shape) +
                      " in the checkpoint but the model needs " + tensor::shape_string(want),
                  reader->path(), "use the config.json that came with these weights");
    if (e->dtype == DType::I32) usage_error("tensor '" + p.name + "' is I32", reader->path());
    const int64_t rows_have = vocab_grows ? e->shape[0] : want.empty() ? 1 : want[0];
    std::vector<float> host(static_cast<size_t>(p.value.numel()));
    tensor::convert(reader->data(*e), e->dtype, host.data(), DType::F32,
                    static_cast<size_t>(tensor::shape_numel(e->shape)));
    if (vocab_grows) {
      const int64_t C = want[1];
      for (int64_t id = rows_have; id < V; ++id) {
        auto it = extension ? extension->pieces.find(id) : decltype(extension->pieces.end()){};
        if (!extension || it == extension->pieces.end())
          usage_error("vocabulary mismatch: the model has " + std::to_string(V) +
                          " tokens but the checkpoint only " + std::to_string(rows_have) +
                          ", and token " + std::to_string(id) + " has no extension entry",
                      dir, "pass the map written by 'nativelm tokenizer extend' or use the matching tokenizer");
        for (int64_t c = 0; c < C; ++c) {
          double s = 0;
          for (int64_t old : it->second) {
            if (old < 0 || old >= rows_have)
              usage_error("extension entry for token " + std::to_string(id) + " names id " +
                              std::to_string(old) + " outside the old vocabulary", dir);
            s += host[old * C + c];
          }
          host[id * C + c] = static_cast<float>(s / static_cast<double>(it->second.size()));
        }
      }
    }
    model.backend().upload(p.value, host.data(), DType::F32);
  }
}

std::vector<int64_t> load_generation_eos_ids(const std::string& dir) {
  const std::string path = dir + "/generation_config.json";
  if (!fs::exists(path)) return {};
  json g = json::parse(read_file(path), nullptr, false);
  if (g.is_discarded() || !g.is_object())
    usage_error("generation_config.json is not a JSON object", path, "fix or delete the file");
  if (!g.contains("eos_token_id") || g["eos_token_id"].is_null()) return {};
  const json& e = g["eos_token_id"];
  std::vector<int64_t> ids;
  for (const json& x : e.is_array() ? e : json::array({e})) {
    if (!x.is_number_integer())
      usage_error("generation_config.json: eos_token_id must be an integer or a list of integers", path,
                  "fix or delete the file");
    ids.push_back(x.get<int64_t>());
  }
  return ids;
}

std::unique_ptr<Llama> load_hf_model(const std::string& dir, tensor::Backend& backend,
                                     ModelOptions options, const VocabExtension* extension) {
  ModelConfig cfg = load_hf_config(dir);
  if (extension && !extension->pieces.empty())
    cfg.vocab_size = std::max(cfg.vocab_size, extension->pieces.rbegin()->first + 1);
  auto m = std::make_unique<Llama>(cfg, backend, options);
  load_hf_weights(dir, *m, extension);
  return m;
}

}  // namespace nlm::model
