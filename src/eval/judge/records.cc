// Reading and checking the judge's JSONL records (records.h).
#include "eval/judge/records.h"

#include <nlohmann/json.hpp>
#include <set>

#include "core/compressed_stream.h"
#include "core/error.h"
#include "core/line_reader.h"

namespace nlm::eval::judge {

namespace {

// Why `j` cannot be a record of `mode`, or "" when it can; fills `r`.
std::string fill(const nlohmann::json& j, JudgeMode mode, JudgeRecord& r) {
  if (!j.is_object()) return "not a JSON object";
  if (j.contains("turns"))
    return "\"turns\" (multi-turn records) is not supported; give \"question\" and the answer(s)";
  auto text = [&](const char* key, std::string& into, bool required) -> std::string {
    if (!j.contains(key) || j[key].is_null()) return required ? std::string("no \"") + key + "\" string" : "";
    if (!j[key].is_string()) return std::string("\"") + key + "\" is not a string";
    into = j[key].get<std::string>();
    return "";
  };
  std::string why = text("question", r.question, true);
  if (mode == JudgeMode::Single) {
    if (why.empty()) why = text("answer", r.answer, true);
  } else {
    if (why.empty()) why = text("answer_a", r.answer_a, true);
    if (why.empty()) why = text("answer_b", r.answer_b, true);
    if (why.empty()) why = text("model_a", r.model_a, false);
    if (why.empty()) why = text("model_b", r.model_b, false);
  }
  std::string ref;
  if (why.empty()) why = text("reference", ref, false);
  if (why.empty() && j.contains("reference") && !j["reference"].is_null()) r.reference = ref;
  if (why.empty() && j.contains("id") && !j["id"].is_null()) {
    if (!j["id"].is_string() && !j["id"].is_number_integer()) return "\"id\" is not a string or an integer";
    r.id_json = j["id"].dump();
  }
  return why;
}

}  // namespace

RecordSet read_records(const std::string& path, JudgeMode mode) {
  RecordSet set;
  auto in = InputStream::open(path);
  LineReader lines(*in);
  std::string_view line;
  std::set<std::string> ids;
  while (lines.next(line)) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    JudgeRecord r;
    r.line = lines.line_number();
    const auto j = nlohmann::json::parse(line, nullptr, false);
    std::string why = j.is_discarded() ? "not JSON" : fill(j, mode, r);
    if (why.empty() && !r.id_json.empty() && !ids.insert(r.id_json).second)
      why = "id " + printable(r.id_json, 40) + " repeats an earlier record's";
    if (!why.empty()) {
      set.skipped.push_back(printable(path, 120) + ":" + std::to_string(r.line) + ": " + why);
      continue;
    }
    set.records.push_back(std::move(r));
  }
  return set;
}

}  // namespace nlm::eval::judge
