// The build report: report.json with every figure the stages returned, and report.html, one
// self-contained page (inline CSS and SVG charts, no scripts, nothing fetched when it is viewed)
// with the curation funnel, language mix, dedup clusters, tokenizer figures, loss curves, bits per
// byte and sample generations — whichever stages the pipeline has.
#pragma once
#include <string>
#include <vector>

namespace nlm::pipeline {

struct StageReport {
  std::string name;
  std::string status;   // why it ran or was skipped
  double seconds = 0;   // of the run that produced its output
  std::string summary;  // the stage's JSON figures
  bool ran = false;     // ran in this build (else reused)
};

struct ReportData {
  std::string name;
  std::string pipeline;
  std::vector<StageReport> stages;
};

std::string report_json(const ReportData& data);
std::string report_html(const ReportData& data);

}  // namespace nlm::pipeline
