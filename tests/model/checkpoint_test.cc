// safetensors spec conformance, HF directory round trips (F32, BF16, sharded), vocabulary
// extension initialisation, and clear errors for corrupt or mismatched checkpoints.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "model/hf_checkpoint.h"
#include "model/safetensors.h"
#include "model_helpers.h"
#include "test_util.h"

namespace nlm::testing {
namespace {

using tensor::DType;

std::vector<float> values(const model::Param& p) {
  std::vector<float> v(p.value.numel());
  p.value.backend().download(p.value, v.data(), DType::F32);
  return v;
}

TEST(Safetensors, HeaderIsSpecExact) {
  float data[3] = {1, 2, 3};
  std::string h = model::safetensors_header({{"a", DType::F32, {3}, data}}, {});
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(h[i]);
  EXPECT_EQ(n, h.size() - 8);
  EXPECT_EQ(n % 8, 0u);
  std::string json = h.substr(8);
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.substr(0, json.find_last_not_of(' ') + 1),
            R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})");
  EXPECT_EQ(json.find_last_not_of(' ') + 1 + (8 - (json.find_last_not_of(' ') + 1) % 8) % 8, json.size());
}

TEST(Safetensors, WriteReadRoundTripAndCorruption) {
  TempDir dir;
  std::vector<uint16_t> half = {tensor::f32_to_bf16(1.5f), tensor::f32_to_bf16(-2.0f)};
  double d[2] = {3.25, 4.5};
  model::write_safetensors(dir.file("t.safetensors"),
                           {{"x", DType::BF16, {2}, half.data()}, {"y", DType::F64, {1, 2}, d}},
                           {{"format", "pt"}});
  model::SafetensorsReader r(dir.file("t.safetensors"));
  ASSERT_EQ(r.entries().size(), 2u);
  EXPECT_EQ(r.metadata().at("format"), "pt");
  const auto* y = r.find("y");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->shape, (tensor::Shape{1, 2}));
  double y1 = 0;  // y starts 4 bytes into the data: safetensors does not align tensors
  std::memcpy(&y1, r.data(*y) + sizeof(double), sizeof(double));
  EXPECT_EQ(y1, 4.5);
  // Converting such an unaligned tensor reads it bytewise (UBSan flagged the typed reads that
  // tensor::convert did before; scripts/sanitize.sh runs this under it).
  std::vector<float> widened(2);
  tensor::convert(r.data(*y), DType::F64, widened.data(), DType::F32, 2);
  EXPECT_EQ(widened, (std::vector<float>{3.25f, 4.5f}));

  std::string bytes = read_text(dir.file("t.safetensors"));
  write_text(dir.file("trunc.safetensors"), bytes.substr(0, bytes.size() - 3));
  EXPECT_THROW(model::SafetensorsReader(dir.file("trunc.safetensors")), Error);
  write_text(dir.file("short.safetensors"), "abc");
  EXPECT_THROW(model::SafetensorsReader(dir.file("short.safetensors")), Error);
  std::string badjson = bytes;
  badjson[8] = '[';
  write_text(dir.file("bad.safetensors"), badjson);
  try {
    model::SafetensorsReader bad(dir.file("bad.safetensors"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt safetensors"), std::string::npos);
  }
}

TEST(HfCheckpoint, SaveLoadRoundTripF32IsExactAndShardedWorks) {
  TempDir dir;
  auto& be = tensor::backend_for("cpu");
  auto cfg = tiny_config(false);
  model::Llama a(cfg, be);
  a.init_random(3);
  model::save_hf_model(dir.file("m"), a);
  EXPECT_TRUE(std::filesystem::exists(dir.file("m/model.safetensors")));
  auto b = model::load_hf_model(dir.file("m"), be);
  for (size_t i = 0; i < a.params().size(); ++i)
    EXPECT_EQ(values(a.params()[i]), values(b->params()[i])) << a.params()[i].name;

  model::save_hf_model(dir.file("m"), a, {DType::F32, 2000});
  EXPECT_FALSE(std::filesystem::exists(dir.file("m/model.safetensors")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("m/model.safetensors.index.json")));
  EXPECT_GT(model::hf_weight_files(dir.file("m")).size(), 1u);
  auto c = model::load_hf_model(dir.file("m"), be);
  for (size_t i = 0; i < a.params().size(); ++i)
    EXPECT_EQ(values(a.params()[i]), values(c->params()[i]));
}

TEST(HfCheckpoint, Bf16AndF16StorageRoundToNearest) {
  TempDir dir;
  auto& be = tensor::backend_for("cpu");
  model::Llama a(tiny_config(true), be);
  a.init_random(4);
  for (DType dt : {DType::BF16, DType::F16}) {
    model::save_hf_model(dir.file("m"), a, {dt, 0});
    auto b = model::load_hf_model(dir.file("m"), be);
    EXPECT_EQ(model::load_hf_config(dir.file("m")).torch_dtype, dt == DType::BF16 ? "bfloat16" : "float16");
    for (size_t i = 0; i < a.params().size(); ++i) {
      auto va = values(a.params()[i]), vb = values(b->params()[i]);
      for (size_t j = 0; j < va.size(); ++j) EXPECT_NEAR(vb[j], va[j], std::abs(va[j]) * 8e-3 + 1e-6);
    }
  }
}

TEST(HfCheckpoint, TiedModelStoresNoLmHead) {
  TempDir dir;
  auto& be = tensor::backend_for("cpu");
  model::Llama a(tiny_config(true), be);
  a.init_random(5);
  model::save_hf_model(dir.file("m"), a);
  model::SafetensorsReader r(dir.file("m/model.safetensors"));
  EXPECT_EQ(r.find("lm_head.weight"), nullptr);
  EXPECT_NE(r.find("model.layers.1.mlp.down_proj.weight"), nullptr);
}

TEST(HfCheckpoint, MismatchesGiveClearErrors) {
  TempDir dir;
  auto& be = tensor::backend_for("cpu");
  model::Llama a(tiny_config(true), be);
  a.init_random(6);
  model::save_hf_model(dir.file("m"), a);
  // A config that claims untied embeddings: lm_head.weight is missing.
  auto untied = tiny_config(false);
  model::Llama b(untied, be);
  try {
    model::load_hf_weights(dir.file("m"), b);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lm_head.weight"), std::string::npos);
  }
  // Wrong hidden size: shape mismatch names the tensor and both shapes.
  auto wide = tiny_config(true);
  wide.intermediate_size = 16;
  model::Llama c(wide, be);
  try {
    model::load_hf_weights(dir.file("m"), c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gate_proj"), std::string::npos);
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
  }
  // Larger vocabulary without an extension map.
  auto big = tiny_config(true);
  big.vocab_size = 15;
  model::Llama d(big, be);
  EXPECT_THROW(model::load_hf_weights(dir.file("m"), d), Error);
  // Bad config.json.
  write_text(dir.file("bad/config.json"), R"({"model_type":"llama","vocab_size":10})");
  EXPECT_THROW(model::load_hf_config(dir.file("bad")), Error);
  write_text(dir.file("bad/config.json"),
             R"({"vocab_size":10,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":3,"num_key_value_heads":2})");
  EXPECT_THROW(model::load_hf_config(dir.file("bad")), Error);
}

TEST(HfCheckpoint, VocabularyExtensionUsesMeanOfPieces) {
  TempDir dir;
  auto& be = tensor::backend_for("cpu");
  model::Llama a(tiny_config(false), be);
  a.init_random(7);
  model::save_hf_model(dir.file("m"), a);
  write_text(dir.file("ext.json"), R"({"13": [2, 5], "14": [7]})");
  auto ext = model::read_vocab_extension(dir.file("ext.json"));
  auto b = model::load_hf_model(dir.file("m"), be, {}, &ext);
  EXPECT_EQ(b->config().vocab_size, 15);
  for (const char* name : {"model.embed_tokens.weight", "lm_head.weight"}) {
    auto old = values(*a.find(name)), now = values(*b->find(name));
    const int C = 8;
    for (int c = 0; c < C; ++c) {
      EXPECT_FLOAT_EQ(now[13 * C + c], (old[2 * C + c] + old[5 * C + c]) / 2);
      EXPECT_FLOAT_EQ(now[14 * C + c], old[7 * C + c]);
      EXPECT_EQ(now[4 * C + c], old[4 * C + c]);
    }
  }
}

TEST(HfCheckpoint, ConfigJsonRoundTripKeepsLlama3Scaling) {
  auto c = tiny_config(false);
  c.rope_scaling.type = "llama3";
  c.rope_scaling.factor = 8;
  c.model_type = "llama";
  auto back = model::parse_hf_config(model::to_hf_config_json(c), "x");
  EXPECT_EQ(back.rope_scaling.type, "llama3");
  EXPECT_EQ(back.rope_scaling.factor, 8);
  EXPECT_EQ(back.head_dim, 4);
  EXPECT_EQ(back.num_key_value_heads, 2);
  EXPECT_EQ(back.parameter_count(), c.parameter_count());
  // A qwen2 model without q/k/v biases stays without them (the key used to be left out for qwen2,
  // and reading forces biases on unless the file says otherwise).
  c.model_type = "qwen2";
  c.rope_scaling = {};
  for (bool bias : {false, true}) {
    c.attention_bias = bias;
    EXPECT_EQ(model::parse_hf_config(model::to_hf_config_json(c), "x").attention_bias, bias);
  }
}

// config.json is read through the model's option declaration (the keys a train config's model.*
// shares): each value through its field's parser and bounds, errors naming the key and the file.
TEST(HfCheckpoint, ConfigJsonKeysGoThroughTheModelDeclaration) {
  const std::string base =
      R"({"model_type": "qwen2", "vocab_size": 64, "hidden_size": 16, "intermediate_size": 32,
          "num_hidden_layers": 1, "num_attention_heads": 4, "rms_norm_eps": 1e-06, "rope_theta": 500000,
          "bos_token_id": null, "eos_token_id": [7, 8])";
  auto c = model::parse_hf_config(base + "}", "config.json");
  EXPECT_TRUE(c.attention_bias);            // Qwen2's default
  EXPECT_EQ(c.num_key_value_heads, 4);      // follows the query heads when absent
  EXPECT_EQ(c.eos_token_id, 7);             // the first of a list
  EXPECT_EQ(c.bos_token_id, -1);            // null = not set
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000);
  EXPECT_FALSE(model::parse_hf_config(base + R"(, "attention_bias": false})", "config.json").attention_bias);
  auto error_of = [&](const std::string& extra) {
    try {
      model::parse_hf_config(base + extra + "}", "m/config.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of(R"(, "hidden_size": 16.5)").find("'hidden_size' must be an integer, got '16.5' (m/config.json)"),
            std::string::npos)
      << error_of(R"(, "hidden_size": 16.5)");
  EXPECT_NE(error_of(R"(, "num_key_value_heads": 3)").find("'num_key_value_heads' (3) must divide num_attention_heads (4)"),
            std::string::npos);
  EXPECT_NE(error_of(R"(, "model_type": "gpt2")").find("'model_type' must be llama, mistral or qwen2, got 'gpt2'"),
            std::string::npos);
  EXPECT_NE(error_of(R"(, "vocab_size": 0)").find("'vocab_size' must be at least 1, got 0"), std::string::npos);
  // Found by fuzz/fuzz_hf_config: a wrongly typed rope_scaling member escaped as a JSON library
  // exception instead of a usage error (fuzz/findings/fuzz_hf_config/hf_config_rope_factor_string.json).
  EXPECT_NE(error_of(R"(, "rope_scaling": {"rope_type": "llama3", "factor": "8"})").find("'rope_scaling'"),
            std::string::npos);
  EXPECT_NE(error_of(R"(, "rope_scaling": {"rope_type": 3})").find("(m/config.json)"), std::string::npos);
  // Found by fuzz/fuzz_hf_config (fuzz/findings/fuzz_hf_config/hf_config_rope_context_float.json):
  // a float original_max_position_embeddings was converted to int64_t, undefined behaviour when
  // out of range. Members are type-checked first; llama3 factors that would divide by zero or
  // scale backwards are refused.
  EXPECT_NE(error_of(R"(, "rope_scaling": {"rope_type": "llama3", "original_max_position_embeddings": 8.19222e+44})")
                .find("'rope_scaling.original_max_position_embeddings' is not an integer"),
            std::string::npos)
      << error_of(R"(, "rope_scaling": {"rope_type": "llama3", "original_max_position_embeddings": 8.19222e+44})");
  EXPECT_NE(error_of(R"(, "rope_scaling": {"rope_type": "llama3", "original_max_position_embeddings": 99999999999999999999})")
                .find("is not an integer"),
            std::string::npos);
  EXPECT_NE(error_of(R"(, "rope_scaling": {"rope_type": "llama3", "factor": 0})").find("factor must be positive"),
            std::string::npos);
  EXPECT_NE(error_of(R"(, "rope_scaling": {"rope_type": "llama3", "low_freq_factor": 4, "high_freq_factor": 4})")
                .find("high_freq_factor must be above low_freq_factor"),
            std::string::npos);
  EXPECT_NE(error_of(R"(, "rope_scaling": {"rope_type": "llama3", "original_max_position_embeddings": 0})")
                .find("original_max_position_embeddings must be positive"),
            std::string::npos);
  EXPECT_EQ(error_of(R"(, "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})"),
            "no error");
  EXPECT_EQ(error_of(R"(, "rope_scaling": {"type": "default", "rope_type": null})"), "no error");
  // An eos_token_id list's first id goes through the same bounds as a single id.
  EXPECT_NE(error_of(R"(, "eos_token_id": [-5, 2])").find("'eos_token_id' must be at least -1"), std::string::npos);
  EXPECT_NE(error_of(R"(, "eos_token_id": [1.5])").find("'eos_token_id' must be an integer"), std::string::npos);
  // Found by fuzz/fuzz_hf_config (fuzz/findings/fuzz_hf_config/hf_config_size_product_overflow.json):
  // a huge intermediate_size overflowed the parameter count (signed overflow, UB). Each size has a
  // cap far above released models, and the total is bounded too.
  EXPECT_NE(error_of(R"(, "intermediate_size": 8888888888888888)").find("'intermediate_size' (8888888888888888) is above the limit of 4194304"),
            std::string::npos)
      << error_of(R"(, "intermediate_size": 8888888888888888)");
  EXPECT_NE(error_of(R"(, "vocab_size": 99999999)").find("'vocab_size'"), std::string::npos);
  EXPECT_NE(error_of(R"(, "hidden_size": 1048576, "intermediate_size": 4194304, "num_hidden_layers": 16384,
                         "num_attention_heads": 16384, "head_dim": 65536)")
                .find("more than 2^50 parameters"),
            std::string::npos);
  // A real large shape (Llama 3.1 405B) stays well inside the caps.
  EXPECT_EQ(error_of(R"(, "vocab_size": 128256, "hidden_size": 16384, "intermediate_size": 53248,
                         "num_hidden_layers": 126, "num_attention_heads": 128, "num_key_value_heads": 8,
                         "max_position_embeddings": 131072)"),
            "no error");
}

}  // namespace
}  // namespace nlm::testing
