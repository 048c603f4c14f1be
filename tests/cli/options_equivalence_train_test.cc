// The train and eval stages reach their options through the same declarations as `nativelm train`,
// `nativelm eval ppl` and `nativelm generate`: the same settings give the same options JSON on the
// command line, in a train config file and in a pipeline, and errors name the option as each
// caller spells it (`--flag`, `train.key (file:line)`).
#include <gtest/gtest.h>

#include "cli/options_equivalence.h"

using namespace nlm::testing;

namespace {

TEST(OptionsEquivalence, Train) {
  const std::vector<Case> cases = {
      {"train", "train", "{}"},
      {"train", "train --steps 50 --lr 0.001 --min-lr 0.0001 --schedule wsd --warmup-steps 5 --decay-fraction 0.3",
       "{steps: 50, schedule: {type: wsd, lr: 0.001, min_lr: 0.0001, warmup_steps: 5, decay_fraction: 0.3}}"},
      {"train",
       "train --model-hidden-size 64 --model-num-attention-heads 4 --model-num-hidden-layers 2 "
       "--model-intermediate-size 128 --model-tie-word-embeddings",
       "{model: {hidden_size: 64, num_attention_heads: 4, num_hidden_layers: 2, intermediate_size: 128, "
       "tie_word_embeddings: true}}"},
      {"train", "train --model-num-key-value-heads 2 --model-rope-theta 500000 --model-eos-token-id 3",
       "{model: {num_key_value_heads: 2, rope_theta: 500000, eos_token_id: 3}}"},
      {"train",
       "train --weight-decay 0 --grad-clip 0.5 --beta2 0.99 --batch-size 4 --seq-len 64 --grad-accum 2 "
       "--no-doc-masking --shuffle-documents --save-dtype bfloat16 --device cpu --seed 7",
       "{optimizer: {weight_decay: 0, grad_clip: 0.5, beta2: 0.99}, batch_size: 4, seq_len: 64, grad_accum: 2, "
       "doc_masking: false, shuffle_documents: true, save_dtype: bfloat16, device: cpu, seed: 7}"},
      {"train", "train --eval-every 5 --eval-batches 2 --checkpoint-every 10 --keep-checkpoints 3 --recompute",
       "{eval_every: 5, eval_batches: 2, checkpoint_every: 10, keep_checkpoints: 3, recompute: true}"},
  };
  for (const auto& c : cases) expect_same(c);
}

TEST(OptionsEquivalence, TrainDefaultsAndDerivedKeys) {
  TempDir dir;
  write_text(dir.file("in.txt"), "text\n");
  auto a = cli_options({"train", "train --model-num-attention-heads 4", ""}, dir);
  // Without an explicit value the KV heads follow the query heads, both ways.
  EXPECT_EQ(a["model"]["num_key_value_heads"], 4);
  auto b = pipeline_options({"train", "", "{model: {num_attention_heads: 4}}"}, dir);
  EXPECT_EQ(b["model"]["num_key_value_heads"], 4);
  EXPECT_EQ(a["schedule"]["type"], "cosine");
  EXPECT_EQ(a["schedule"]["lr"], 0.0003);
  EXPECT_EQ(a["save_dtype"], "float32");
  EXPECT_FALSE(a.contains("out_dir"));  // where, not what: not part of the options JSON
  EXPECT_FALSE(a.contains("resume"));
}

TEST(OptionsEquivalence, TrainConfigFileAndFlagsMeanWhatAPipelineMeans) {
  TempDir dir;
  write_text(dir.file("in.txt"), "text\n");
  write_text(dir.file("c.yaml"),
             "model:\n  hidden_size: 64\n  num_attention_heads: 4\nschedule:\n  lr: 0.01\n  type: constant\n"
             "steps: 20\n");
  // Flags override the file.
  auto a = cli_options({"train", "train " + dir.file("c.yaml") + " --lr 0.002 --steps 30", ""}, dir);
  auto b = pipeline_options(
      {"train", "", "{model: {hidden_size: 64, num_attention_heads: 4}, schedule: {lr: 0.002, type: constant}, steps: 30}"},
      dir);
  ASSERT_TRUE(a.is_object());
  EXPECT_EQ(a, b);
  EXPECT_EQ(a["steps"], 30);
  EXPECT_EQ(a["model"]["hidden_size"], 64);
}

// `nativelm eval ppl` and `nativelm generate` declare the perplexity and sampling keys that the
// pipeline's eval stage combines: every key a command shares with the stage has the same value.
void expect_shared_keys_equal(const nlohmann::json& cli, const nlohmann::json& stage, const std::string& what,
                              size_t at_least) {
  ASSERT_TRUE(cli.is_object()) << what;
  ASSERT_TRUE(stage.is_object()) << what;
  size_t shared = 0;
  for (auto it = cli.begin(); it != cli.end(); ++it) {
    if (!stage.contains(it.key())) continue;
    ++shared;
    EXPECT_EQ(it.value(), stage[it.key()]) << what << ": " << it.key();
  }
  EXPECT_GE(shared, at_least) << what << "\n" << cli.dump() << "\n" << stage.dump();
}

TEST(OptionsEquivalence, Eval) {
  TempDir dir;
  write_text(dir.file("in.txt"), "text\n");
  struct EvalCase {
    std::string cli, yaml;
  };
  const std::vector<EvalCase> ppl = {
      {"eval ppl -m m x.tok --max-docs 0", "{max_docs: 0}"},
      {"eval ppl -m m x.tok --max-length 64 --max-docs 10", "{max_length: 64, max_docs: 10}"},
      {"eval ppl -m m x.tok --prefix-token 2 --max-docs 3 --device cpu", "{prefix_token: 2, max_docs: 3, device: cpu}"},
  };
  for (const auto& c : ppl)
    expect_shared_keys_equal(cli_options({"eval", c.cli, ""}, dir), pipeline_options({"eval", "", c.yaml}, dir),
                             c.cli, 4);
  const std::vector<EvalCase> sampling = {
      {"generate -m m", "{}"},
      {"generate -m m --temperature 0.5 --top-k 5 --max-tokens 40 --seed 3",
       "{temperature: 0.5, top_k: 5, max_new_tokens: 40, seed: 3}"},
      {"generate -m m --top-p 0.9 --min-p 0.05 --repetition-penalty 1.1 --stop-id 7 --stop-id 9",
       "{top_p: 0.9, min_p: 0.05, repetition_penalty: 1.1, stop_ids: [7, 9]}"},
  };
  for (const auto& c : sampling)
    expect_shared_keys_equal(cli_options({"eval", c.cli, ""}, dir), pipeline_options({"eval", "", c.yaml}, dir),
                             c.cli, 8);
}

TEST(OptionsEquivalence, EvalSamplesWithTheSamplingDefaults) {
  TempDir dir;
  write_text(dir.file("in.txt"), "text\n");
  // One default, from model::SamplingOptions, for generate and the pipeline's eval stage.
  auto g = cli_options({"eval", "generate -m m", ""}, dir);
  auto e = pipeline_options({"eval", "", "{samples: [Es war]}"}, dir);
  EXPECT_EQ(g["temperature"], 0.8);
  EXPECT_EQ(e["temperature"], 0.8);
  EXPECT_EQ(e["max_new_tokens"], 128);
  EXPECT_EQ(e["max_docs"], 500);
  EXPECT_EQ(e["samples"], nlohmann::json::array({"Es war"}));
}

TEST(OptionsEquivalence, TrainAndEvalErrorsNameTheOptionAsEachCallerSpellsIt) {
  TempDir dir;
  write_text(dir.file("in.txt"), "text\n");
  auto has = [](const RunResult& r, const std::string& text) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(text), std::string::npos) << "want: " << text << "\ngot: " << r.err;
  };
  // Command line: the flag.
  has(run_nativelm("train --lr fast --print-options", dir.path()), "--lr must be a number");
  has(run_nativelm("train --steps 0 --print-options", dir.path()), "--steps must be at least 1, got 0");
  has(run_nativelm("train --schedule linear --print-options", dir.path()),
      "--schedule must be one of cosine|wsd|constant, got 'linear'");
  has(run_nativelm("train --model-hidden-size 10 --model-num-attention-heads 3 --print-options", dir.path()),
      "--model-hidden-size (10) is not divisible by num_attention_heads (3)");
  has(run_nativelm("generate -m m --temperature -1", dir.path()), "--temperature must be at least 0");
  has(run_nativelm("eval ppl -m m x.tok --max-length -5", dir.path()), "--max-length must be at least 0");
  // A library error at run time is renamed too: an empty shard folder given with --train.
  std::filesystem::create_directories(dir.file("empty"));
  has(run_nativelm("train --out " + dir.file("run") + " --train " + dir.file("empty"), dir.path()),
      "--train names folder " + dir.file("empty") + ", which holds no .tok shards");
  has(run_nativelm("train --train x.tok", dir.path()), "--out is required");

  // Pipeline: stage.key (file:line).
  const std::string p = dir.file("p.yaml");
  auto build = [&](const std::string& stage) {
    write_text(p, "work_dir: w\ninputs: [in.txt]\nstages:\n" + stage);
    return run_nativelm("build " + p + " --print-options", dir.path());
  };
  has(build("  train:\n    steps: 10\n    schedule:\n      lr: fast\n"),
      "train.schedule.lr must be a number, got 'fast' (" + p + ":7)");
  has(build("  train:\n    model:\n      hidden_size: 10\n      num_attention_heads: 3\n"),
      "train.model.hidden_size (10) is not divisible by num_attention_heads (3) (" + p + ":6)");
  has(build("  train:\n    stepz: 3\n"), "unknown key 'train.stepz' (" + p + ":5)");
  has(build("  train:\n    out_dir: x\n"), "train.out_dir is set by the pipeline");
  has(build("  eval:\n    samples: [a]\n    temperature: -1\n"), "eval.temperature must be at least 0, got -1 (" + p + ":6)");
  has(build("  eval:\n    max_new_tokens: 0\n"), "eval.max_new_tokens must be at least 1, got 0 (" + p + ":5)");

  // A train config file: train.key (file:line) as well.
  const std::string c = dir.file("c.yaml");
  write_text(c, "model:\n  vocab_size: 256\nsteps: 0\n");
  has(run_nativelm("train " + c + " --print-options", dir.path()), "train.steps must be at least 1, got 0 (" + c + ":3)");
  write_text(c, "schedule:\n  type: linear\n");
  has(run_nativelm("train " + c + " --print-options", dir.path()),
      "train.schedule.type must be one of cosine|wsd|constant, got 'linear' (" + c + ":2)");
  write_text(c, "steps: 5\nmodel: {hidden_sise: 64}\n");
  has(run_nativelm("train " + c + " --print-options", dir.path()), "unknown key 'train.model.hidden_sise' (" + c + ":2)");
  write_text(c, "data:\n  train:\n    - {shards: [a.tok], weight: 2}\n    - {shards: [b.tok], weight: -1}\n");
  has(run_nativelm("train " + c + " --print-options", dir.path()),
      "train.data.train[].weight must be positive, got -1 (" + c + ":4)");
  write_text(c, "data:\n  train:\n    - {shard: [a.tok]}\n");
  has(run_nativelm("train " + c + " --print-options", dir.path()), "train.data.train[].shard is an unknown key (" + c + ":3)");
  // A cross-field problem is named where its value came from: the file's line, or the flag.
  write_text(c, "steps: 5\nmodel:\n  hidden_size: 100\n  num_attention_heads: 3\n");
  has(run_nativelm("train " + c + " --print-options", dir.path()), "train.model.hidden_size");
  has(run_nativelm("train " + c + " --print-options", dir.path()), "(" + c + ":3)");
  has(run_nativelm("train " + c + " --print-options --model-hidden-size 98", dir.path()), "--model-hidden-size");
  // The flag overrides a bad value of the file only when it is given; a good file passes.
  write_text(c, "steps: 4\nschedule: {lr: 0.01}\n");
  auto r = run_nativelm("train " + c + " --print-options --steps 9", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["steps"], 9);
  EXPECT_EQ(j["schedule"]["lr"], 0.01);
}

}  // namespace
