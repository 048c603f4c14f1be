// Curves for the report: read_curves turns a run's metrics.jsonl into name -> [[step, value]]
// (skipping lines it cannot use), chart() keeps the curves with points, and report.html draws
// a summary's "curves" and each of its "charts" with its own title and y axis label.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pipeline/metric_curves.h"
#include "pipeline/report.h"
#include "test_util.h"

using nlohmann::json;
using nlm::testing::TempDir;

namespace {

TEST(ReportCharts, ReadCurvesTakesTheNamedKeysOfEachStep) {
  TempDir dir;
  nlm::testing::write_text(dir.file("metrics.jsonl"),
                           "{\"step\":1,\"loss\":2.5,\"rewards/accuracies\":0.5}\n"
                           "not json\n"
                           "{\"loss\":9}\n"                      // no step
                           "{\"step\":\"2\",\"loss\":9}\n"       // step is not a number
                           "{\"step\":2,\"loss\":2.0,\"rewards/accuracies\":0.75}\n"
                           "{\"step\":2,\"eval_loss\":2.2,\"eval_rewards/accuracies\":1}\n");
  json c = nlm::pipeline::read_curves(dir.file("metrics.jsonl"), {{"train loss", "loss"},
                                                                  {"eval loss", "eval_loss"},
                                                                  {"accuracy", "rewards/accuracies"},
                                                                  {"none", "no_such_key"}});
  EXPECT_EQ(c["train loss"], json::parse("[[1,2.5],[2,2.0]]"));
  EXPECT_EQ(c["eval loss"], json::parse("[[2,2.2]]"));
  EXPECT_EQ(c["accuracy"], json::parse("[[1,0.5],[2,0.75]]"));
  EXPECT_EQ(c["none"], json::array());
  EXPECT_EQ(nlm::pipeline::last_value(c["train loss"], -1), 2.0);
  EXPECT_EQ(nlm::pipeline::last_value(c["none"], -1), -1);
  // A run that wrote nothing yet: every curve, empty.
  json none = nlm::pipeline::read_curves(dir.file("missing.jsonl"), {{"train loss", "loss"}});
  EXPECT_EQ(none, json::parse("{\"train loss\": []}"));
  // chart() leaves out curves without points.
  json ch = nlm::pipeline::chart("Reward accuracy", "share", {{"train", c["accuracy"]}, {"eval", json::array()}});
  EXPECT_EQ(ch["title"], "Reward accuracy");
  EXPECT_EQ(ch["y_label"], "share");
  EXPECT_TRUE(ch["curves"].contains("train"));
  EXPECT_FALSE(ch["curves"].contains("eval"));
}

TEST(ReportCharts, HtmlDrawsTheLossCurvesAndEachChart) {
  nlm::pipeline::ReportData data;
  data.name = "charts";
  data.pipeline = "p.yaml";
  json dpo = {{"final_train_loss", 0.6},
              {"curves", {{"train loss", json::parse("[[1,0.69],[2,0.6]]")}}},
              {"charts", json::array({nlm::pipeline::chart("Reward accuracy", "share of pairs <chosen>",
                                                           {{"train", json::parse("[[1,0.5],[2,0.75]]")}}),
                                      nlm::pipeline::chart("Rewards", "reward (beta x log-ratio)",
                                                           {{"margin", json::parse("[[1,0.1],[2,0.3]]")}}),
                                      nlm::pipeline::chart("Empty", "nothing", {{"x", json::array()}})})}};
  data.stages.push_back({"dpo", "not run before", 1.0, dpo.dump(), true});
  std::string html = nlm::pipeline::report_html(data);
  EXPECT_NE(html.find("<h3>Loss curves</h3>"), std::string::npos);
  EXPECT_NE(html.find("loss (nats/token)"), std::string::npos);
  EXPECT_NE(html.find("<h3>Reward accuracy</h3>"), std::string::npos);
  EXPECT_NE(html.find("share of pairs &lt;chosen&gt;"), std::string::npos);  // the y label, escaped
  EXPECT_NE(html.find("<h3>Rewards</h3>"), std::string::npos);
  EXPECT_NE(html.find("reward (beta x log-ratio)"), std::string::npos);
  EXPECT_EQ(html.find("<h3>Empty</h3>"), std::string::npos);  // no curve with a point: no chart
  // Three line charts (loss, accuracy, rewards), each a polyline per curve.
  size_t polylines = 0;
  for (size_t at = html.find("<polyline"); at != std::string::npos; at = html.find("<polyline", at + 1)) ++polylines;
  EXPECT_EQ(polylines, 3u);
  // The charts are drawn, not listed among the figures.
  EXPECT_EQ(html.find("charts."), std::string::npos);
  EXPECT_NE(html.find("final_train_loss"), std::string::npos);
}

}  // namespace
