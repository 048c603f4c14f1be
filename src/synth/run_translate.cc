// The `synth translate` run: records read in shards, each translatable message masked and sent,
// the translations checked in record order and written with the record's structure (run_translate.h).
#include "synth/run_translate.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "curate/lang_codes.h"
#include "eval/judge/prompts.h"
#include "synth/generate.h"
#include "synth/synth_run.h"
#include "synth/translate_text.h"
#include "text/utf8.h"
#include "train/sft_data.h"

namespace nlm::synth {

namespace {

const char* const kHint = "give JSONL files of SFT records (messages, or prompt/completion)";

// The funnel: every record read ends in bad_input or, once sent, in exactly one of
// request_failed .. kept. "requests" and "messages_verbatim" count messages.
const std::vector<std::string> kFunnel = {
    "records",   "bad_input",     "messages_verbatim",    "requests",         "request_failed", "truncated",
    "malformed", "code_mismatch", "placeholder_mismatch", "bad_length_ratio", "wrong_language", "contaminated",
    "duplicate", "kept"};
// The per-message checks in the order a record's rejection is named by.
const char* const kChecks[] = {"request_failed",       "truncated",        "malformed",     "code_mismatch",
                               "placeholder_mismatch", "bad_length_ratio", "wrong_language"};
constexpr size_t kRatioMinChars = 20;  // shorter sources are not held to the length ratio
constexpr size_t kLidMinWords = 4;     // shorter translations are too short for language ID

const char* const kSystem = "You are a professional translator.";

// One text of a record to translate: a message's content or the prompt / completion.
struct Unit {
  size_t item = 0;
  std::string key;  // "prompt" / "completion", or "" for messages[index]
  size_t index = 0;
  MaskedText masked;
};

struct Item : InputRecord {
  std::vector<size_t> units;
};

// Why `r` is not a record translate can take, or "".
std::string shape_error(const ojson& r) {
  if (r.contains("messages")) {
    const auto& ms = r["messages"];
    if (!ms.is_array() || ms.empty()) return "\"messages\" is not a non-empty list";
    for (size_t i = 0; i < ms.size(); ++i) {
      const auto& m = ms[i];
      const std::string at = "message " + std::to_string(i);
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) return at + " has no \"role\" string";
      if (!m.contains("content")) return at + " has no \"content\"";
      const auto& c = m["content"];
      if (c.is_null() && m.contains("tool_calls")) continue;
      if (!c.is_string()) return at + "'s \"content\" is not a string (content part lists are not translated)";
    }
    return "";
  }
  if (r.contains("prompt") || r.contains("completion")) {
    if (!r.contains("prompt") || !r["prompt"].is_string()) return "\"prompt\" is missing or not a string";
    if (!r.contains("completion") || !r["completion"].is_string()) return "\"completion\" is missing or not a string";
    return "";
  }
  return "the record has neither \"messages\" nor \"prompt\"/\"completion\"";
}

// The dedup key of a record: its texts, normalised, in order.
std::string key_of(const ojson& r) {
  std::string key;
  if (r.contains("messages") && r["messages"].is_array()) {
    for (const auto& m : r["messages"])
      key += (m.contains("content") && m["content"].is_string() ? normalize_key(m["content"].get<std::string>()) : "") +
             "\t";
  } else {
    for (const char* k : {"prompt", "completion"})
      key += (r.contains(k) && r[k].is_string() ? normalize_key(r[k].get<std::string>()) : "") + "\t";
  }
  return key;
}

class Translator {
 public:
  Translator(const std::vector<std::string>& inputs, const SynthOptions& o)
      : inputs_(inputs),
        o_(o),
        checks_(o),
        limiter_(run_limiter(o)),
        workers_(o, {o.endpoint, o.model, "generator", o.max_tokens, o.temperature}, limiter_) {
    templ_ = load_template(o, {"source_language", "language", "text"}, prompt_name_);
    language_ = curate::language_name(o.lang);
    if (language_.empty()) language_ = o.lang;
    source_language_ = curate::language_name(o.source_lang);
    if (source_language_.empty()) source_language_ = o.source_lang;
  }

  SynthTotals run(std::ostream& out) {
    require_inputs(inputs_, kHint);
    ShardStore store(o_, run_identity());
    store_ = &store;
    const uint64_t shard =
        for_each_record_shard(inputs_, o_, kHint, [&](uint64_t k, std::vector<InputRecord>& records) {
          std::vector<Item> items(records.size());
          for (size_t i = 0; i < records.size(); ++i) {
            static_cast<InputRecord&>(items[i]) = std::move(records[i]);
            if (items[i].bad.empty()) items[i].bad = shape_error(items[i].record);
          }
          do_shard(k, items);
        });
    totals_.shards = shard;
    bad_.report();
    finish_run(o_, kFunnel, totals_, {{"source_lang", o_.source_lang}, {"prompt", prompt_name_}}, out);
    return totals_;
  }

 private:
  ojson run_identity() const {
    return {{"task", "translate"},
            {"inputs", input_paths(inputs_)},
            {"model", o_.model},
            {"max_tokens", o_.max_tokens},
            {"temperature", o_.temperature},
            {"lang", o_.lang},
            {"source_lang", o_.source_lang},
            {"prompt", templ_},
            {"translate_system", o_.translate_system},
            {"min_length_ratio", o_.min_length_ratio},
            {"max_length_ratio", o_.max_length_ratio},
            {"lid_model", o_.lid_model},
            {"min_lang_score", o_.min_lang_score},
            {"benchmark", benchmark_ids(o_.benchmark)},
            {"decontam_ngram", o_.decontam_ngram},
            {"shard_chunks", o_.shard_chunks}};
  }

  // The texts of `it` to send; the rest of its messages stay as they are (counted).
  void collect_units(size_t item, Item& it, std::vector<Unit>& units, Counts& c) {
    auto add = [&](const std::string& key, size_t index, const std::string& text) {
      Unit u;
      u.item = item;
      u.key = key;
      u.index = index;
      u.masked = mask_code(text);
      if (!has_prose(u.masked)) {
        ++c["messages_verbatim"];  // code only, or empty
        return;
      }
      it.units.push_back(units.size());
      units.push_back(std::move(u));
    };
    if (it.record.contains("messages")) {
      const auto& ms = it.record["messages"];
      for (size_t i = 0; i < ms.size(); ++i) {
        const std::string role = ms[i]["role"].get<std::string>();
        if (!ms[i]["content"].is_string() || role == "tool" || ms[i].contains("tool_calls") ||
            (role == "system" && !o_.translate_system)) {
          ++c["messages_verbatim"];
          continue;
        }
        add("", i, ms[i]["content"].get<std::string>());
      }
    } else {
      add("prompt", 0, it.record["prompt"].get<std::string>());
      add("completion", 0, it.record["completion"].get<std::string>());
    }
  }

  // The first check unit `u` fails (an index into kChecks), or -1; `text` gets its translation.
  int check_unit(const Unit& u, const eval::judge::ChatReply& reply, std::string& text, double& lang_score) {
    if (!reply.ok) return 0;
    if (reply.finish_reason == "length") return 1;
    const std::string t = trimmed(reply.content);
    if (t.empty()) return 2;
    auto restored = unmask(t, u.masked);
    if (!restored) return 3;
    if (placeholders(t) != placeholders(u.masked.text)) return 4;
    const std::string src = strip_markers(u.masked.text, u.masked), dst = strip_markers(t, u.masked);
    const size_t src_chars = text::utf8_length(src);
    if (src_chars >= kRatioMinChars) {
      const double ratio = double(text::utf8_length(dst)) / double(src_chars);
      if (ratio < o_.min_length_ratio || ratio > o_.max_length_ratio) return 5;
    }
    if (words_of(dst).size() >= kLidMinWords) {
      double score = 0;
      if (!checks_.right_language(dst, &score)) return 6;
      lang_score = std::min(lang_score, score);
    }
    text = std::move(*restored);
    return -1;
  }

  void do_shard(uint64_t shard, std::vector<Item>& items) {
    if (resume_shard(*store_, shard, items.size(), totals_, [&](const ojson& r) { checks_.remember(key_of(r)); }))
      return;
    ShardOutcome res;
    Counts& c = res.counts;
    std::vector<Unit> units;
    for (size_t k = 0; k < items.size(); ++k) {
      ++c["records"];
      if (!bad_.skip(items[k], c)) collect_units(k, items[k], units, c);
    }
    std::vector<eval::judge::ChatReply> replies(units.size());
    workers_.run(units.size(), [&](eval::judge::ChatClient& client, size_t i) {
      const Unit& u = units[i];
      replies[i] = client.complete(kSystem, eval::judge::render(templ_, {{"source_language", source_language_},
                                                                         {"language", language_},
                                                                         {"text", u.masked.text}}));
    });

    // Quality control in record order.
    for (auto& it : items) {
      if (!it.bad.empty()) continue;
      int worst = -1;
      double lang_score = 1;
      std::vector<std::string> texts(it.units.size());
      for (size_t j = 0; j < it.units.size(); ++j) {
        const size_t i = it.units[j];
        ++c["requests"];
        res.prompt_tokens += replies[i].prompt_tokens;
        res.completion_tokens += replies[i].completion_tokens;
        if (!replies[i].ok) log::warn("request for " + it.where + " failed: " + replies[i].error);
        const int r = check_unit(units[i], replies[i], texts[j], lang_score);
        if (r >= 0 && (worst < 0 || r < worst)) worst = r;
      }
      if (worst >= 0) {
        ++c[kChecks[worst]];
        continue;
      }
      ojson out = it.record;
      std::string whole;
      for (size_t j = 0; j < it.units.size(); ++j) {
        const Unit& u = units[it.units[j]];
        if (u.key.empty())
          out["messages"][u.index]["content"] = texts[j];
        else
          out[u.key] = texts[j];
        whole += texts[j] + "\n";
      }
      if (checks_.contaminated(whole)) {
        ++c["contaminated"];
        continue;
      }
      const std::string key = key_of(out);
      if (checks_.seen(key)) {
        ++c["duplicate"];
        continue;
      }
      checks_.remember(key);
      if (!out.contains("id")) out["id"] = it.where;
      out["lang"] = o_.lang;
      out["lang_score"] = lang_score;
      out["source_lang"] = o_.source_lang;
      out["source"] = it.where;
      out["synth"] = {{"task", "translate"}, {"prompt", prompt_name_}, {"model", o_.model}};
      ++c["kept"];
      res.records += dump_line(out) + "\n";
    }
    store_->publish(shard, items.size(), res);
    add_outcome(totals_, res);
  }

  const std::vector<std::string>& inputs_;
  const SynthOptions& o_;
  std::string templ_, prompt_name_, language_, source_language_;
  OutputChecks checks_;
  std::shared_ptr<eval::judge::RateLimiter> limiter_;
  Workers workers_;
  ShardStore* store_ = nullptr;
  SynthTotals totals_;
  BadInputs bad_;
};

}  // namespace

SynthTotals run_translate(const std::vector<std::string>& inputs, const SynthOptions& options, std::ostream& out) {
  Translator t(inputs, options);
  return t.run(out);
}

}  // namespace nlm::synth
