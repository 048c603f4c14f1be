// `nativelm sft` end to end on a tiny chat model: 1000 chat records (3 of them bad) teach a fixed
// answer per language (Irish or Cantonese); the run trains on 997, reports 3, its loss drops, the
// greedy answer follows the pattern, the output folder loads in `generate` and carries the input's
// chat template; overlong examples are counted and truncated or dropped; resume continues.
#include "train/sft.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data/chat_template/chat_template.h"
#include "data/chat_template/model_template.h"
#include "model/hf_checkpoint.h"
#include "sft_fixture.h"

namespace nlm::testing {
namespace {

// 1000 lines: chats whose answer depends on the user's language; lines 100, 500 and 900 are bad
// (not JSON, an unknown role, no assistant turn).
std::string write_data(const TempDir& dir, const std::string& name, int n = 1000) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    bool irish = (i * 7) % 3 != 0;
    const auto& lines = irish ? irish_lines() : cantonese_lines();
    // Hold out the last sentence of each language for the greedy check.
    const std::string& user = lines[static_cast<size_t>(i) % (lines.size() - 1)];
    if (i == 100) text += "{\"messages\": [\n";
    else if (i == 500) text += "{\"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}\n";
    else if (i == 900) text += "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}\n";
    else text += chat_record(user, irish ? kIrishAnswer : kCantoneseAnswer) + "\n";
  }
  write_text(dir.file(name), text);
  return dir.file(name);
}

train::SftTrainOptions options(const TempDir& dir, const std::string& data) {
  train::SftTrainOptions o;
  o.model_dir = dir.file("base");
  o.data = {data};
  o.out_dir = dir.file("run");
  o.encode.max_length = 64;
  o.batch_size = 8;
  o.steps = 60;
  o.schedule.lr = 3e-3;
  o.schedule.min_lr = 3e-4;
  o.schedule.warmup_steps = 5;
  o.eval_fraction = 0.05;
  o.log_every = 0;
  return o;
}

TEST(SftRun, LearnsTheAnswerPatternSkipsBadRecordsAndKeepsTheTemplate) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"));
  auto o = options(dir, write_data(dir, "chat.jsonl"));
  o.eval_fraction = 0;
  o.eval_data = {write_data(dir, "eval.jsonl", 40)};  // a separate held-out file
  auto r = train::run_sft(o);
  EXPECT_EQ(r.records, 1000u);
  EXPECT_EQ(r.bad, 3u);
  EXPECT_EQ(r.truncated + r.dropped, 0u);
  EXPECT_EQ(r.examples, 997u);
  EXPECT_EQ(r.eval_examples, 40u);
  ASSERT_EQ(r.first_errors.size(), 3u);
  EXPECT_NE(r.first_errors[0].find("chat.jsonl:101"), std::string::npos) << r.first_errors[0];
  EXPECT_NE(r.first_errors[1].find("chat.jsonl:501"), std::string::npos) << r.first_errors[1];
  EXPECT_GT(r.fill, 0.8);  // ~25-token examples packed into rows of 64
  ASSERT_EQ(r.train.losses.size(), 60u);
  EXPECT_LT(r.train.losses.back(), 0.3 * r.train.losses.front());
  EXPECT_GE(r.train.last_eval_loss, 0);
  EXPECT_LT(r.train.last_eval_loss, 0.25 * r.train.losses.front());

  // The output folder: weights, tokenizer, generation config, and the same chat template.
  const std::string out = dir.file("run/model");
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                        "generation_config.json"})
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  auto in_tpl = data::chat_template::load_model_chat_template(dir.file("base"));
  auto cfg = nlohmann::json::parse(read_text(out + "/tokenizer_config.json"));
  ASSERT_TRUE(cfg.contains("chat_template"));
  EXPECT_EQ(cfg["chat_template"].get<std::string>(), in_tpl.source);
  EXPECT_EQ(cfg["chat_template"].get<std::string>(), kChatml);
  const std::string metrics = read_text(dir.file("run/metrics.jsonl"));
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 61);  // 60 steps and one eval
  EXPECT_NE(metrics.find("\"eval_loss\""), std::string::npos);

  // Greedy answers to the two held-out sentences follow the pattern of their language.
  auto& be = tensor::backend_for("cpu");
  auto m = model::load_hf_model(out, be);
  auto tok = tokenizer::Tokenizer::load(out + "/tokenizer.json");
  auto prompt = [](const std::string& user) {
    return "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n";
  };
  EXPECT_EQ(greedy(*m, tok, prompt(irish_lines().back()), 12), kIrishAnswer);
  EXPECT_EQ(greedy(*m, tok, prompt(cantonese_lines().back()), 12), kCantoneseAnswer);
  // ... and `nativelm generate` loads the folder.
  auto g = run_nativelm("generate -m " + out + " --max-tokens 4 --temperature 0 'Dia duit'", dir.path());
  EXPECT_EQ(g.exit_code, 0) << g.err;
}

// A tokenizer trained without the template's markers as special tokens pays several tokens per
// marker; sft and dpo name them and the --special flag that fixes it.
TEST(SftRun, ChatMarkersThatAreNotSingleTokensAreFound) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"));
  auto tok = tokenizer::Tokenizer::load(dir.file("base"));
  auto chat = data::chat_template::load_model_chat_template(dir.file("base"));
  EXPECT_TRUE(train::split_chat_markers(tok, chat).empty());  // ChatML's markers are special tokens here
  chat.source = "{{ '<start_of_turn>user ' + messages[0]['content'] + '<end_of_turn><|im_end|><|im_end|>' }}";
  auto split = train::split_chat_markers(tok, chat);
  ASSERT_EQ(split.size(), 2u);  // <|im_end|> is one token; each of the others is listed once
  EXPECT_EQ(split[0].first, "<start_of_turn>");
  EXPECT_EQ(split[1].first, "<end_of_turn>");
  EXPECT_GT(split[0].second, 1u);
}

TEST(SftRun, TemplateFromJinjaFileIsWrittenIntoTokenizerConfig) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  // Move the template out of tokenizer_config.json into chat_template.jinja (transformers ≥ 4.43).
  auto cfg = nlohmann::ordered_json::parse(read_text(dir.file("base/tokenizer_config.json")));
  cfg.erase("chat_template");
  write_text(dir.file("base/tokenizer_config.json"), cfg.dump(2));
  const std::string jinja = std::string(kChatml) + "{# from the jinja file #}";
  write_text(dir.file("base/chat_template.jinja"), jinja);
  // A base model whose EOS is <|endoftext|>, not ChatML's end of turn.
  auto tok = tokenizer::Tokenizer::load(dir.file("base/tokenizer.json"));
  const int64_t endoftext = tok.encode("<|endoftext|>").at(0), im_end = tok.encode("<|im_end|>").at(0);
  auto config = nlohmann::ordered_json::parse(read_text(dir.file("base/config.json")));
  config["eos_token_id"] = endoftext;
  write_text(dir.file("base/config.json"), config.dump(2));
  auto o = options(dir, write_data(dir, "chat.jsonl", 40));
  o.steps = 2;
  o.eval_fraction = 0;
  auto r = train::run_sft(o);
  EXPECT_LT(r.train.last_eval_loss, 0);  // no eval
  auto out = nlohmann::json::parse(read_text(dir.file("run/model/tokenizer_config.json")));
  EXPECT_EQ(out["chat_template"].get<std::string>(), jinja);
  EXPECT_EQ(out["eos_token"].get<std::string>(), "<|im_end|>");
  // generation_config.json lists the end of turn beside the EOS, and generation stops there.
  EXPECT_EQ(model::load_generation_eos_ids(dir.file("run/model")), (std::vector<int64_t>{endoftext, im_end}));
  auto g = run_nativelm("generate -m " + dir.file("run/model") + " --max-tokens 3 --temperature 0 x", dir.path());
  EXPECT_EQ(g.exit_code, 0) << g.err;
  write_text(dir.file("run/model/generation_config.json"), "{\"eos_token_id\": \"x\"}");
  g = run_nativelm("generate -m " + dir.file("run/model") + " --max-tokens 3 --temperature 0 x", dir.path());
  EXPECT_EQ(g.exit_code, 2);
  EXPECT_NE(g.err.find("generation_config.json"), std::string::npos) << g.err;
}

TEST(SftRun, OverlongExamplesAreCountedTruncatedOrDropped) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  std::string text;
  std::string longer;
  for (int k = 0; k < 2; ++k)
    for (const auto& l : irish_lines()) longer += l + " ";
  // 5 long answers (truncation keeps part of them), 2 long questions (truncation cuts the whole
  // answer off, so they are dropped), 13 short chats.
  for (int i = 0; i < 20; ++i) {
    if (i % 4 == 0) text += chat_record(irish_lines()[0], longer) + "\n";
    else if (i == 1 || i == 5) text += chat_record(longer, kIrishAnswer) + "\n";
    else text += chat_record(irish_lines()[1], kIrishAnswer) + "\n";
  }
  write_text(dir.file("d.jsonl"), text);
  auto o = options(dir, dir.file("d.jsonl"));
  o.steps = 1;
  o.eval_fraction = 0;
  o.encode.max_length = 40;
  auto r = train::run_sft(o);
  EXPECT_EQ(r.truncated, 5u);
  EXPECT_EQ(r.dropped, 2u) << "a truncated chat whose answer was cut off has no loss token left";
  EXPECT_EQ(r.examples, 18u);

  o.encode.overlong = data::SftOverlong::Drop;
  o.force = true;
  r = train::run_sft(o);
  EXPECT_EQ(r.truncated, 0u);
  EXPECT_EQ(r.dropped, 7u);
  EXPECT_EQ(r.examples, 13u);
}

TEST(SftRun, ResumeContinuesTheSameLossCurve) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  auto data = write_data(dir, "chat.jsonl", 80);
  auto o = options(dir, data);
  o.steps = 6;
  o.batch_size = 2;
  o.eval_fraction = 0;
  o.checkpoint_every = 3;
  auto full = train::run_sft(o);
  o.out_dir = dir.file("run2");
  o.steps = 3;
  train::run_sft(o);  // stops at 3 (as if killed after the checkpoint)
  o.steps = 6;
  o.resume = true;
  auto resumed = train::run_sft(o);
  ASSERT_EQ(resumed.train.losses.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(resumed.train.losses[i], full.train.losses[3 + i], 1e-6) << i;
}

TEST(SftRun, BadInputIsAUsageErrorNamingIt) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  write_text(dir.file("bad.jsonl"), "not json\n{\"prompt\": 3}\n");
  auto o = options(dir, dir.file("bad.jsonl"));
  try {
    train::run_sft(o);
    ADD_FAILURE() << "no usable examples was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("no usable training examples in 2 records"), std::string::npos) << e.what();
  }
  // --strict: the first bad record stops the run, named by file and line.
  auto strict = options(dir, write_data(dir, "chat.jsonl", 200));
  strict.strict = true;
  try {
    train::run_sft(strict);
    ADD_FAILURE() << "strict accepted a bad record";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("chat.jsonl:101"), std::string::npos) << e.what();
  }
  auto cli = run_nativelm("sft " + dir.file("base") + " " + dir.file("missing.jsonl") + " -o " + dir.file("r") +
                              " --max-length 64",
                          dir.path());
  EXPECT_EQ(cli.exit_code, 2);
  EXPECT_NE(cli.err.find("missing.jsonl"), std::string::npos) << cli.err;
  cli = run_nativelm("sft " + dir.file("nomodel") + " " + dir.file("bad.jsonl") + " -o " + dir.file("r") + " --max-length 64",
                     dir.path());
  EXPECT_EQ(cli.exit_code, 2);
  EXPECT_NE(cli.err.find("config.json"), std::string::npos) << cli.err;
  cli = run_nativelm("sft " + dir.file("base") + " " + dir.file("bad.jsonl") + " -o " + dir.file("r") +
                         " --max-length 100000",
                     dir.path());
  EXPECT_EQ(cli.exit_code, 2);
  EXPECT_NE(cli.err.find("--max-length"), std::string::npos) << cli.err;
}

TEST(SftRun, CommandLineRunPrintsTheCounts) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  auto data = write_data(dir, "chat.jsonl", 120);
  auto r = run_nativelm("--threads 1 sft " + dir.file("base") + " " + data + " -o " + dir.file("run") +
                            " --steps 3 --batch-size 4 --max-length 64 --lr 1e-3 --eval-fraction 0.1 --packing none",
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("fine-tuned 3 steps on 107 of 120 records (1 bad, 0 truncated, 0 dropped)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("eval loss"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("chat.jsonl:101"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nlm::testing
