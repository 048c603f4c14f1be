// report.html in a real browser: headless Chromium (Debian's package) opens a report with every
// kind of section (synth's with Thai samples holding markup characters), takes a screenshot, and
// logs no console message. A page that does log one is checked first, so the console check is
// known to work.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "pipeline/report.h"
#include "test_util.h"

using nlm::testing::TempDir;
using nlm::testing::write_text;
namespace fs = std::filesystem;

namespace {

struct Shot {
  int exit_code = -1;
  std::string log;
  uintmax_t png_bytes = 0;
};

Shot screenshot(const std::string& html_path, const std::string& png, const TempDir& dir) {
  std::string log = dir.file("chromium.log");
  std::string cmd =
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--user-data-dir=" + dir.file("profile") +
      " --enable-logging=stderr --v=0 --window-size=1000,2000 --screenshot=" + png + " file://" +
      html_path + " >" + log + " 2>&1";
  Shot s;
  s.exit_code = std::system(cmd.c_str());
  s.log = nlm::testing::read_text(log);
  std::error_code ec;
  s.png_bytes = fs::file_size(png, ec);
  if (ec) s.png_bytes = 0;
  return s;
}

bool has_console_message(const std::string& log) { return log.find(":CONSOLE") != std::string::npos; }

TEST(ReportBrowser, ChromiumRendersReportWithoutConsoleErrors) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh installs it)";
  TempDir dir;

  // The check itself: a page that logs to the console is caught.
  write_text(dir.file("noisy.html"), "<html><body><script>console.error('planted')</script></body></html>");
  Shot noisy = screenshot(dir.file("noisy.html"), dir.file("noisy.png"), dir);
  ASSERT_TRUE(has_console_message(noisy.log)) << noisy.log;

  using nlohmann::json;
  nlm::pipeline::ReportData data;
  data.name = "Gaeilge <test> & report";
  data.pipeline = "p.yaml";
  json curate = {{"docs_in", 1000},
                 {"funnel", json::array({{{"step", "lid"}, {"remaining", 700}}, {{"step", "gopher_quality"}, {"remaining", 500}}})},
                 {"languages", {{"ga", 480}, {"en", 20}}},
                 {"bytes_in", 123456}};
  json dedup = {{"cluster_sizes", json::array({{{"size", 2}, {"clusters", 40}}, {{"size", 3}, {"clusters", 5}}})},
                {"largest_clusters", json::array({{{"cluster_size", 3}, {"id", "d1"}, {"excerpt", "Dia dhuit <b>"}}})}};
  json tok = {{"fertility", {{"ga", {{"fertility", 1.4}, {"bytes_per_token", 3.9}}}}}};
  json train = {{"curves", {{"train loss", json::array({{1, 8.1}, {2, 6.5}, {3, 5.2}})},
                            {"eval loss", json::array({{2, 6.9}, {3, 5.9}})}}},
                {"final_eval_bits_per_byte", 2.1}};
  json dpo = {{"curves", {{"train loss", json::array({{1, 0.69}, {2, 0.6}})}}},
             {"charts", json::array({{{"title", "Reward accuracy"},
                                      {"y_label", "share of pairs (chosen > rejected)"},
                                      {"curves", {{"train", json::array({{1, 0.5}, {2, 0.75}})}}}}})}};
  json eval = {{"bits_per_byte", 2.05}, {"samples", json::array({{{"prompt", "Is maith"}, {"completion", " liom tae"}}})}};
  json synth = {{"synth",
                 {{"task", "qa"},
                  {"funnel", json::array({{{"step", "chunks"}, {"count", 4}, {"rejected", false}},
                                          {{"step", "candidates"}, {"count", 8}, {"rejected", false}},
                                          {{"step", "wrong_language"}, {"count", 3}, {"rejected", true}},
                                          {{"step", "kept"}, {"count", 5}, {"rejected", false}}})},
                  {"tokens", {{"prompt", 400}, {"completion", 28}}},
                  {"cost_usd", 0.0012},
                  {"samples", json::array({{{"source", "th0"},
                                            {"input", "ร้านนี้ขายหนังสืออะไร?"},
                                            {"output", "ขายหนังสือชื่อ <ภาษาไทยวันละคำ> & พจนานุกรม"}},
                                           {{"source", "eu1"},
                                            {"input", "Zer dago Bilbon?"},
                                            {"output", "Guggenheim museoa dago Bilbon."}}})}}},
                {"records", 5}};
  for (auto& [name, summary] : std::vector<std::pair<std::string, json>>{{"curate", curate},
                                                                        {"dedup", dedup},
                                                                        {"synth", synth},
                                                                        {"tokenizer", tok},
                                                                        {"train", train},
                                                                        {"dpo", dpo},
                                                                        {"eval", eval}})
    data.stages.push_back({name, "not run before", 1.5, summary.dump(), true});
  write_text(dir.file("report.html"), nlm::pipeline::report_html(data));

  Shot shot = screenshot(dir.file("report.html"), dir.file("report.png"), dir);
  EXPECT_EQ(shot.exit_code, 0) << shot.log;
  EXPECT_GT(shot.png_bytes, 20000u) << "the screenshot is missing or blank";
  EXPECT_FALSE(has_console_message(shot.log)) << shot.log;
  std::string png = nlm::testing::read_text(dir.file("report.png"));
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // Kept for a person to look at when NATIVELM_REPORT_SHOT names a path.
  if (const char* keep = std::getenv("NATIVELM_REPORT_SHOT")) fs::copy_file(dir.file("report.png"), keep, fs::copy_options::overwrite_existing);
}

}  // namespace
