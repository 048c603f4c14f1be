// A task's documents and what its templates make of them: rows from local JSONL or CSV files,
// and doc_to_text / doc_to_target / doc_to_choice rendered as lm-eval renders them (a field
// name gives the field, an int gives itself, anything else is a Jinja template over the doc's
// fields, which are also reachable as `doc`). Rows that lack a field the split's first row has
// or a template reads (lm-eval's StrictUndefined would raise), or whose target or choices do not
// fit, are skipped and counted with their file:line.
#pragma once
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/tasks/task_config.h"

namespace nlm::eval::tasks {

struct Doc {
  nlohmann::ordered_json fields;
  std::string where;  // file:line
};

// Rows of a JSONL (.jsonl, .json as lines or as one array, .gz/.zst ok) or CSV file (header row;
// a column whose cells are all integers becomes ints, as the datasets library's CSV loader).
// Rows that are not JSON objects, and rows missing a key of the first row, are appended to
// `skipped` ("file:line: why") and left out.
std::vector<Doc> read_docs(const std::string& path, std::vector<std::string>& skipped);

// What the task's templates make of one doc.
struct RenderedDoc {
  std::string description;           // description
  std::string text;                  // doc_to_text
  std::vector<std::string> choices;  // doc_to_choice (multiple_choice)
  int64_t gold = -1;                 // index into choices
  std::string target;                // doc_to_target as text (the gold choice for multiple_choice)
};

class TaskTemplates {
 public:
  explicit TaskTemplates(const TaskConfig& config);
  ~TaskTemplates();
  // Renders all keys; a doc whose target or choices do not fit is a data error: returns false
  // with `why` set. Template errors are usage errors naming the key and file:line.
  bool render(const Doc& doc, RenderedDoc& out, std::string& why) const;

 private:
  bool render_fields(const Doc& doc, RenderedDoc& out, std::string& why) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Python's literal list of strings (repr of a list: ['a', "b\n"]); false if `s` is not one.
bool parse_python_string_list(const std::string& s, std::vector<std::string>& out);

}  // namespace nlm::eval::tasks
