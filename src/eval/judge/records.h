// The judge's input records: one JSON object per line, {"question", "answer", "reference"?} for
// single grading or {"question", "answer_a", "answer_b", "reference"?, "model_a"?, "model_b"?}
// for pairwise judging, with an optional "id". Lines that do not fit are skipped with file:line.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eval/judge/judge_options.h"

namespace nlm::eval::judge {

struct JudgeRecord {
  uint64_t line = 0;    // 1-based line in the input file
  std::string id_json;  // the record's "id" as JSON text; "" = none
  std::string question, answer, answer_a, answer_b, model_a, model_b;
  std::optional<std::string> reference;
  // What a resumed run matches a finished judgment by: the id, else the line number.
  std::string key() const { return id_json.empty() ? "line:" + std::to_string(line) : "id:" + id_json; }
};

struct RecordSet {
  std::vector<JudgeRecord> records;
  std::vector<std::string> skipped;  // "file:line: why", one per skipped line
};

// Reads `path` (JSONL, .gz/.zst/.bz2 too). Blank lines are ignored; a line that is not a JSON
// object, lacks a string field the mode needs, has "turns" (multi-turn MT-Bench records are not
// supported) or repeats an earlier id is skipped.
RecordSet read_records(const std::string& path, JudgeMode mode);

}  // namespace nlm::eval::judge
