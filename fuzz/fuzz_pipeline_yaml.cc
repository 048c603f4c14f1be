// Fuzzes pipeline files (pipeline::parse_pipeline): YAML through yaml-cpp, then every stage's
// keys through the options schema. A malformed file must be a usage error naming key and line.
#include "fuzz_util.h"
#include "pipeline/pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlm::fuzz::expect_only_nlm_errors([&] {
    std::string yaml(nlm::fuzz::as_view(data, size));
    nlm::pipeline::PipelineSpec spec =
        nlm::pipeline::parse_pipeline(yaml, nlm::fuzz::scratch_dir() + "/pipeline.yaml");
    // A spec that parsed has what the checks promise: a work folder, inputs and stages.
    if (spec.work_dir.empty() || spec.inputs.empty() || spec.stages.empty()) std::abort();
  });
  return 0;
}
