// A task file: the documented subset of lm-evaluation-harness's task YAML (docs/eval.md, "Task
// files") parsed into TaskConfig. Keys outside the subset, and features of the subset nativelm
// does not implement (!function, include, remote datasets), are usage errors naming the key and
// file:line; nothing is silently ignored.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace nlm::eval::tasks {

enum class OutputType { MultipleChoice, Loglikelihood, LoglikelihoodRolling, GenerateUntil };

// A template-or-constant key: doc_to_text, doc_to_target, doc_to_choice.
struct TemplateKey {
  bool present = false;
  bool is_int = false;               // doc_to_target: 1 (a fixed index)
  int64_t int_value = 0;
  bool is_list = false;              // doc_to_choice: [a, b] (each item a template)
  std::vector<std::string> list;
  std::string text;                  // a field name or a Jinja template
  std::string where;                 // file:line, for errors while rendering
};

struct TaskConfig {
  std::string task;
  std::string file;                                // the YAML file
  std::map<std::string, std::string> split_files;  // split name -> local JSONL or CSV path
  std::string test_split, validation_split, training_split, fewshot_split;
  OutputType output_type = OutputType::GenerateUntil;
  TemplateKey doc_to_text, doc_to_target, doc_to_choice;
  TemplateKey description;                         // a template, rendered with the evaluated doc
  std::string target_delimiter = " ";
  std::string fewshot_delimiter = "\n\n";
  int num_fewshot = -1;                            // -1 = not set (0)
  std::string sampler = "default";                 // fewshot_config.sampler: default | first_n
  std::vector<std::string> metrics;                // metric_list[].metric, in file order
  std::map<std::string, bool> ignore_case;         // exact_match option per metric
  std::vector<std::string> until;                  // generation_kwargs.until (unset: fewshot_delimiter)
  bool until_set = false;
  int max_gen_toks = 256;
  std::string regex_filter;                        // filter_list: regex pattern (with take_first)
  std::string filter_name = "none";                // the filter's name, the "metric,filter" suffix
  double version = 0;                              // metadata.version
  std::string eval_split() const { return test_split.empty() ? validation_split : test_split; }
  std::string few_split() const;
};

// Reads and checks a task file. Dataset paths are resolved against the file's folder.
TaskConfig load_task(const std::string& path);
// The same from YAML text (file names errors and anchors relative paths).
TaskConfig parse_task(const std::string& yaml_text, const std::string& file);

const char* output_type_name(OutputType t);

}  // namespace nlm::eval::tasks
