// Reading and encoding SFT records, and the held-out split (see sft_data.h).
#include "train/sft_data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/compressed_stream.h"
#include "core/error.h"
#include "core/line_reader.h"
#include "core/rng.h"

namespace nlm::train {

namespace {

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

bool has_loss(const std::vector<uint8_t>& mask) {
  for (size_t t = 1; t < mask.size(); ++t)
    if (mask[t]) return true;
  return false;
}

void for_each_record(const std::vector<std::string>& files, const std::string& hint,
                     const std::function<void(const nlohmann::ordered_json*, const std::string&)>& fn) {
  for (const auto& path : files) {
    if (path != "-" && !std::filesystem::is_regular_file(path)) usage_error("no such data file", path, hint);
    auto in = InputStream::open(path);
    LineReader lines(*in);
    std::string_view line;
    while (lines.next(line)) {
      if (blank(line)) continue;
      const std::string where = path + ":" + std::to_string(lines.line_number());
      auto record = nlohmann::ordered_json::parse(line, nullptr, false);
      fn(record.is_discarded() || !record.is_object() ? nullptr : &record, where);
    }
  }
}

void fail_strict(const std::string& error, const std::string& where) {
  std::string why = error.starts_with(where + ": ") ? error.substr(where.size() + 2) : error;
  usage_error("bad record: " + why, where, "fix or remove the record, or drop --strict to skip and count it");
}

SftSplit read_sft_files(const std::vector<std::string>& files, const data::SftEncoder& encoder, bool strict) {
  SftSplit out;
  auto each = [&](const nlohmann::ordered_json* record, const std::string& where) {
    ++out.records;
    data::SftResult r;
    if (!record) {
      r.status = data::SftStatus::Bad;
      r.error = where + ": not a JSON object";
    } else {
      r = encoder.encode(*record, where);
    }
    if ((r.status == data::SftStatus::Ok || r.status == data::SftStatus::Truncated) && !has_loss(r.example.mask)) {
      r.status = data::SftStatus::Dropped;
      r.error = where + ": no token to predict in the loss (the example is one token long or only its first "
                        "token is masked in)";
    }
    if (strict && r.status == data::SftStatus::Bad) fail_strict(r.error, where);
    out.counts.add(r);
    if (r.status == data::SftStatus::Ok || r.status == data::SftStatus::Truncated)
      out.examples.push_back({std::move(r.example.ids), std::move(r.example.mask)});
  };
  for_each_record(files, "name JSONL files of chat or prompt/completion records", each);
  return out;
}

std::vector<char> held_out(size_t n, double fraction, uint64_t seed) {
  std::vector<char> held(n, 0);
  if (!(fraction > 0) || n < 2) return held;
  size_t k = static_cast<size_t>(std::llround(fraction * static_cast<double>(n)));
  k = std::clamp<size_t>(k, 1, n - 1);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  uint64_t rng = seed ^ 0xe7a1u;
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[splitmix64(rng) % i]);
  for (size_t i = 0; i < k; ++i) held[order[i]] = 1;
  return held;
}

SftSplit hold_out(SftSplit& train, double fraction, uint64_t seed) {
  SftSplit eval;
  const size_t n = train.examples.size();
  std::vector<char> held = held_out(n, fraction, seed);
  if (std::find(held.begin(), held.end(), 1) == held.end()) return eval;
  std::vector<SftTokens> kept;
  for (size_t i = 0; i < n; ++i) (held[i] ? eval.examples : kept).push_back(std::move(train.examples[i]));
  train.examples = std::move(kept);
  eval.counts.ok = eval.examples.size();
  eval.records = eval.examples.size();
  return eval;
}

uint64_t loss_tokens(const std::vector<SftTokens>& examples) {
  uint64_t n = 0;
  for (const auto& e : examples)
    for (size_t t = 1; t < e.mask.size(); ++t) n += e.mask[t] != 0;
  return n;
}

std::string describe(const SftSplit& s) {
  const auto& c = s.counts;
  std::string t = std::to_string(s.examples.size()) + " examples of " + std::to_string(s.records) + " records (" +
                  std::to_string(c.bad) + " bad, " + std::to_string(c.truncated) + " truncated, " +
                  std::to_string(c.dropped) + " dropped)";
  for (const auto& e : c.first_errors) t += "\n  " + e;
  return t;
}

}  // namespace nlm::train
