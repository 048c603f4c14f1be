// LoRA on the model: adapters start as a no-op, their gradients match finite differences (and
// frozen weights get none), dropout is deterministic under recomputation and off outside
// training, a merged model computes what the unmerged one does (training forward and KV-cache
// decoding), and a PEFT adapter folder holds PEFT's names and config and loads back bit for bit.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <random>
#include <set>

#include "core/error.h"
#include "model/hf_checkpoint.h"
#include "model/peft_adapter.h"
#include "model/safetensors.h"
#include "model_helpers.h"
#include "tensor/cpu/cpu_backend.h"
#include "test_util.h"
#include "train/adamw.h"

namespace nlm::testing {
namespace {

using tensor::DType;

std::vector<double> values(const model::Llama& m, const model::Param& p) {
  std::vector<double> v(static_cast<size_t>(p.value.numel()));
  m.backend().download(p.value, v.data(), DType::F64);
  return v;
}

// Gives every adapter's B random values, so the adapters change the model's output.
void randomize_adapters(model::Llama& m, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0.0, 0.3);
  for (auto& p : m.params()) {
    if (!p.adapter) continue;
    std::vector<double> v = values(m, p);
    for (double& x : v) x = n(rng);
    m.backend().upload(p.value, v.data(), DType::F64);
  }
}

model::LoraConfig lora(int rank, std::vector<std::string> targets = model::lora_target_names()) {
  model::LoraConfig c;
  c.rank = rank;
  c.alpha = 2.0 * rank;
  c.targets = std::move(targets);
  return c;
}

TEST(Lora, AdaptersStartAsANoOpAndFreezeTheBase) {
  auto& be = tensor::cpu_backend();
  model::Llama m(tiny_config(false), be);
  m.init_random(3);
  model::Batch b = random_batch(2, 6, 13, 4, false);
  const double before = m.forward(b);
  m.add_lora(lora(2), 9);
  EXPECT_EQ(m.forward(b), before);  // B = 0
  int adapters = 0;
  for (const auto& p : m.params()) {
    if (p.adapter) {
      ++adapters;
      EXPECT_TRUE(p.trainable) << p.name;
      EXPECT_NE(p.name.find(".lora_"), std::string::npos);
    } else {
      EXPECT_FALSE(p.trainable) << p.name;
      if (!p.is_norm_or_bias) {
        EXPECT_FALSE(p.grad.defined()) << p.name << " keeps a gradient buffer";
      }
    }
  }
  EXPECT_EQ(adapters, 2 * 7 * 2);  // A and B × 7 projections × 2 layers
  ASSERT_NE(m.find("model.layers.1.mlp.down_proj.lora_A.weight"), nullptr);
  EXPECT_EQ(m.find("model.layers.1.mlp.down_proj.lora_A.weight")->value.shape(), (tensor::Shape{2, 12}));
  EXPECT_EQ(m.find("model.layers.1.mlp.down_proj.lora_B.weight")->value.shape(), (tensor::Shape{8, 2}));
  // PEFT's init: A uniform within ±1/sqrt(in), not all zero.
  auto a = values(m, *m.find("model.layers.0.self_attn.q_proj.lora_A.weight"));
  double amax = 0;
  for (double x : a) amax = std::max(amax, std::abs(x));
  EXPECT_GT(amax, 0.05);
  EXPECT_LE(amax, 1 / std::sqrt(8.0));
  EXPECT_THROW(m.add_lora(lora(2), 9), Error);  // twice
}

TEST(Lora, BadConfigsAreUsageErrors) {
  model::Llama m(tiny_config(false), tensor::cpu_backend());
  EXPECT_THROW(m.add_lora(lora(2, {"q_proj", "wq"}), 1), Error);
  EXPECT_THROW(m.add_lora(lora(2, {"q_proj", "q_proj"}), 1), Error);
  EXPECT_THROW(m.add_lora(lora(2, {}), 1), Error);
  model::LoraConfig c = lora(2);
  c.dropout = 1.0;
  EXPECT_THROW(m.add_lora(c, 1), Error);
  m.add_lora(lora(0), 1);  // rank 0 is "no LoRA"
  EXPECT_FALSE(m.lora().enabled());
}

// Every trainable element against central differences, in fp64; frozen weights stay without
// gradients. Tied and untied, with and without a fully trained head, with document masking.
void check_lora_gradients(bool tied, bool train_head, std::vector<std::string> targets, bool recompute) {
  auto& cpu = static_cast<tensor::CpuBackend&>(tensor::cpu_backend());
  const int threads = cpu.threads();
  cpu.set_threads(1);
  model::Llama m(tiny_config(tied), cpu, {DType::F64, recompute});
  m.init_random(5);
  model::LoraConfig c = lora(2, std::move(targets));
  c.train_lm_head = train_head;
  m.add_lora(c, 7);
  randomize_adapters(m, 8);  // B = 0 would make every dA zero
  model::Batch batch = random_batch(2, 5, 13, 6, true);
  m.zero_grad();
  m.forward(batch);
  m.backward();
  EXPECT_GT(check_param_gradients(m, batch, [](const model::Param& p) { return p.trainable; }), 100);
  cpu.set_threads(threads);
}

TEST(LoraGrad, AllLinearUntied) { check_lora_gradients(false, false, model::lora_target_names(), false); }
TEST(LoraGrad, AttentionOnlyTiedWithTrainedHead) { check_lora_gradients(true, true, {"q_proj", "v_proj"}, false); }
TEST(LoraGrad, MlpUntiedWithTrainedHeadRecomputed) {
  check_lora_gradients(false, true, {"gate_proj", "up_proj", "down_proj", "o_proj"}, true);
}

std::vector<double> adapter_grads(model::Llama& m) {
  std::vector<double> out;
  for (auto& p : m.params()) {
    if (!p.adapter) continue;
    std::vector<double> g(static_cast<size_t>(p.grad.numel()));
    m.backend().download(p.grad, g.data(), DType::F64);
    out.insert(out.end(), g.begin(), g.end());
  }
  return out;
}

TEST(Lora, DropoutOnlyInTrainingAndTheSameMaskWhenRecomputed) {
  auto& be = tensor::cpu_backend();
  model::Batch b = random_batch(2, 6, 13, 4, false);
  model::LoraConfig c = lora(3);
  c.dropout = 0.3;
  std::vector<double> grads[2];
  double losses[2] = {};
  for (int recompute = 0; recompute < 2; ++recompute) {
    model::Llama m(tiny_config(false), be, {DType::F64, recompute == 1});
    m.init_random(3);
    m.add_lora(c, 11);
    randomize_adapters(m, 12);
    const double eval1 = m.forward(b), eval2 = m.forward(b);
    EXPECT_EQ(eval1, eval2);  // training mode off: no dropout
    m.set_training(true);
    const double t1 = m.forward(b);
    EXPECT_NE(t1, eval1);     // dropout changed the adapters' input
    m.zero_grad();
    losses[recompute] = m.forward(b);
    m.backward();
    grads[recompute] = adapter_grads(m);
    m.set_training(false);
    EXPECT_EQ(m.forward(b), eval1);
  }
  // The same forward count and seed: the same masks, with or without recomputation.
  EXPECT_EQ(losses[0], losses[1]);
  ASSERT_EQ(grads[0].size(), grads[1].size());
  for (size_t i = 0; i < grads[0].size(); ++i) ASSERT_NEAR(grads[0][i], grads[1][i], 1e-12) << i;
}

TEST(Lora, TrainingMovesOnlyAdaptersAndOptimizerStateIsAdapterSized) {
  auto& be = tensor::cpu_backend();
  model::Llama m(tiny_config(false), be);
  m.init_random(3);
  m.add_lora(lora(2, {"q_proj", "v_proj"}), 4);
  std::vector<std::vector<double>> before;
  for (const auto& p : m.params()) before.push_back(values(m, p));
  train::AdamW opt(m, {});
  model::Batch b = random_batch(2, 6, 13, 4, false);
  for (int s = 0; s < 3; ++s) {
    m.zero_grad();
    m.forward(b);
    m.backward();
    opt.step(1e-2);
  }
  for (size_t i = 0; i < m.params().size(); ++i) {
    const auto& p = m.params()[i];
    if (p.name.ends_with("lora_A.weight") || p.name.ends_with("lora_B.weight"))
      EXPECT_NE(values(m, p), before[i]) << p.name;
    else
      EXPECT_EQ(values(m, p), before[i]) << p.name << " is frozen but moved";
  }
  TempDir dir;
  opt.save(dir.file("opt.safetensors"));
  model::SafetensorsReader r(dir.file("opt.safetensors"));
  EXPECT_EQ(r.entries().size(), 2u * 2 * 2 * 2);  // m and v × A,B × q,v × 2 layers
}

TEST(Lora, MergedModelComputesWhatTheAdaptersDo) {
  auto& be = tensor::cpu_backend();
  for (bool tied : {false, true}) {
    model::Llama m(tiny_config(tied), be);
    m.init_random(21);
    m.add_lora(lora(4), 22);
    randomize_adapters(m, 23);
    model::Batch b = random_batch(2, 7, 13, 24, true);
    m.forward(b);
    const std::vector<float> unmerged = m.logits();
    // Decoding through the KV cache with the adapters unmerged.
    m.reset_cache(16);
    const std::vector<float> dec_unmerged = m.decode({1, 5, 7, 2});
    m.merge_lora();
    EXPECT_FALSE(m.lora().enabled());
    for (const auto& p : m.params()) {
      EXPECT_FALSE(p.adapter) << p.name;
      EXPECT_TRUE(p.trainable && p.grad.defined()) << p.name;
    }
    m.forward(b);
    const std::vector<float> merged = m.logits();
    ASSERT_EQ(merged.size(), unmerged.size());
    double worst = 0;
    for (size_t i = 0; i < merged.size(); ++i) worst = std::max(worst, double(std::abs(merged[i] - unmerged[i])));
    EXPECT_LT(worst, 2e-5) << "tied " << tied;
    EXPECT_GT(std::abs(merged[0] - merged[1]), 0);  // real logits, not a constant
    m.reset_cache(16);
    const std::vector<float> dec_merged = m.decode({1, 5, 7, 2});
    for (size_t i = 0; i < dec_merged.size(); ++i) EXPECT_NEAR(dec_merged[i], dec_unmerged[i], 2e-5);
  }
}

TEST(PeftAdapter, SavesPeftNamesAndConfigAndLoadsBackExactly) {
  auto& be = tensor::cpu_backend();
  TempDir dir;
  model::Llama m(tiny_config(false), be);
  m.init_random(31);
  model::LoraConfig c = lora(3, {"q_proj", "v_proj", "down_proj"});
  c.alpha = 12;
  c.dropout = 0.05;
  c.train_lm_head = true;
  m.add_lora(c, 32);
  randomize_adapters(m, 33);
  model::save_peft_adapter(dir.file("adapter"), m, "/models/base");

  auto cfg = nlohmann::json::parse(read_text(dir.file("adapter/adapter_config.json")));
  EXPECT_EQ(cfg["peft_type"], "LORA");
  EXPECT_EQ(cfg["task_type"], "CAUSAL_LM");
  EXPECT_EQ(cfg["r"], 3);
  EXPECT_TRUE(cfg["lora_alpha"].is_number_integer());
  EXPECT_EQ(cfg["lora_alpha"], 12);
  EXPECT_DOUBLE_EQ(cfg["lora_dropout"].get<double>(), 0.05);
  EXPECT_EQ(cfg["target_modules"], nlohmann::json({"q_proj", "v_proj", "down_proj"}));
  EXPECT_EQ(cfg["modules_to_save"], nlohmann::json({"lm_head"}));
  EXPECT_EQ(cfg["base_model_name_or_path"], "/models/base");
  EXPECT_EQ(cfg["bias"], "none");

  model::SafetensorsReader r(dir.file("adapter/adapter_model.safetensors"));
  std::set<std::string> names;
  for (const auto& e : r.entries()) names.insert(e.name);
  EXPECT_EQ(names.size(), 2u * 3 * 2 + 1);
  EXPECT_TRUE(names.count("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
  EXPECT_TRUE(names.count("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"));
  EXPECT_TRUE(names.count("base_model.model.lm_head.weight"));
  EXPECT_FALSE(names.count("base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight"));
  EXPECT_EQ(r.find("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight")->shape, (tensor::Shape{3, 8}));

  // A fresh base model with the adapter loaded: the same adapter values and outputs.
  model::Llama fresh(tiny_config(false), be);
  fresh.init_random(31);
  model::load_peft_adapter(dir.file("adapter"), fresh);
  EXPECT_EQ(fresh.lora().rank, 3);
  EXPECT_DOUBLE_EQ(fresh.lora().alpha, 12);
  EXPECT_TRUE(fresh.lora().train_lm_head);
  for (const auto& p : m.params())
    if (p.adapter || p.trainable) {
      EXPECT_EQ(values(fresh, *fresh.find(p.name)), values(m, p)) << p.name;
    }
  model::Batch b = random_batch(1, 6, 13, 34, false);
  EXPECT_EQ(fresh.forward(b), m.forward(b));
  // The model folder never holds adapter tensors.
  model::save_hf_model(dir.file("model"), m);
  model::SafetensorsReader full(dir.file("model/model.safetensors"));
  for (const auto& e : full.entries()) EXPECT_EQ(e.name.find("lora_"), std::string::npos) << e.name;
}

TEST(PeftAdapter, ReadsPeftConfigsAndRefusesWhatItCannotMerge) {
  TempDir dir;
  auto config = [&](const std::string& json) {
    write_text(dir.file("a/adapter_config.json"), json);
    return dir.file("a");
  };
  // What PEFT writes for all-linear with a float alpha.
  model::LoraConfig c = model::read_peft_config(
      config(R"({"peft_type":"LORA","r":16,"lora_alpha":32.0,"lora_dropout":0.1,"target_modules":"all-linear",)"
             R"("modules_to_save":["embed_tokens","lm_head"],"bias":"none","use_dora":false,"rank_pattern":{}})"));
  EXPECT_EQ(c.rank, 16);
  EXPECT_DOUBLE_EQ(c.scale(), 2.0);
  EXPECT_EQ(c.targets.size(), 7u);
  EXPECT_TRUE(c.train_embeddings && c.train_lm_head);
  auto refused = [&](const std::string& json, const std::string& key) {
    try {
      model::read_peft_config(config(json));
      ADD_FAILURE() << "accepted " << json;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  refused(R"({"peft_type":"LORA","r":8,"target_modules":["q_proj"],"use_dora":true})", "use_dora");
  refused(R"({"peft_type":"LORA","r":8,"target_modules":["q_proj"],"use_rslora":true})", "use_rslora");
  refused(R"({"peft_type":"LORA","r":8,"target_modules":["q_proj"],"rank_pattern":{"q_proj":4}})", "rank_pattern");
  refused(R"({"peft_type":"LORA","r":8,"target_modules":["q_proj"],"layers_to_transform":[0]})", "layers_to_transform");
  refused(R"({"peft_type":"LORA","r":8,"target_modules":".*proj"})", "target_modules");
  refused(R"({"peft_type":"LORA","r":8,"target_modules":["query"]})", "query");
  refused(R"({"peft_type":"IA3","r":8,"target_modules":["q_proj"]})", "peft_type");
  refused(R"({"peft_type":"LORA","r":"8","target_modules":["q_proj"]})", "r must be");
  refused(R"({"peft_type":"LORA","r":8,"target_modules":["q_proj"],"modules_to_save":["score"]})", "modules_to_save");
  refused("{not json", "not valid JSON");
  EXPECT_THROW(model::read_peft_config(dir.file("missing")), Error);

  // An adapter for another model shape names the tensor and the shapes.
  auto& be = tensor::cpu_backend();
  model::Llama m(tiny_config(false), be);
  m.add_lora(lora(2, {"q_proj"}), 1);
  model::save_peft_adapter(dir.file("b"), m, "");
  auto other = tiny_config(false);
  other.hidden_size = 16;
  model::Llama wrong(other, be);
  try {
    model::load_peft_adapter(dir.file("b"), wrong);
    ADD_FAILURE() << "loaded into another shape";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q_proj.lora_A.weight"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nlm::testing
