// MT-Bench's judge prompts as data, prompt files, and str.format-style rendering (prompts.h).
#include "eval/judge/prompts.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace nlm::eval::judge {

namespace {

// The shared sentence of the single-answer prompts' instructions.
constexpr const char* kRateFormat =
    "After providing your explanation, you must rate the response on a scale of 1 to 10 by strictly following "
    "this format: \"[[rating]]\", for example: \"Rating: [[5]]\".";
constexpr const char* kPairVerdictFormat =
    "After providing your explanation, output your final verdict by strictly following this format: \"[[A]]\" if "
    "assistant A is better, \"[[B]]\" if assistant B is better, and \"[[C]]\" for a tie.";
constexpr const char* kPairFairness =
    "Avoid any positional biases and ensure that the order in which the responses were presented does not "
    "influence your decision. Do not allow the length of the responses to influence your evaluation. Do not favor "
    "certain names of the assistants. Be as objective as possible. ";

std::vector<JudgePrompt> make_builtins() {
  const std::string single_head =
      "[Instruction]\nPlease act as an impartial judge and evaluate the quality of the response provided by an AI "
      "assistant to the user question displayed below. ";
  const std::string answer_block = "[The Start of Assistant's Answer]\n{answer}\n[The End of Assistant's Answer]";
  const std::string ref_block = "[The Start of Reference Answer]\n{ref_answer_1}\n[The End of Reference Answer]\n\n";
  const std::string pair_blocks =
      "[The Start of Assistant A's Answer]\n{answer_a}\n[The End of Assistant A's Answer]\n\n"
      "[The Start of Assistant B's Answer]\n{answer_b}\n[The End of Assistant B's Answer]";
  const std::string pair_head =
      "Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants to "
      "the user question displayed below. ";
  std::vector<JudgePrompt> p;
  p.push_back({"single-v1", false, "You are a helpful assistant.",
               single_head +
                   "Your evaluation should consider factors such as the helpfulness, relevance, accuracy, depth, "
                   "creativity, and level of detail of the response. Begin your evaluation by providing a short "
                   "explanation. Be as objective as possible. " +
                   kRateFormat + "\n\n[Question]\n{question}\n\n" + answer_block});
  p.push_back({"single-math-v1", false, "You are a helpful assistant.",
               single_head +
                   "Your evaluation should consider correctness and helpfulness. You will be given a reference answer "
                   "and the assistant's answer. Begin your evaluation by comparing the assistant's answer with the "
                   "reference answer. Identify and correct any mistakes. Be as objective as possible. " +
                   kRateFormat + "\n\n[Question]\n{question}\n\n" + ref_block + answer_block});
  p.push_back({"pair-v2", true,
               pair_head +
                   "You should choose the assistant that follows the user's instructions and answers the user's "
                   "question better. Your evaluation should consider factors such as the helpfulness, relevance, "
                   "accuracy, depth, creativity, and level of detail of their responses. Begin your evaluation by "
                   "comparing the two responses and provide a short explanation. " +
                   kPairFairness + kPairVerdictFormat,
               "[User Question]\n{question}\n\n" + pair_blocks});
  p.push_back({"pair-math-v1", true,
               pair_head +
                   "Your evaluation should consider correctness and helpfulness. You will be given a reference "
                   "answer, assistant A's answer, and assistant B's answer. Your job is to evaluate which "
                   "assistant's answer is better. Begin your evaluation by comparing both assistants' answers with "
                   "the reference answer. Identify and correct any mistakes. " +
                   kPairFairness + kPairVerdictFormat,
               "[User Question]\n{question}\n\n" + ref_block + pair_blocks});
  return p;
}

// Walks `templ`, calling on_text for literal text and on_field for each {field}.
template <class Text, class Field>
void walk(const std::string& templ, const std::string& prompt_name, Text on_text, Field on_field) {
  for (size_t i = 0; i < templ.size();) {
    const char c = templ[i];
    if ((c == '{' || c == '}') && i + 1 < templ.size() && templ[i + 1] == c) {
      on_text(std::string(1, c));
      i += 2;
    } else if (c == '}') {
      usage_error("a single '}' in the prompt template", prompt_name, "write '}}' for a literal brace");
    } else if (c == '{') {
      const size_t end = templ.find('}', i);
      const std::string name = end == std::string::npos ? "" : templ.substr(i + 1, end - i - 1);
      bool ok = !name.empty();
      for (char ch : name) ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_');
      if (!ok)
        usage_error(
            "a '{' in the prompt template that does not start a {field}", prompt_name,
            "write '{{' for a literal brace; fields are {question}, {answer}, {answer_a}, {answer_b}, {ref_answer_1}");
      on_field(name);
      i = end + 1;
    } else {
      const size_t next = templ.find_first_of("{}", i);
      const size_t stop = next == std::string::npos ? templ.size() : next;
      on_text(templ.substr(i, stop - i));
      i = stop;
    }
  }
}

}  // namespace

const std::vector<JudgePrompt>& builtin_prompts() {
  static const std::vector<JudgePrompt> prompts = make_builtins();
  return prompts;
}

std::vector<JudgePrompt> load_prompts(const std::string& path) {
  const std::string text = read_file(path);
  std::vector<JudgePrompt> out;
  size_t line_no = 0;
  for (size_t at = 0; at < text.size();) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(at, nl - at);
    at = nl + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() && out.empty() && line_no == 1) {
      j = nlohmann::json::parse(text, nullptr, false);  // one object over several lines
      if (j.is_object()) at = text.size();
    }
    if (!j.is_object()) usage_error("a prompt is not a JSON object", where, "write one object per line (JSONL)");
    auto text_of = [&](const char* key) {
      if (!j.contains(key) || !j[key].is_string())
        usage_error(std::string("a prompt has no string \"") + key + "\"", where,
                    "give name, type, system_prompt and prompt_template as in FastChat's judge_prompts.jsonl");
      return j[key].get<std::string>();
    };
    JudgePrompt p;
    p.name = text_of("name");
    const std::string type = text_of("type");
    if (type != "single" && type != "pairwise")
      usage_error("a prompt's \"type\" is " + echoed(type, 40), where, "use \"single\" or \"pairwise\"");
    p.pairwise = type == "pairwise";
    p.system = text_of("system_prompt");
    p.templ = text_of("prompt_template");
    template_fields(p.templ, where);
    out.push_back(std::move(p));
  }
  if (out.empty()) usage_error("the prompt file has no prompts", path, "give one JSON object per line");
  return out;
}

std::vector<std::string> template_fields(const std::string& templ, const std::string& prompt_name) {
  std::vector<std::string> fields;
  walk(
      templ, prompt_name, [](const std::string&) {},
      [&](const std::string& f) {
        for (const auto& g : fields)
          if (g == f) return;
        fields.push_back(f);
      });
  return fields;
}

std::string render(const std::string& templ, const std::map<std::string, std::string>& values) {
  std::string out;
  walk(
      templ, "template", [&](const std::string& t) { out += t; },
      [&](const std::string& f) {
        auto it = values.find(f);
        if (it == values.end()) usage_error("the prompt template uses {" + f + "}, which the record does not give");
        out += it->second;
      });
  return out;
}

}  // namespace nlm::eval::judge
