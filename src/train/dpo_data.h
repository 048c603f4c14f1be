// The preference pairs of a DPO run: JSONL records with a prompt (`prompt` string, or a `prompt`
// or `messages` list of chat messages) and a `chosen` and a `rejected` response (strings, or lists
// of assistant messages). Each side is encoded by data::SftEncoder as prompt + response with the
// loss mask on the response only (a chat record through the model's chat template, a plain one as
// prompt + completion + EOS), so DPO scores exactly the tokens SFT would train on. Bad records
// are counted (or fatal with strict) naming file:line and the missing field.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/sft_example.h"
#include "train/sft_data.h"

namespace nlm::train {

struct DpoSplit {
  // examples[2i] is pair i's chosen sequence, examples[2i+1] its rejected one.
  std::vector<SftTokens> examples;
  data::SftCounts counts;  // per record (a pair counts once)
  uint64_t records = 0;
  size_t pairs() const { return examples.size() / 2; }
};

// Turns one DPO record into the two SFT records of its sides ({"prompt","completion"} or
// {"messages"}); false with `error` ("file:line: no `chosen`") when the record lacks a field or
// has one of the wrong type.
bool dpo_sides(const nlohmann::ordered_json& record, const std::string& where, nlohmann::ordered_json& chosen,
               nlohmann::ordered_json& rejected, std::string& error);

// Reads and encodes every non-empty line of `files`; with `strict` the first bad record is a
// usage error. A pair whose either side has no loss token left (truncation) is dropped.
DpoSplit read_dpo_files(const std::vector<std::string>& files, const data::SftEncoder& encoder, bool strict = false);

// Moves a seeded fraction of the pairs to a new split (see hold_out in sft_data.h).
DpoSplit hold_out_pairs(DpoSplit& train, double fraction, uint64_t seed);

// "997 pairs of 1000 records (3 bad, 0 truncated, 0 dropped)" and the first errors.
std::string describe(const DpoSplit& split);

}  // namespace nlm::train
