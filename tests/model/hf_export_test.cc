// `nativelm export hf`: a model folder re-exported in bfloat16 and sharded loads back with the
// same logits (to bf16 rounding) and carries its tokenizer, generation config and chat template;
// --adapter merges a LoRA adapter; --chat-template replaces the template; bad input is named.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "model/hf_checkpoint.h"
#include "model/hf_export.h"
#include "model/peft_adapter.h"
#include "model/safetensors.h"
#include "model_helpers.h"
#include "tensor/backend.h"
#include "test_util.h"

namespace nlm::testing {
namespace {

namespace fs = std::filesystem;

std::vector<float> logits_of(model::Llama& m) {
  model::Batch b = random_batch(1, 7, 13, 3, false);
  m.forward(b);
  return m.logits();
}

TEST(ExportHf, BfloatShardsTokenizerAndTemplate) {
  TempDir dir;
  auto& be = tensor::backend_for("cpu");
  model::Llama m(tiny_config(false), be);
  m.init_random(4);
  model::save_hf_model(dir.file("m"), m);
  write_text(dir.file("m/tokenizer.json"), "{\"version\": \"1.0\"}");
  write_text(dir.file("m/tokenizer_config.json"), "{\"chat_template\": \"{{ messages }}\", \"eos_token\": \"</s>\"}");
  auto r = run_nativelm("export hf " + dir.file("m") + " -o " + dir.file("out") + " --max-shard-size 2K", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("shards"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir.file("out/model.safetensors.index.json")));
  auto files = model::hf_weight_files(dir.file("out"));
  EXPECT_GT(files.size(), 1u);
  for (const auto& f : files) {
    model::SafetensorsReader sr(f);
    for (const auto& e : sr.entries()) EXPECT_EQ(e.dtype, tensor::DType::BF16) << e.name;
  }
  for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"})
    EXPECT_TRUE(fs::exists(dir.file("out/") + f)) << f;
  EXPECT_EQ(nlohmann::json::parse(read_text(dir.file("out/config.json")))["torch_dtype"], "bfloat16");
  auto a = logits_of(m);
  auto back = model::load_hf_model(dir.file("out"), be);
  auto b = logits_of(*back);
  double worst = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, double(std::abs(a[i] - b[i])));
    scale = std::max(scale, double(std::abs(a[i])));
  }
  EXPECT_LT(worst, 0.02 * scale);  // bf16 keeps 8 bits of mantissa
  EXPECT_GT(worst, 0.0);           // and it really is bf16

  // A new template replaces the old one; float32 in one file is exact.
  write_text(dir.file("t.jinja"), "{% for m in messages %}{{ m.content }}{% endfor %}");
  auto r2 = run_nativelm("export hf " + dir.file("m") + " -o " + dir.file("out2") +
                             " --dtype float32 --max-shard-size 0 --chat-template " + dir.file("t.jinja"),
                         dir.path());
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(model::hf_weight_files(dir.file("out2")).size(), 1u);
  auto cfg = nlohmann::json::parse(read_text(dir.file("out2/tokenizer_config.json")));
  EXPECT_EQ(cfg["chat_template"], "{% for m in messages %}{{ m.content }}{% endfor %}");
  EXPECT_EQ(cfg["eos_token"], "</s>");
  auto exact = model::load_hf_model(dir.file("out2"), be);
  EXPECT_EQ(logits_of(*exact), a);

  // Bad input is named.
  auto none = run_nativelm("export hf " + dir.file("nothing") + " -o " + dir.file("o3"), dir.path());
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no config.json"), std::string::npos) << none.err;
  auto self = run_nativelm("export hf " + dir.file("m") + " -o " + dir.file("m"), dir.path());
  EXPECT_EQ(self.exit_code, 2);
  EXPECT_NE(self.err.find("own folder"), std::string::npos) << self.err;
  auto no_tmpl = run_nativelm("export hf " + dir.file("m") + " -o " + dir.file("o4") + " --chat-template x.jinja",
                              dir.path());
  EXPECT_EQ(no_tmpl.exit_code, 2);
}

TEST(ExportHf, AdapterIsMergedIn) {
  TempDir dir;
  auto& be = tensor::backend_for("cpu");
  model::Llama base(tiny_config(true), be);
  base.init_random(8);
  model::save_hf_model(dir.file("base"), base);
  model::LoraConfig c;
  c.rank = 2;
  c.alpha = 4;
  c.targets = {"q_proj", "down_proj"};
  base.add_lora(c, 9);
  for (auto& p : base.params())
    if (p.adapter) {
      std::vector<float> v(static_cast<size_t>(p.value.numel()), 0.25f);
      be.upload(p.value, v.data(), tensor::DType::F32);
    }
  model::save_peft_adapter(dir.file("adapter"), base, dir.file("base"));
  auto with = logits_of(base);
  model::ExportHfOptions o;
  o.output = dir.file("out");
  o.dtype = tensor::DType::F32;
  o.adapter = dir.file("adapter");
  auto r = model::export_hf(dir.file("base"), o);
  EXPECT_TRUE(r.merged);
  EXPECT_EQ(r.adapters, 4);  // 2 projections × 2 layers
  auto merged = model::load_hf_model(dir.file("out"), be);
  auto got = logits_of(*merged);
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], with[i], 1e-4) << i;
}

}  // namespace
}  // namespace nlm::testing
