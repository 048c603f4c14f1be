// `nativelm dpo` on a tiny chat model: reading pairs (3 bad of 1000 counted and named, --strict
// fatal, plain and chat shapes), and a run end to end: a model first SFT'd here to answer Irish
// prompts with or without a closing "Go raibh maith agat!" is trained by DPO to prefer the
// closing; held-out reward accuracy reaches 0.9, greedy answers shift to the closing, metrics
// carry TRL's figures, and a second run reuses reference_logps.json.
#include "train/dpo.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/chat_template/model_template.h"
#include "model/hf_checkpoint.h"
#include "sft_fixture.h"
#include "train/dpo_data.h"
#include "train/sft.h"

namespace nlm::testing {
namespace {

const char* kThanks = " Go raibh maith agat!";

// The answer to prompt i without the closing.
std::string plain_answer(int i) { return i % 2 ? "Tá mé go maith." : "Níl a fhios agam."; }
const std::string& prompt(int i) {
  const auto& l = irish_lines();
  return l[static_cast<size_t>(i) % l.size()];
}

std::string pair_record(int i, bool chat) {
  nlohmann::json j;
  const std::string yes = plain_answer(i) + kThanks, no = plain_answer(i);
  if (chat) {
    j["prompt"] = {{{"role", "user"}, {"content", prompt(i)}}};
    j["chosen"] = {{{"role", "assistant"}, {"content", yes}}};
    j["rejected"] = no;  // a string beside a chat prompt: one assistant turn
  } else {
    j = {{"prompt", prompt(i)}, {"chosen", yes}, {"rejected", no}};
  }
  return j.dump();
}

std::string write_pairs(const TempDir& dir, const std::string& name, int n, bool with_bad) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    if (with_bad && i == 10) text += "{\"prompt\": \"x\", \"rejected\": \"y\"}\n";
    else if (with_bad && i == 500) text += "[1, 2]\n";
    else if (with_bad && i == 900) text += "{\"prompt\": \"x\", \"chosen\": \"y\", \"rejected\": 3}\n";
    else text += pair_record(i, i % 3 == 0) + "\n";
  }
  write_text(dir.file(name), text);
  return dir.file(name);
}

TEST(DpoData, CountsBadRecordsNamingFileLineAndField) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"));
  auto tok = tokenizer::Tokenizer::load(dir.file("base/tokenizer.json"));
  auto chat = data::chat_template::load_model_chat_template(dir.file("base"));
  data::SftEncoder enc(tok, chat, data::SftOptions{});
  const std::string path = write_pairs(dir, "pairs.jsonl", 1000, true);
  train::DpoSplit s = train::read_dpo_files({path}, enc);
  EXPECT_EQ(s.records, 1000u);
  EXPECT_EQ(s.counts.bad, 3u);
  EXPECT_EQ(s.pairs(), 997u);
  ASSERT_EQ(s.counts.first_errors.size(), 3u);
  EXPECT_EQ(s.counts.first_errors[0], path + ":11: no `chosen`");
  EXPECT_EQ(s.counts.first_errors[1], path + ":501: not a JSON object");
  EXPECT_NE(s.counts.first_errors[2].find(path + ":901: `rejected`"), std::string::npos);
  // Each side: the prompt is masked out, the response (and its end marker) in.
  const auto& c = s.examples[0];
  const auto& r = s.examples[1];
  EXPECT_GT(c.ids.size(), r.ids.size());
  size_t in_c = 0, in_r = 0;
  for (auto m : c.mask) in_c += m;
  for (auto m : r.mask) in_r += m;
  EXPECT_GT(in_c, in_r);
  EXPECT_LT(in_c, c.ids.size());
  // --strict: the first bad record is fatal and named.
  try {
    train::read_dpo_files({path}, enc, true);
    FAIL() << "strict accepted a bad record";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":11"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no `chosen`"), std::string::npos) << e.what();
  }
  // A record with a messages list as prompt and no `rejected`.
  nlohmann::ordered_json cj, rj;
  std::string err;
  EXPECT_FALSE(train::dpo_sides(nlohmann::ordered_json::parse(R"({"messages": [], "chosen": "a"})"), "f:1", cj, rj, err));
  EXPECT_EQ(err, "f:1: no `rejected`");
  EXPECT_FALSE(train::dpo_sides(nlohmann::ordered_json::parse(R"({"chosen": "a", "rejected": "b"})"), "f:2", cj, rj, err));
  EXPECT_EQ(err, "f:2: no `prompt` (or `messages`)");
}

// How many of the Irish prompts the model answers greedily with the closing.
int thanked(const std::string& model_dir) {
  auto& be = tensor::backend_for("cpu");
  auto m = model::load_hf_model(model_dir, be);
  auto tok = tokenizer::Tokenizer::load(model_dir + "/tokenizer.json");
  int n = 0;
  for (const auto& p : irish_lines())
    n += greedy(*m, tok, "<|im_start|>user\n" + p + "<|im_end|>\n<|im_start|>assistant\n", 24).find("Go raibh") !=
         std::string::npos;
  return n;
}

TEST(DpoRun, LearnsThePreferredClosingAndReusesReferenceLogps) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"));
  {  // SFT: half the answers close with the phrase, so the model is undecided
    std::string text;
    for (int i = 0; i < 400; ++i)
      text += chat_record(prompt(i), plain_answer(i) + ((i / 8) % 2 ? kThanks : "")) + "\n";
    write_text(dir.file("sft.jsonl"), text);
    train::SftTrainOptions s;
    s.model_dir = dir.file("base");
    s.data = {dir.file("sft.jsonl")};
    s.out_dir = dir.file("sft");
    s.encode.max_length = 64;
    s.steps = 40;
    s.schedule.lr = 3e-3;
    s.schedule.min_lr = 3e-4;
    s.schedule.warmup_steps = 5;
    s.log_every = 0;
    train::run_sft(s);
  }
  const int before = thanked(dir.file("sft/model"));
  train::DpoTrainOptions o;
  o.model_dir = dir.file("sft/model");
  o.data = {write_pairs(dir, "pairs.jsonl", 200, false)};
  o.out_dir = dir.file("dpo");
  o.eval_fraction = 0.1;
  o.encode.max_length = 64;
  o.encode.chat_prompt = true;  // plain prompts as a user turn, as the SFT data was
  o.batch_size = 4;
  o.steps = 30;
  o.schedule.lr = 1e-3;
  o.schedule.min_lr = 1e-4;
  o.schedule.warmup_steps = 3;
  o.log_every = 0;
  auto r = train::run_dpo(o);
  EXPECT_EQ(r.pairs, 180u);
  EXPECT_EQ(r.eval_pairs, 20u);
  EXPECT_FALSE(r.reference_reused);
  double accuracy = -1, margin = 0;
  for (const auto& [k, v] : r.last_eval) {
    if (k == "rewards/accuracies") accuracy = v;
    if (k == "rewards/margins") margin = v;
  }
  EXPECT_GE(accuracy, 0.9);
  EXPECT_GT(margin, 0);
  EXPECT_LT(r.train.last_loss, std::log(2.0));  // below the loss of an untrained policy
  const int after = thanked(dir.file("dpo/model"));
  RecordProperty("greedy_closings_before", before);
  RecordProperty("greedy_closings_after", after);
  EXPECT_GT(after, before);
  EXPECT_GE(after, 6) << "of 8 prompts";
  // metrics.jsonl: TRL's figures on every step line, eval_ ones on the eval line.
  std::ifstream in(dir.file("dpo/metrics.jsonl"));
  std::string line;
  int steps = 0, evals = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) {
      ++steps;
      for (const char* k : {"rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins",
                            "logps/chosen", "logps/rejected"})
        EXPECT_TRUE(j.contains(k)) << k << " in " << line;
    }
    if (j.contains("eval_loss")) evals += j.contains("eval_rewards/accuracies");
  }
  EXPECT_EQ(steps, 30);
  EXPECT_EQ(evals, 1);
  // A second run into the same folder (--force) reuses the stored reference log-probs.
  o.force = true;
  o.steps = 2;
  auto r2 = train::run_dpo(o);
  EXPECT_TRUE(r2.reference_reused);
}

train::DpoTrainOptions small_run(const TempDir& dir, const std::string& data) {
  train::DpoTrainOptions o;
  o.model_dir = dir.file("base");
  o.data = {data};
  o.out_dir = dir.file("run");
  o.encode.max_length = 64;
  o.batch_size = 2;
  o.schedule.lr = 1e-3;
  o.schedule.warmup_steps = 5;
  o.log_every = 0;
  return o;
}

TEST(DpoRun, ResumeReusesTheReferenceAndContinuesTheSameLossCurve) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  auto o = small_run(dir, write_pairs(dir, "pairs.jsonl", 40, false));
  o.steps = 6;
  o.checkpoint_every = 3;
  auto full = train::run_dpo(o);
  o.out_dir = dir.file("run2");
  o.steps = 3;  // all within warmup: the first 3 steps equal the full run's
  train::run_dpo(o);
  o.steps = 6;
  o.resume = true;
  auto resumed = train::run_dpo(o);
  EXPECT_TRUE(resumed.reference_reused);
  ASSERT_EQ(resumed.train.losses.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(resumed.train.losses[i], full.train.losses[3 + i], 1e-6) << i;
  // Without the stored file a resume scores the initial model again (not the checkpoint's).
  std::filesystem::remove(dir.file("run2/reference_logps.json"));
  o.out_dir = dir.file("run2");
  std::filesystem::remove_all(dir.file("run2/checkpoints/step-00000006"));
  auto again = train::run_dpo(o);
  EXPECT_FALSE(again.reference_reused);
  ASSERT_EQ(again.train.losses.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(again.train.losses[i], full.train.losses[3 + i], 1e-6) << i;
}

TEST(DpoRun, BadInputIsAUsageErrorNamingIt) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  write_text(dir.file("bad.jsonl"), "not json\n{\"prompt\": \"x\", \"chosen\": \"y\"}\n");
  auto o = small_run(dir, dir.file("bad.jsonl"));
  try {
    train::run_dpo(o);
    ADD_FAILURE() << "no usable pairs was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("no usable training pairs in 2 records"), std::string::npos) << e.what();
  }
  o = small_run(dir, write_pairs(dir, "pairs.jsonl", 40, false));
  o.loss.type = train::DpoLoss::Hinge;
  o.loss.label_smoothing = 0.1;
  EXPECT_THROW(train::run_dpo(o), Error);  // label smoothing is the sigmoid loss's
}

TEST(DpoRun, CommandLineRunPrintsTheCountsAndEvalAccuracy) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  auto data = write_pairs(dir, "pairs.jsonl", 1000, true);
  auto r = run_nativelm("--threads 1 dpo " + dir.file("base") + " " + data + " -o " + dir.file("run") +
                            " --steps 2 --batch-size 2 --max-length 64 --lr 1e-3 --eval-fraction 0.01 --loss-type ipo",
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("trained 2 steps on 987 pairs of 1000 records (3 bad, 0 truncated, 0 dropped)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("eval reward accuracy"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("pairs.jsonl:11: no `chosen`"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir.file("run/model/config.json")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("run/reference_logps.json")));
}

}  // namespace
}  // namespace nlm::testing
