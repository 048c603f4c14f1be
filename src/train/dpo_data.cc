// Reading DPO preference pairs (see dpo_data.h).
#include "train/dpo_data.h"

#include <nlohmann/json.hpp>

namespace nlm::train {

namespace {

using Json = nlohmann::ordered_json;

// A response as assistant messages: a string becomes one assistant turn.
Json as_messages(const Json& response) {
  if (response.is_array()) return response;
  return Json::array({{{"role", "assistant"}, {"content", response}}});
}

}  // namespace

bool dpo_sides(const Json& record, const std::string& where, Json& chosen, Json& rejected, std::string& error) {
  const Json* prompt = nullptr;
  if (record.contains("prompt")) prompt = &record["prompt"];
  else if (record.contains("messages")) prompt = &record["messages"];
  for (const char* key : {"chosen", "rejected"})
    if (!record.contains(key)) {
      error = where + ": no `" + key + "`";
      return false;
    } else if (!record[key].is_string() && !record[key].is_array()) {
      error = where + ": `" + key + "` is neither a string nor a list of messages";
      return false;
    }
  if (!prompt) {
    error = where + ": no `prompt` (or `messages`)";
    return false;
  }
  if (!prompt->is_string() && !prompt->is_array()) {
    error = where + ": `prompt` is neither a string nor a list of messages";
    return false;
  }
  const Json &c = record["chosen"], &r = record["rejected"];
  if (prompt->is_string() && c.is_string() && r.is_string()) {
    chosen = {{"prompt", *prompt}, {"completion", c}};
    rejected = {{"prompt", *prompt}, {"completion", r}};
    return true;
  }
  Json head = prompt->is_array() ? *prompt : Json::array({{{"role", "user"}, {"content", *prompt}}});
  chosen = {{"messages", head}};
  rejected = {{"messages", head}};
  for (const auto& m : as_messages(c)) chosen["messages"].push_back(m);
  for (const auto& m : as_messages(r)) rejected["messages"].push_back(m);
  return true;
}

DpoSplit read_dpo_files(const std::vector<std::string>& files, const data::SftEncoder& encoder, bool strict) {
  DpoSplit out;
  auto each = [&](const Json* record, const std::string& where) {
    ++out.records;
    data::SftResult r;  // the pair's outcome, counted once
    Json cj, rj;
    data::SftResult sides[2];
    if (!record) {
      r.status = data::SftStatus::Bad;
      r.error = where + ": not a JSON object";
    } else if (!dpo_sides(*record, where, cj, rj, r.error)) {
      r.status = data::SftStatus::Bad;
    } else {
      sides[0] = encoder.encode(cj, where + " (chosen)");
      sides[1] = encoder.encode(rj, where + " (rejected)");
      for (auto& s : sides) {
        if ((s.status == data::SftStatus::Ok || s.status == data::SftStatus::Truncated) && !has_loss(s.example.mask)) {
          s.status = data::SftStatus::Dropped;
          s.error = where + ": a response has no token left in the loss";
        }
        if (s.status == data::SftStatus::Bad || (s.status == data::SftStatus::Dropped && r.status != data::SftStatus::Bad) ||
            (s.status == data::SftStatus::Truncated && r.status == data::SftStatus::Ok)) {
          r.status = s.status;
          r.error = s.error;
        }
      }
    }
    if (strict && r.status == data::SftStatus::Bad) fail_strict(r.error, where);
    out.counts.add(r);
    if (r.status == data::SftStatus::Ok || r.status == data::SftStatus::Truncated)
      for (auto& s : sides) out.examples.push_back({std::move(s.example.ids), std::move(s.example.mask)});
  };
  for_each_record(files, "name JSONL files of prompt/chosen/rejected records", each);
  return out;
}

DpoSplit hold_out_pairs(DpoSplit& train, double fraction, uint64_t seed) {
  DpoSplit eval;
  const size_t n = train.pairs();
  std::vector<char> held = held_out(n, fraction, seed);
  std::vector<SftTokens> kept;
  for (size_t i = 0; i < n; ++i)
    for (size_t s = 0; s < 2; ++s)
      (held[i] ? eval.examples : kept).push_back(std::move(train.examples[2 * i + s]));
  train.examples = std::move(kept);
  eval.counts.ok = eval.pairs();
  eval.records = eval.pairs();
  return eval;
}

std::string describe(const DpoSplit& s) {
  const auto& c = s.counts;
  std::string t = std::to_string(s.pairs()) + " pairs of " + std::to_string(s.records) + " records (" +
                  std::to_string(c.bad) + " bad, " + std::to_string(c.truncated) + " truncated, " +
                  std::to_string(c.dropped) + " dropped)";
  for (const auto& e : c.first_errors) t += "\n  " + e;
  return t;
}

}  // namespace nlm::train
