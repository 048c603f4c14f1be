// The sft stage of `nativelm build`: it fine-tunes a named model on chat JSONL into its folder,
// reports its counts and loss curves (report.html draws them), is skipped when nothing changed
// and reruns when the data file changes; with neither a model key nor a train stage before it,
// the error names the stage.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "pipeline/pipeline.h"
#include "train/sft_fixture.h"

using namespace nlm;
using namespace nlm::testing;
namespace fs = std::filesystem;

namespace {

std::string chats(int n, const std::string& answer) {
  std::string t = "not json\n";  // one bad record
  for (int i = 0; i < n; ++i) t += chat_record(irish_lines()[static_cast<size_t>(i) % 8], answer) + "\n";
  return t;
}

pipeline::BuildResult build(const std::string& file) {
  auto spec = pipeline::load_pipeline(file);
  return pipeline::run_build(spec, {});
}

TEST(Build, SftStageFineTunesRerunsOnDataChangeAndNamesErrors) {
  TempDir dir;
  write_tiny_chat_model(dir.file("base"), 16, 1);
  write_text(dir.file("in.txt"), "Tá an aimsir go deas.\n");
  write_text(dir.file("chat.jsonl"), chats(20, kIrishAnswer));
  const std::string yaml = "work_dir: " + dir.file("work") + "\ninputs: [" + dir.file("in.txt") +
                           "]\nstages:\n  sft:\n    model: " + dir.file("base") + "\n    data: [" +
                           dir.file("chat.jsonl") + "]\n    steps: 3\n    max_length: 64\n    batch_size: 2\n"
                           "    log_every: 0\n    eval_fraction: 0.1\n";
  write_text(dir.file("p.yaml"), yaml);
  auto r = build(dir.file("p.yaml"));
  ASSERT_EQ(r.ran, 1);
  auto report = nlohmann::json::parse(read_text(r.report_json));
  nlohmann::json summary = report["stages"][0]["summary"];
  EXPECT_EQ(summary["steps"], 3);
  EXPECT_EQ(summary["records"], 21);
  EXPECT_EQ(summary["bad"], 1);
  EXPECT_EQ(summary["eval_examples"], 2);
  EXPECT_GE(summary["final_eval_loss"].template get<double>(), 0.0);
  auto cfg = nlohmann::json::parse(read_text(dir.file("work/sft/model/tokenizer_config.json")));
  EXPECT_EQ(cfg["chat_template"], kChatml);
  // Without from_corpus its keys are not among the options: the fingerprint is the command's options.
  auto state = nlohmann::json::parse(read_text(dir.file("work/sft/stage.json")));
  EXPECT_FALSE(state["options"].contains("from_corpus")) << state["options"].dump();
  // The loss curves come from the run's metrics.jsonl: every step, and the eval at the end.
  ASSERT_EQ(summary["curves"]["train loss"].size(), 3u);
  EXPECT_EQ(summary["curves"]["train loss"][2][0], 3);
  EXPECT_NEAR(summary["curves"]["train loss"][2][1].get<double>(), summary["final_train_loss"].get<double>(), 1e-5);
  ASSERT_EQ(summary["curves"]["eval loss"].size(), 1u);
  EXPECT_NEAR(summary["curves"]["eval loss"][0][1].get<double>(), summary["final_eval_loss"].get<double>(), 1e-5);
  std::string html = read_text(r.report_html);
  size_t section = html.find("<h2>sft</h2>");
  ASSERT_NE(section, std::string::npos);
  EXPECT_NE(html.find("<h3>Loss curves</h3><svg", section), std::string::npos);

  // Nothing changed: skipped. The data file changed: rerun.
  auto r2 = build(dir.file("p.yaml"));
  EXPECT_EQ(r2.ran, 0);
  write_text(dir.file("chat.jsonl"), chats(24, kIrishAnswer));
  auto r3 = build(dir.file("p.yaml"));
  EXPECT_EQ(r3.ran, 1);

  // No model and no train stage before it.
  write_text(dir.file("q.yaml"), "work_dir: " + dir.file("work2") + "\ninputs: [" + dir.file("in.txt") +
                                     "]\nstages:\n  sft:\n    data: [" + dir.file("chat.jsonl") + "]\n");
  try {
    build(dir.file("q.yaml"));
    ADD_FAILURE() << "an sft stage without a model ran";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sft stage has no model"), std::string::npos) << e.what();
  }
  // out_dir belongs to the pipeline.
  EXPECT_THROW(pipeline::parse_pipeline("work_dir: w\ninputs: [x]\nstages:\n  sft:\n    out_dir: o\n", "p.yaml"),
               Error);
}

}  // namespace
