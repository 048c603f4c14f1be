// LoRA runs end to end on the tiny chat model: `sft` with adapters learns the answer pattern while
// the base weights stay as they were, writes a PEFT adapter folder (and with merge a model that
// equals base + adapter), resumes with dropout onto the same loss curve, and the flags reach it
// from the command line; `train` and `dpo` take the same lora.* options.
#include <gtest/gtest.h>

#include <filesystem>

#include "model/hf_checkpoint.h"
#include "model/peft_adapter.h"
#include "model/safetensors.h"
#include "pipeline/pipeline.h"
#include "sft_fixture.h"
#include "train/dpo.h"
#include "train/sft.h"
#include "train/trainer.h"

namespace nlm::testing {
namespace {

namespace fs = std::filesystem;

std::string write_chats(const TempDir& dir, int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    bool irish = i % 3 != 0;
    const auto& lines = irish ? irish_lines() : cantonese_lines();
    text += chat_record(lines[static_cast<size_t>(i) % (lines.size() - 1)], irish ? kIrishAnswer : kCantoneseAnswer) + "\n";
  }
  write_text(dir.file("chat.jsonl"), text);
  return dir.file("chat.jsonl");
}

train::SftTrainOptions lora_options(const TempDir& dir, const std::string& data) {
  train::SftTrainOptions o;
  o.model_dir = dir.file("base");
  o.data = {data};
  o.out_dir = dir.file("run");
  o.encode.max_length = 64;
  o.batch_size = 8;
  o.steps = 60;
  o.schedule.lr = 1e-2;
  o.schedule.min_lr = 1e-3;
  o.schedule.warmup_steps = 5;
  o.eval_fraction = 0;
  o.log_every = 0;
  o.lora.rank = 8;
  o.lora.alpha = 16;
  o.lora.targets = model::lora_target_names();
  return o;
}

std::vector<float> logits_of(model::Llama& m) {
  model::Batch b;
  b.B = 1;
  b.T = 6;
  b.inputs = {1, 5, 9, 14, 30, 7};
  b.targets = {5, 9, 14, 30, 7, 2};
  b.set_default_positions();
  m.forward(b);
  return m.logits();
}

// A random tiny model's tied embeddings (std 0.02) cap its logits near ±1, so no adapter could make
// it confident; a pretrained model's can. Scaling them by 15 gives the base that range.
void widen_embeddings(const std::string& dir) {
  auto& be = tensor::backend_for("cpu");
  auto m = model::load_hf_model(dir, be);
  model::Param* e = m->find("model.embed_tokens.weight");
  be.scale(e->value, 15.0);
  model::save_hf_model(dir, *m);
}

TEST(LoraRun, SftLearnsThroughAdaptersAndWritesAPeftFolder) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"));
  widen_embeddings(dir.file("base"));
  const std::string base_weights = read_text(dir.file("base/model.safetensors"));
  auto o = lora_options(dir, write_chats(dir, 400));
  auto r = train::run_sft(o);
  ASSERT_EQ(r.train.losses.size(), 60u);
  EXPECT_LT(r.train.losses.back(), 0.05 * r.train.losses.front());
  EXPECT_EQ(r.train.model_dir, "");
  EXPECT_EQ(r.train.adapter_dir, dir.file("run/adapter"));
  EXPECT_EQ(train::outputs_text(r.train).find("LoRA adapter (PEFT) in"), 0u);
  EXPECT_FALSE(fs::exists(dir.file("run/model")));
  for (const char* f : {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json"})
    EXPECT_TRUE(fs::exists(dir.file("run/adapter/") + f)) << f;
  // The adapter folder carries the chat template, and the base model was not touched.
  auto cfg = nlohmann::json::parse(read_text(dir.file("run/adapter/tokenizer_config.json")));
  EXPECT_EQ(cfg.value("chat_template", ""), kChatml);
  EXPECT_EQ(read_text(dir.file("base/model.safetensors")), base_weights);
  auto acfg = nlohmann::json::parse(read_text(dir.file("run/adapter/adapter_config.json")));
  EXPECT_EQ(acfg["base_model_name_or_path"], dir.file("base"));
  EXPECT_EQ(acfg["r"], 8);

  // Base + adapter answers in the pattern the data taught (to prompts it trained on: 7 sentences a
  // language are too few for this model to carry the pattern to a new one).
  auto& be = tensor::backend_for("cpu");
  auto m = model::load_hf_model(dir.file("base"), be);
  model::load_peft_adapter(dir.file("run/adapter"), *m);
  auto tok = tokenizer::Tokenizer::load(dir.file("base/tokenizer.json"));
  auto prompt = [](const std::string& user) { return "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n"; };
  EXPECT_EQ(greedy(*m, tok, prompt(irish_lines()[1]), 12), kIrishAnswer);
  EXPECT_EQ(greedy(*m, tok, prompt(cantonese_lines()[2]), 12), kCantoneseAnswer);
}

TEST(LoraRun, MergeWritesAModelEqualToBasePlusAdapter) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  auto o = lora_options(dir, write_chats(dir, 60));
  o.steps = 4;
  o.lora.merge = true;
  o.lora.train_lm_head = true;  // tied: the embeddings train fully as well
  auto r = train::run_sft(o);
  EXPECT_EQ(r.train.model_dir, dir.file("run/model"));
  ASSERT_TRUE(fs::exists(dir.file("run/model/model.safetensors")));
  model::SafetensorsReader adapter(dir.file("run/adapter/adapter_model.safetensors"));
  EXPECT_NE(adapter.find("base_model.model.model.embed_tokens.weight"), nullptr);
  auto& be = tensor::backend_for("cpu");
  auto merged = model::load_hf_model(dir.file("run/model"), be);
  auto unmerged = model::load_hf_model(dir.file("base"), be);
  model::load_peft_adapter(dir.file("run/adapter"), *unmerged);
  auto a = logits_of(*merged), b = logits_of(*unmerged), base = logits_of(*model::load_hf_model(dir.file("base"), be));
  double worst = 0, moved = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, double(std::abs(a[i] - b[i])));
    moved = std::max(moved, double(std::abs(a[i] - base[i])));
  }
  EXPECT_LT(worst, 1e-4);
  EXPECT_GT(moved, 1e-3);  // training changed the model
  // `generate` loads the merged folder.
  auto g = run_nativelm("generate -m " + dir.file("run/model") + " --max-tokens 3 --temperature 0 'Dia duit'", dir.path());
  EXPECT_EQ(g.exit_code, 0) << g.err;
}

TEST(LoraRun, ResumeWithDropoutContinuesTheSameLossCurve) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  auto o = lora_options(dir, write_chats(dir, 60));
  o.steps = 6;
  o.batch_size = 2;
  o.checkpoint_every = 3;
  o.lora.dropout = 0.2;
  o.lora.targets = {"q_proj", "v_proj"};
  auto full = train::run_sft(o);
  // A LoRA checkpoint is a PEFT folder beside the optimizer state, without the base weights.
  const std::string ck = dir.file("run/checkpoints/step-00000003");
  EXPECT_TRUE(model::is_peft_adapter(ck));
  EXPECT_FALSE(fs::exists(ck + "/model.safetensors"));
  o.out_dir = dir.file("run2");
  o.steps = 3;
  train::run_sft(o);
  o.steps = 6;
  o.resume = true;
  auto resumed = train::run_sft(o);
  ASSERT_EQ(resumed.train.losses.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(resumed.train.losses[i], full.train.losses[3 + i], 1e-6) << i;
  EXPECT_EQ(read_text(dir.file("run2/adapter/adapter_model.safetensors")),
            read_text(dir.file("run/adapter/adapter_model.safetensors")));
  // Resuming with other LoRA settings is refused, naming them.
  o.lora.rank = 4;
  try {
    train::run_sft(o);
    ADD_FAILURE() << "resumed with another rank";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rank"), std::string::npos) << e.what();
  }
}

TEST(LoraRun, CommandLineFlagsAndTheirErrors) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  auto data = write_chats(dir, 40);
  const std::string common = "--threads 1 sft " + dir.file("base") + " " + data + " --steps 2 --batch-size 4 --max-length 64";
  auto r = run_nativelm(common + " -o " + dir.file("run") + " --lora-rank 4 --lora-alpha 8 --lora-targets q_proj,v_proj",
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("LoRA adapter (PEFT) in " + dir.file("run/adapter")), std::string::npos) << r.out;
  auto cfg = nlohmann::json::parse(read_text(dir.file("run/adapter/adapter_config.json")));
  EXPECT_EQ(cfg["target_modules"], nlohmann::json({"q_proj", "v_proj"}));
  EXPECT_EQ(cfg["lora_alpha"], 8);
  // `nativelm merge` folds it into the base: the same outputs as base + adapter, and the template.
  auto merged = run_nativelm("merge " + dir.file("base") + " " + dir.file("run/adapter") + " -o " + dir.file("merged"),
                             dir.path());
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_NE(merged.out.find("merged 2 LoRA adapters into " + dir.file("merged")), std::string::npos) << merged.out;
  EXPECT_EQ(nlohmann::json::parse(read_text(dir.file("merged/tokenizer_config.json"))).value("chat_template", ""),
            kChatml);
  EXPECT_FALSE(std::filesystem::exists(dir.file("merged/adapter_config.json")));
  {
    auto& be = tensor::backend_for("cpu");
    auto a = model::load_hf_model(dir.file("merged"), be);
    auto b = model::load_hf_model(dir.file("base"), be);
    model::load_peft_adapter(dir.file("run/adapter"), *b);
    auto la = logits_of(*a), lb = logits_of(*b);
    for (size_t i = 0; i < la.size(); ++i) ASSERT_NEAR(la[i], lb[i], 1e-4) << i;
  }
  auto no_adapter = run_nativelm("merge " + dir.file("base") + " " + dir.file("base") + " -o " + dir.file("m2"), dir.path());
  EXPECT_EQ(no_adapter.exit_code, 2);
  EXPECT_NE(no_adapter.err.find("adapter_config.json"), std::string::npos) << no_adapter.err;
  auto bad = run_nativelm(common + " -o " + dir.file("run2") + " --lora-rank 4 --lora-targets wq", dir.path());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--lora-targets names 'wq'"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("q_proj"), std::string::npos) << bad.err;  // the known names
  // train: LoRA adapts a model, so it needs init_from.
  auto t = run_nativelm("train -o " + dir.file("t") + " --train x.tok --lora-rank 4", dir.path());
  EXPECT_EQ(t.exit_code, 2);
  EXPECT_NE(t.err.find("init_from"), std::string::npos) << t.err;
}

TEST(LoraRun, DpoTrainsAdaptersAgainstTheBaseAsReference) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  std::string text;
  for (int i = 0; i < 24; ++i) {
    const std::string& user = irish_lines()[static_cast<size_t>(i) % irish_lines().size()];
    text += nlohmann::json({{"prompt", {{{"role", "user"}, {"content", user}}}},
                            {"chosen", {{{"role", "assistant"}, {"content", kIrishAnswer}}}},
                            {"rejected", {{{"role", "assistant"}, {"content", kCantoneseAnswer}}}}})
                .dump() +
            "\n";
  }
  write_text(dir.file("pairs.jsonl"), text);
  train::DpoTrainOptions o;
  o.model_dir = dir.file("base");
  o.data = {dir.file("pairs.jsonl")};
  o.out_dir = dir.file("dpo");
  o.encode.max_length = 64;
  o.batch_size = 4;
  o.steps = 8;
  o.schedule.lr = 1e-2;
  o.eval_fraction = 0;
  o.log_every = 0;
  o.lora.rank = 4;
  o.lora.alpha = 8;
  o.lora.targets = model::lora_target_names();
  auto r = train::run_dpo(o);
  ASSERT_EQ(r.train.losses.size(), 8u);
  EXPECT_NEAR(r.train.losses.front(), std::log(2.0), 1e-6);  // policy = reference at step 0
  EXPECT_LT(r.train.losses.back(), r.train.losses.front());
  EXPECT_TRUE(model::is_peft_adapter(dir.file("dpo/adapter")));
}

// A pipeline stage's model/ feeds the next stage, so LoRA there must merge; the error says so.
TEST(LoraRun, PipelineStagesWithLoraMustMerge) {
  for (const char* stage : {"sft", "dpo", "train"}) {
    const std::string head = std::string("work_dir: w\ninputs: [x]\nstages:\n  ") + stage + ":\n" +
                             (std::string(stage) == "train" ? "" : "    data: [c.jsonl]\n");
    const std::string yaml = head + "    lora: {rank: 8}\n";
    try {
      pipeline::parse_pipeline(yaml, "p.yaml");
      ADD_FAILURE() << stage << " accepted lora without merge";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("lora.merge"), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW(pipeline::parse_pipeline(head + "    lora: {rank: 8, merge: true}\n", "p.yaml")) << stage;
  }
}

}  // namespace
}  // namespace nlm::testing
