// The examples of an SFT run: JSONL files of chat (`messages`) or prompt/completion records,
// each encoded by data::SftEncoder into ids and a loss mask, kept in memory (SFT sets are small:
// 5 bytes per token), with every bad, dropped and truncated record counted, and a held-out
// split (a seeded fraction of the examples, or separate files) for the eval loss.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/sft_example.h"

namespace nlm::train {

// One encoded example: ids[t] and mask[t] = 1 when predicting ids[t] is in the loss.
struct SftTokens {
  std::vector<uint32_t> ids;
  std::vector<uint8_t> mask;
};

struct SftSplit {
  std::vector<SftTokens> examples;
  data::SftCounts counts;  // over the records read for this split
  uint64_t records = 0;    // non-empty lines read
};

// Reads every non-empty line of `files` (JSONL, optionally .gz/.zst/.bz2) and encodes it. A line
// that is not a JSON object is a bad record "file:line: ..."; an example whose loss tokens all lie
// on its first token (nothing to predict) is counted as dropped. Records are named "file:line".
// Missing or unreadable files are usage errors; with `strict`, so is the first bad record.
SftSplit read_sft_files(const std::vector<std::string>& files, const data::SftEncoder& encoder,
                        bool strict = false);

// Moves round(fraction · n) examples (at least one when fraction > 0 and n ≥ 2), chosen by a
// seeded shuffle, from `train` to a new split; its counts hold only ok (the records were counted
// in train's). The train split keeps at least one example.
SftSplit hold_out(SftSplit& train, double fraction, uint64_t seed);

// The pieces read_sft_files and hold_out are made of, shared with DPO's pairs (dpo_data.h):
// calls fn(record, "file:line") for every non-empty line of `files`, record null when the line is
// not a JSON object (missing files: usage error with `hint`);
void for_each_record(const std::vector<std::string>& files, const std::string& hint,
                     const std::function<void(const nlohmann::ordered_json*, const std::string&)>& fn);
// the --strict usage error for a bad record's "file:line: why";
[[noreturn]] void fail_strict(const std::string& error, const std::string& where);
// whether a mask trains anything (a 1 after the first token);
bool has_loss(const std::vector<uint8_t>& mask);
// and which of n items hold_out moves (1 = held out).
std::vector<char> held_out(size_t n, double fraction, uint64_t seed);

// Adds a split's bad, truncated and dropped counts and first errors to a run result (sft's and
// dpo's), keeping at most SftCounts::kMaxErrors errors.
template <class Result>
void add_counts(Result& r, const data::SftCounts& c) {
  r.bad += c.bad;
  r.truncated += c.truncated;
  r.dropped += c.dropped;
  for (const auto& e : c.first_errors)
    if (r.first_errors.size() < data::SftCounts::kMaxErrors) r.first_errors.push_back(e);
}

// Tokens in the loss over a set of examples (targets 1..L−1 with mask 1).
uint64_t loss_tokens(const std::vector<SftTokens>& examples);

// "997 examples (3 bad, 2 truncated, 0 dropped)" and the first errors, one per line.
std::string describe(const SftSplit& split);

}  // namespace nlm::train
