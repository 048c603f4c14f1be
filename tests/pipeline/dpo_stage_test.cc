// The dpo stage of `nativelm build`: after an sft stage it trains the fine-tuned model on
// preference pairs into its own folder, reports the counts, eval reward figures, loss curves and
// reward charts (report.html draws each), and a later build with nothing changed skips it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pipeline/pipeline.h"
#include "train/sft_fixture.h"

using namespace nlm;
using namespace nlm::testing;

namespace {

TEST(Build, DpoStageTrainsTheSftModelOnPairs) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  write_text(dir.file("in.txt"), "Tá an aimsir go deas.\n");
  std::string chats, pairs = "{\"prompt\": \"x\"}\n";  // one bad pair: no chosen, no rejected
  for (int i = 0; i < 20; ++i) {
    const std::string& user = irish_lines()[static_cast<size_t>(i) % 8];
    chats += chat_record(user, kIrishAnswer) + "\n";
    pairs += nlohmann::json{{"prompt", user}, {"chosen", kIrishAnswer}, {"rejected", "Níl."}}.dump() + "\n";
  }
  write_text(dir.file("chat.jsonl"), chats);
  write_text(dir.file("pairs.jsonl"), pairs);
  const std::string yaml = "work_dir: " + dir.file("work") + "\ninputs: [" + dir.file("in.txt") +
                           "]\nstages:\n  sft:\n    model: " + dir.file("base") + "\n    data: [" +
                           dir.file("chat.jsonl") + "]\n    steps: 2\n    max_length: 64\n    log_every: 0\n" +
                           "  dpo:\n    data: [" + dir.file("pairs.jsonl") +
                           "]\n    steps: 2\n    max_length: 64\n    batch_size: 2\n    log_every: 0\n"
                           "    eval_fraction: 0.1\n    chat_prompt: true\n";
  write_text(dir.file("p.yaml"), yaml);
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r = pipeline::run_build(spec, {});
  ASSERT_EQ(r.ran, 2);
  auto report = nlohmann::json::parse(read_text(r.report_json));
  nlohmann::json summary = report["stages"][1]["summary"];
  EXPECT_EQ(summary["steps"], 2);
  EXPECT_EQ(summary["records"], 21);
  EXPECT_EQ(summary["bad"], 1);
  EXPECT_EQ(summary["eval_pairs"], 2);
  EXPECT_TRUE(summary.contains("eval_rewards/accuracies")) << summary.dump();
  // Curves from metrics.jsonl: the losses, and the reward figures on charts of their own.
  ASSERT_EQ(summary["charts"].size(), 4u);
  nlohmann::json loss = summary["charts"][0];
  EXPECT_EQ(loss["y_label"], "DPO loss (mean over pairs)");
  EXPECT_EQ(loss["curves"]["train loss"].size(), 2u);
  EXPECT_EQ(loss["curves"]["eval loss"].size(), 1u);
  nlohmann::json accuracy = summary["charts"][1];
  EXPECT_EQ(accuracy["title"], "Reward accuracy");
  EXPECT_EQ(accuracy["curves"]["train"].size(), 2u);
  ASSERT_EQ(accuracy["curves"]["eval"].size(), 1u);
  EXPECT_NEAR(accuracy["curves"]["eval"][0][1].get<double>(), summary["eval_rewards/accuracies"].get<double>(), 1e-5);
  nlohmann::json rewards = summary["charts"][2];
  EXPECT_EQ(rewards["curves"]["margin"].size(), 2u);
  EXPECT_EQ(rewards["curves"]["eval margin"].size(), 1u);
  EXPECT_EQ(rewards["curves"]["chosen"].size(), 2u);
  EXPECT_EQ(rewards["curves"]["rejected"].size(), 2u);
  EXPECT_EQ(summary["charts"][3]["curves"]["chosen"].size(), 2u);
  std::string html = read_text(r.report_html);
  size_t section = html.find("<h2>dpo</h2>");
  ASSERT_NE(section, std::string::npos);
  EXPECT_NE(html.find("DPO loss (mean over pairs)", section), std::string::npos);
  for (const char* h : {"<h3>Loss curves</h3><svg", "<h3>Reward accuracy</h3><svg", "<h3>Rewards</h3><svg",
                        "<h3>Log-probabilities of the responses</h3><svg"})
    EXPECT_NE(html.find(h, section), std::string::npos) << h;
  EXPECT_TRUE(std::filesystem::exists(dir.file("work/dpo/model/config.json")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("work/dpo/reference_logps.json")));
  auto spec2 = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r2 = pipeline::run_build(spec2, {});
  EXPECT_EQ(r2.ran, 0);
}

}  // namespace
