// `nativelm eval judge`: LLM-as-judge over JSONL records against any OpenAI-compatible endpoint,
// after MT-Bench. Single mode grades each answer 1-10 ("[[rating]]"); pairwise mode asks for
// "[[A]]"/"[[B]]"/"[[C]]" in both orders and counts disagreement as a tie. Every record's
// prompts, raw judge outputs, parsed result and token usage go to OUTPUT/judgments.jsonl, line by
// line so an interrupted run resumes; OUTPUT/summary.json holds the totals.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>

#include "eval/judge/judge_options.h"

namespace nlm::eval::judge {

struct JudgeTotals {
  size_t records = 0;  // records judged (parsed + unparsed + failed)
  size_t parsed = 0, unparsed = 0, failed = 0, skipped = 0;
  size_t resumed = 0;                                       // records kept from an earlier run's judgments.jsonl
  double mean_score = 0;                                    // single mode: mean over the parsed records
  size_t wins = 0, losses = 0, ties = 0, inconsistent = 0;  // pairwise, from answer_a's side
  int64_t prompt_tokens = 0, completion_tokens = 0;
};

// Judges every record of `input` (JSONL, optionally compressed) and writes the output folder.
// Bad records are skipped and counted (the first five are printed with file:line); an endpoint
// that cannot be reached is a runtime error naming its URL. Prints a short summary to `out`.
JudgeTotals run_judge(const std::string& input, const JudgeOptions& options, std::ostream& out);

}  // namespace nlm::eval::judge
