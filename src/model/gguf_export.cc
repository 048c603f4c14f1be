// HF model directory -> GGUF file for llama.cpp (see gguf_export.h).
#include "model/gguf_export.h"

#include <cmath>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/log.h"
#include "core/options.h"
#include "data/chat_template/model_template.h"
#include "model/config.h"
#include "model/gguf_blocks.h"
#include "model/gguf_mix.h"
#include "model/gguf_tensors.h"
#include "model/gguf_vocab.h"
#include "model/gguf_writer.h"
#include "model/hf_checkpoint.h"
#include "model/quantized_checkpoint.h"
#include "model/safetensors.h"
#include "tokenizer/tokenizer.h"

namespace nlm::model {

namespace fs = std::filesystem;
using gguf::TensorType;

void declare(opt::Schema& s, ExportGgufOptions& o) {
  s.add("output", o.output, "GGUF file to write").flag("-o,--output");
  s.choice("type", o.type,
           {{"f16", GgufOutType::F16}, {"f32", GgufOutType::F32}, {"bf16", GgufOutType::BF16},
            {"q8_0", GgufOutType::Q8_0}, {"q4_0", GgufOutType::Q4_0},
            {"q4_k_m", GgufOutType::Q4_K_M}},
           "Storage type of the 2-D weights (norms and biases stay f32)");
  s.add("name", o.name, "general.name in the file (default: the model folder's name)");
  s.check([&o] {
    if (o.output.empty()) opt::fail("output", "is required", "name the .gguf file to write with -o");
  });
}

std::string ExportGgufResult::summary() const {
  std::string types;
  for (auto& [t, n] : tensor_types) types += (types.empty() ? "" : ", ") + std::to_string(n) + " " + t;
  return "wrote " + path + " (" + std::to_string(bytes) + " bytes): architecture " + architecture +
         ", pre-tokenizer " + pre_tokenizer + ", tensors " + types + "\n";
}

namespace {

gguf::FileType file_type(GgufOutType t) {
  switch (t) {
    case GgufOutType::F32: return gguf::FileType::AllF32;
    case GgufOutType::F16: return gguf::FileType::MostlyF16;
    case GgufOutType::BF16: return gguf::FileType::MostlyBF16;
    case GgufOutType::Q8_0: return gguf::FileType::MostlyQ8_0;
    case GgufOutType::Q4_0: return gguf::FileType::MostlyQ4_0;
    case GgufOutType::Q4_K_M: return gguf::FileType::MostlyQ4_K_M;
  }
  return gguf::FileType::AllF32;
}

class Weights {
 public:
  explicit Weights(const std::string& dir) {
    for (auto& f : hf_weight_files(dir)) readers_.push_back(std::make_unique<SafetensorsReader>(f));
  }
  // The tensor as F32, checked against the expected shape and for finite values.
  std::vector<float> load(const std::string& name, const tensor::Shape& shape) const {
    for (auto& r : readers_)
      if (const SafetensorsEntry* e = r->find(name)) {
        if (is_quantized_entry(*e)) {  // a `nativelm quantize` folder: dequantised, then GGUF's own types
          std::vector<float> v(static_cast<size_t>(tensor::shape_numel(shape)));
          dequantize_weight(*r, *e, shape, v.data());
          return v;
        }
        if (e->shape != shape)
          usage_error("tensor " + echoed(name, 80) + " has shape " + tensor::shape_string(e->shape) + " but config.json needs " +
                          tensor::shape_string(shape), r->path(), "use the config.json that came with these weights");
        if (e->dtype == tensor::DType::I32) usage_error("tensor " + echoed(name, 80) + " is I32, not a float type", r->path());
        std::vector<float> v(static_cast<size_t>(tensor::shape_numel(shape)));
        tensor::convert(r->data(*e), e->dtype, v.data(), tensor::DType::F32, v.size());
        for (float x : v)
          if (!std::isfinite(x))
            runtime_error("tensor " + echoed(name, 80) + " holds NaN or infinite values", r->path(), "export a healthy checkpoint");
        return v;
      }
    usage_error("the weights lack tensor " + echoed(name, 80), readers_.front()->path(),
                "the config.json does not match the weights (tie_word_embeddings? layers?)");
  }

 private:
  std::vector<std::unique_ptr<SafetensorsReader>> readers_;
};

void check_model_dir(const std::string& dir) {
  if (!fs::is_directory(dir)) usage_error("model directory not found", dir, "point at an HF model folder");
  for (const char* f : {"config.json", "tokenizer.json"})
    if (!fs::is_regular_file(fs::path(dir) / f))
      usage_error(std::string("the model folder has no ") + f, dir, "point at a folder written by nativelm train");
}

std::string architecture_of(const ModelConfig& c, const std::string& where) {
  if (c.model_type == "llama" || c.model_type == "mistral" || c.model_type == "smollm") return "llama";
  if (c.model_type == "qwen2") {
    if (!c.rope_scaling.type.empty())
      usage_error("llama.cpp's qwen2 architecture has no " + c.rope_scaling.type + " RoPE scaling", where,
                  "export a qwen2 model without rope_scaling, or use model_type llama");
    return "qwen2";
  }
  usage_error("model_type " + echoed(c.model_type, 80) + " has no llama.cpp architecture here", where,
              "export llama, mistral, smollm or qwen2 models");
}

// general.* and the architecture's hyperparameters, as convert_hf_to_gguf.py writes them.
void set_architecture(gguf::Writer& w, const ModelConfig& c, const std::string& arch, const std::string& name,
                      GgufOutType type) {
  w.set_string("general.architecture", arch);
  w.set_string("general.type", "model");
  w.set_string("general.name", name);
  w.set_u32("general.file_type", static_cast<uint32_t>(file_type(type)));
  w.set_u32("general.quantization_version", gguf::kQuantizationVersion);
  w.set_u32(arch + ".block_count", static_cast<uint32_t>(c.num_hidden_layers));
  w.set_u32(arch + ".context_length", static_cast<uint32_t>(c.max_position_embeddings));
  w.set_u32(arch + ".embedding_length", static_cast<uint32_t>(c.hidden_size));
  w.set_u32(arch + ".feed_forward_length", static_cast<uint32_t>(c.intermediate_size));
  w.set_u32(arch + ".attention.head_count", static_cast<uint32_t>(c.num_attention_heads));
  w.set_u32(arch + ".attention.head_count_kv", static_cast<uint32_t>(c.num_key_value_heads));
  w.set_f32(arch + ".attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
  w.set_f32(arch + ".rope.freq_base", static_cast<float>(c.rope_theta));
  w.set_u32(arch + ".rope.dimension_count", static_cast<uint32_t>(c.hs()));
  if (c.head_dim > 0) {
    w.set_u32(arch + ".attention.key_length", static_cast<uint32_t>(c.hs()));
    w.set_u32(arch + ".attention.value_length", static_cast<uint32_t>(c.hs()));
  }
  w.set_u32(arch + ".vocab_size", static_cast<uint32_t>(c.vocab_size));
}

// The tokenizer keys (see gguf_vocab.h) and the chat template when the folder has one.
void set_tokenizer(gguf::Writer& w, const gguf::Vocab& vocab, const std::string* chat_template) {
  w.set_string("tokenizer.ggml.model", vocab.model);
  if (!vocab.pre.empty()) w.set_string("tokenizer.ggml.pre", vocab.pre);
  w.set_strings("tokenizer.ggml.tokens", vocab.tokens);
  if (!vocab.scores.empty()) w.set_f32s("tokenizer.ggml.scores", vocab.scores);
  w.set_i32s("tokenizer.ggml.token_type", vocab.types);
  if (vocab.model == "gpt2") w.set_strings("tokenizer.ggml.merges", vocab.merges);
  if (vocab.bos >= 0) w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(vocab.bos));
  if (vocab.eos >= 0) w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(vocab.eos));
  if (vocab.unk >= 0) w.set_u32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(vocab.unk));
  w.set_bool("tokenizer.ggml.add_bos_token", vocab.add_bos);
  w.set_bool("tokenizer.ggml.add_eos_token", vocab.add_eos);
  if (vocab.model == "llama") w.set_bool("tokenizer.ggml.add_space_prefix", vocab.add_space_prefix);
  if (chat_template) w.set_string("tokenizer.chat_template", *chat_template);
}

}  // namespace

ExportGgufResult export_gguf(const std::string& dir, const ExportGgufOptions& o) {
  if (o.output.empty()) usage_error("no output file", "export gguf", "name the .gguf file with -o");
  if (fs::is_directory(o.output)) usage_error("the output is a directory", o.output, "name the .gguf file to write");
  check_model_dir(dir);
  const std::string config_path = (fs::path(dir) / "config.json").string();
  const ModelConfig c = load_hf_config(dir);
  ExportGgufResult res;
  res.path = o.output;
  res.architecture = architecture_of(c, config_path);
  const std::string& arch = res.architecture;

  const std::string tok_path = (fs::path(dir) / "tokenizer.json").string();
  tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(tok_path);
  gguf::Vocab vocab = gguf::gguf_vocab(tok, c.vocab_size, c.bos_token_id, c.eos_token_id, tok_path);
  res.pre_tokenizer = vocab.pre.empty() ? "(" + vocab.model + " model)" : vocab.pre;
  res.notes = vocab.warnings;
  data::chat_template::ModelChatTemplate tpl = data::chat_template::load_model_chat_template(dir);
  const bool has_template = tpl.origin.ends_with(".json") || tpl.origin.ends_with(".jinja");

  std::string name = o.name.empty() ? fs::path(dir).lexically_normal().filename().string() : o.name;
  if (name.empty() || name == ".") name = fs::absolute(dir).lexically_normal().parent_path().filename().string();
  gguf::Writer w;
  set_architecture(w, c, arch, name, o.type);
  set_tokenizer(w, vocab, has_template ? &tpl.source : nullptr);

  auto weights = std::make_shared<Weights>(dir);
  std::vector<TensorSource> plan = gguf_tensor_plan(c, arch == "llama");
  const std::vector<TensorType> types = gguf_tensor_types(plan, o.type, c.num_hidden_layers, res.notes);
  for (size_t i = 0; i < plan.size(); ++i) {
    TensorSource& s = plan[i];
    const TensorType type = types[i];
    const int64_t cols = s.shape.back();
    ++res.tensor_types[std::string(gguf::tensor_type_name(type))];
    std::vector<int64_t> dims(s.shape.rbegin(), s.shape.rend());  // ggml: fastest-moving first
    const std::string name_of = s.name;  // s moves into the producer below
    w.add_tensor(name_of, type, dims, [weights, s = std::move(s), type, cols](std::string& out) {
      std::vector<float> v = s.hf_name.empty() ? s.values : weights->load(s.hf_name, s.shape);
      if (s.rope_heads > 0) v = permute_rope_rows(v, s.rope_heads, s.shape.size() == 2 ? cols : 1);
      for (size_t r = 0; r < v.size(); r += static_cast<size_t>(cols))
        gguf::encode_row(v.data() + r, cols, type, out);
    });
  }
  for (auto& n : res.notes) log::warn("export gguf: " + n);
  w.write(o.output);
  res.bytes = fs::file_size(o.output);
  return res;
}

}  // namespace nlm::model
