// The judge prompts: MT-Bench's (FastChat's judge_prompts.jsonl: single-v1, single-math-v1,
// pair-v2, pair-math-v1) kept as data, prompts users load from a file of the same shape, and the
// rendering of a template with Python str.format's rules ({name} fields, {{ and }} for braces).
#pragma once
#include <map>
#include <string>
#include <vector>

namespace nlm::eval::judge {

struct JudgePrompt {
  std::string name;
  bool pairwise = false;  // FastChat's "type": "single" or "pairwise"
  std::string system;     // system message
  std::string templ;      // user message template: {question}, {answer} / {answer_a} {answer_b}, {ref_answer_1}
};

// The four built-in prompts, word for word as MT-Bench's.
const std::vector<JudgePrompt>& builtin_prompts();

// Prompts read from `path`: one JSON object, or JSONL with one per line, each with "name",
// "type" ("single" or "pairwise"), "system_prompt" and "prompt_template" (other keys, such as
// FastChat's "description" and "output_format", are ignored). Usage errors name file:line.
std::vector<JudgePrompt> load_prompts(const std::string& path);

// The fields `templ` uses, in order of first use; a template that is not valid str.format text
// (a lone brace, an index or format spec) is a usage error naming `prompt_name`.
std::vector<std::string> template_fields(const std::string& templ, const std::string& prompt_name);

// `templ` with each {field} replaced by values.at(field) and {{ }} by { }. Values are inserted
// as they are (braces in an answer are not read as fields). A field without a value throws.
std::string render(const std::string& templ, const std::map<std::string, std::string>& values);

}  // namespace nlm::eval::judge
