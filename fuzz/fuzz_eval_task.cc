// Fuzzes lm-eval-style task files, the user-written input of `eval run --tasks`: the task YAML
// (eval::tasks::load_task), its data file (read_docs, JSONL or CSV) and the Jinja templates that
// render each document (TaskTemplates), as run_task uses them before any model is involved.
// Input: one mode byte (bit 0: the data file is docs.csv, else docs.jsonl), then the YAML, then a
// line "#DOCS" and the data file's bytes.
#include <string>
#include <vector>

#include "eval/tasks/task_config.h"
#include "eval/tasks/task_docs.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool csv = data[0] & 1;
  std::string_view rest = nlm::fuzz::as_view(data + 1, size - 1);
  const size_t cut = rest.find("\n#DOCS\n");
  const std::string_view yaml = rest.substr(0, cut);
  const std::string_view docs = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 7);
  // Both names exist, so a YAML that names the other one still reads a file.
  nlm::fuzz::write_input(csv ? "docs.csv" : "docs.jsonl", docs);
  nlm::fuzz::write_input(csv ? "docs.jsonl" : "docs.csv", "");
  nlm::fuzz::expect_only_nlm_errors([&] {
    const std::string path = nlm::fuzz::write_input("task.yaml", yaml);
    const nlm::eval::tasks::TaskConfig config = nlm::eval::tasks::load_task(path);
    const nlm::eval::tasks::TaskTemplates templates(config);
    for (const auto& [split, file] : config.split_files) {
      if (file.rfind(nlm::fuzz::scratch_dir(), 0) != 0) continue;  // only the files written here
      std::vector<std::string> skipped;
      const std::vector<nlm::eval::tasks::Doc> read = nlm::eval::tasks::read_docs(file, skipped);
      for (size_t i = 0; i < read.size() && i < 64; ++i) {
        nlm::eval::tasks::RenderedDoc out;
        std::string why;
        templates.render(read[i], out, why);
      }
    }
  });
  return 0;
}
