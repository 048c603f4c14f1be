// Reading and encoding SFT records, and the held-out split (see sft_data.h).
#include "train/sft_data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
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

// Keeps an example when predicting one of ids[1..] is in the loss (the first token has no
// context, so its mask bit cannot train anything).
bool has_loss(const data::SftExample& ex) {
  for (size_t t = 1; t < ex.mask.size(); ++t)
    if (ex.mask[t]) return true;
  return false;
}

}  // namespace

SftSplit read_sft_files(const std::vector<std::string>& files, const data::SftEncoder& encoder, bool strict) {
  SftSplit out;
  for (const auto& path : files) {
    if (path != "-" && !std::filesystem::is_regular_file(path))
      usage_error("no such data file", path, "name JSONL files of chat or prompt/completion records");
    auto in = InputStream::open(path);
    LineReader lines(*in);
    std::string_view line;
    while (lines.next(line)) {
      if (blank(line)) continue;
      ++out.records;
      const std::string where = path + ":" + std::to_string(lines.line_number());
      data::SftResult r;
      auto record = nlohmann::ordered_json::parse(line, nullptr, false);
      if (record.is_discarded() || !record.is_object()) {
        r.status = data::SftStatus::Bad;
        r.error = where + ": not a JSON object";
      } else {
        r = encoder.encode(record, where);
      }
      if ((r.status == data::SftStatus::Ok || r.status == data::SftStatus::Truncated) && !has_loss(r.example)) {
        r.status = data::SftStatus::Dropped;
        r.error = where + ": no token to predict in the loss (the example is one token long or only its first "
                          "token is masked in)";
      }
      if (strict && r.status == data::SftStatus::Bad) {
        std::string why = r.error.starts_with(where + ": ") ? r.error.substr(where.size() + 2) : r.error;
        usage_error("bad record: " + why, where, "fix or remove the record, or drop --strict to skip and count it");
      }
      out.counts.add(r);
      if (r.status == data::SftStatus::Ok || r.status == data::SftStatus::Truncated)
        out.examples.push_back({std::move(r.example.ids), std::move(r.example.mask)});
    }
  }
  return out;
}

SftSplit hold_out(SftSplit& train, double fraction, uint64_t seed) {
  SftSplit eval;
  const size_t n = train.examples.size();
  if (!(fraction > 0) || n < 2) return eval;
  size_t k = static_cast<size_t>(std::llround(fraction * static_cast<double>(n)));
  k = std::clamp<size_t>(k, 1, n - 1);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  uint64_t rng = seed ^ 0xe7a1u;
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[splitmix64(rng) % i]);
  std::vector<char> held(n, 0);
  for (size_t i = 0; i < k; ++i) held[order[i]] = 1;
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
