// The `synth prefs` run: per shard of prompts, the samples (from one or two endpoints), their
// checks, the judge calls, and the chosen/rejected decision in prompt order (run_prefs.h).
#include "synth/run_prefs.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "eval/judge/prompts.h"
#include "eval/judge/verdict.h"
#include "synth/generate.h"
#include "synth/synth_run.h"
#include "train/sft_data.h"

namespace nlm::synth {

namespace {

const char* const kHint = "give JSONL files of prompts (prompt, or messages)";
using eval::judge::ChatMessage;
using eval::judge::ChatReply;
using eval::judge::JudgeMode;
using eval::judge::Verdict;

// Every prompt read ends in exactly one of bad_input, too_few_answers .. kept; the answer_* steps
// count answers (each sampled answer ends in one of answer_failed .. answers_passed).
const std::vector<std::string> kFunnel = {"prompts",
                                          "bad_input",
                                          "requests",
                                          "answers",
                                          "answer_failed",
                                          "answer_truncated",
                                          "answer_malformed",
                                          "answer_too_short",
                                          "answer_too_long",
                                          "answer_wrong_language",
                                          "answer_duplicate",
                                          "answers_passed",
                                          "too_few_answers",
                                          "judge_requests",
                                          "judge_failed",
                                          "judge_unparsed",
                                          "tie",
                                          "unclear",
                                          "contaminated",
                                          "duplicate",
                                          "kept"};

struct Item : InputRecord {
  std::vector<ChatMessage> conversation;  // the prompt as chat messages
  std::vector<size_t> samples;            // indices into the shard's sample requests
  std::vector<size_t> passed;             // of samples: the answers that passed the checks
  std::vector<size_t> judge_calls;        // indices into the shard's judge requests
};

struct Sample {
  size_t item = 0;
  int k = 0;  // sample number within the prompt
  ChatReply reply;
};

struct JudgeCall {
  size_t item = 0;
  size_t a = 0, b = 0;  // positions in the item's `passed`; pairwise shows a as Assistant A
  std::string user;
  ChatReply reply;
};

// The prompt of `r` as chat messages, or why it has none.
std::string read_prompt(const ojson& r, std::vector<ChatMessage>& out) {
  const ojson* p = r.contains("prompt") ? &r["prompt"] : r.contains("messages") ? &r["messages"] : nullptr;
  if (!p) return "the record has neither \"prompt\" nor \"messages\"";
  if (p->is_string()) {
    if (p->get<std::string>().empty()) return "the prompt is empty";
    out.push_back({"user", p->get<std::string>()});
    return "";
  }
  if (!p->is_array() || p->empty()) return "the prompt is neither a string nor a non-empty list of messages";
  for (size_t i = 0; i < p->size(); ++i) {
    const auto& m = (*p)[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
        !m["content"].is_string())
      return "message " + std::to_string(i) + " lacks a \"role\" or a \"content\" string";
    out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  if (out.back().role != "user") return "the conversation does not end with a user message";
  return "";
}

// The judge's {question}: the user's message, or the whole conversation for several turns.
std::string question_of(const std::vector<ChatMessage>& conv) {
  if (conv.size() == 1) return conv[0].content;
  std::string q;
  for (const auto& m : conv) {
    std::string role = m.role;
    if (!role.empty()) role[0] = char(std::toupper(static_cast<unsigned char>(role[0])));
    q += (q.empty() ? "" : "\n\n") + role + ": " + m.content;
  }
  return q;
}

std::string prompt_key(const std::vector<ChatMessage>& conv) {
  std::string key;
  for (const auto& m : conv) key += m.role + ":" + normalize_key(m.content) + "\t";
  return key;
}

class Prefs {
 public:
  Prefs(const std::vector<std::string>& inputs, const SynthOptions& o)
      : inputs_(inputs), o_(o), checks_(o), limiter_(run_limiter(o)), pairwise_(o.judge_mode == JudgeMode::Pairwise) {
    if (!o.prompt.empty() || !o.prompt_file.empty())
      usage_error("synth prefs sends each input prompt as it is; --prompt and --prompt-file do not apply", "--prompt",
                  "set the judge's prompt with --judge-prompt or --judge-prompt-file");
    pick_judge_prompt();
    two_ = !o.endpoint_b.empty() || !o.model_b.empty();
    model_b_ = o.model_b.empty() ? o.model : o.model_b;
    gen_a_ = std::make_unique<Workers>(
        o, Workers::Endpoint{o.endpoint, o.model, "generator", o.max_tokens, o.temperature}, limiter_);
    if (two_)
      gen_b_ = std::make_unique<Workers>(o,
                                         Workers::Endpoint{o.endpoint_b.empty() ? o.endpoint : o.endpoint_b, model_b_,
                                                           "generator B", o.max_tokens, o.temperature},
                                         limiter_);
    judge_model_ = o.judge_model.empty() ? o.model : o.judge_model;
    judge_ = std::make_unique<Workers>(o,
                                       Workers::Endpoint{o.judge_endpoint.empty() ? o.endpoint : o.judge_endpoint,
                                                         judge_model_, "judge", o.judge_max_tokens, 0},
                                       limiter_);
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
            if (items[i].bad.empty()) items[i].bad = read_prompt(items[i].record, items[i].conversation);
          }
          do_shard(k, items);
        });
    totals_.shards = shard;
    bad_.report();
    finish_run(o_, kFunnel, totals_,
               {{"judge_model", judge_model_},
                {"judge_mode", pairwise_ ? "pairwise" : "single"},
                {"judge_prompt", judge_prompt_.name}},
               out);
    return totals_;
  }

 private:
  void pick_judge_prompt() {
    std::vector<eval::judge::JudgePrompt> book;
    if (!o_.judge_prompt_file.empty()) book = eval::judge::load_prompts(o_.judge_prompt_file);
    for (const auto& p : eval::judge::builtin_prompts()) book.push_back(p);
    const std::string name = !o_.judge_prompt.empty() ? o_.judge_prompt : pairwise_ ? "pair-v2" : "single-v1";
    const eval::judge::JudgePrompt* found = nullptr;
    for (const auto& p : book)
      if (p.name == name) {
        found = &p;
        break;
      }
    if (!found)
      usage_error("no judge prompt is named " + echoed(name, 60), "--judge-prompt",
                  "use pair-v2 or single-v1, or a name from --judge-prompt-file");
    if (found->pairwise != pairwise_)
      usage_error("the judge prompt " + echoed(name, 60) + " is a " + (found->pairwise ? "pairwise" : "single") +
                      " prompt, but --judge-mode is " + (pairwise_ ? "pairwise" : "single"),
                  "--judge-prompt", "pick a prompt of the mode's type");
    for (const auto& f : eval::judge::template_fields(found->templ, "prompt " + found->name))
      if (!(f == "question" || (pairwise_ ? (f == "answer_a" || f == "answer_b") : f == "answer")))
        usage_error("the judge prompt " + echoed(name, 60) + " uses {" + printable(f, 40) +
                        "}, which synth prefs does not fill (there is no reference answer)",
                    "--judge-prompt",
                    pairwise_ ? "use {question}, {answer_a}, {answer_b}" : "use {question}, {answer}");
    judge_prompt_ = *found;
  }

  ojson run_identity() const {
    return {{"task", "prefs"},
            {"inputs", input_paths(inputs_)},
            {"model", o_.model},
            {"model_b", two_ ? ojson(model_b_) : ojson(nullptr)},
            {"judge_model", judge_model_},
            {"judge_mode", pairwise_ ? "pairwise" : "single"},
            {"judge_prompt", {{"system", judge_prompt_.system}, {"template", judge_prompt_.templ}}},
            {"judge_max_tokens", o_.judge_max_tokens},
            {"margin", o_.margin},
            {"samples", o_.samples},
            {"max_tokens", o_.max_tokens},
            {"temperature", o_.temperature},
            {"lang", o_.lang},
            {"lid_model", o_.lid_model},
            {"min_lang_score", o_.min_lang_score},
            {"min_chars", o_.min_chars},
            {"max_chars", o_.max_chars},
            {"benchmark", benchmark_ids(o_.benchmark)},
            {"decontam_ngram", o_.decontam_ngram},
            {"shard_chunks", o_.shard_chunks}};
  }

  // Why an answer is not judged, or nullptr. `seen` holds the prompt's answers kept so far.
  const char* check_answer(const ChatReply& r, std::vector<std::string>& seen) {
    if (!r.ok) return "answer_failed";
    if (r.finish_reason == "length") return "answer_truncated";
    const std::string a = trimmed(r.content);
    if (a.empty()) return "answer_malformed";
    if (int64_t(a.size()) < o_.min_chars) return "answer_too_short";
    if (int64_t(a.size()) > o_.max_chars) return "answer_too_long";
    if (!checks_.right_language(a)) return "answer_wrong_language";
    const std::string key = normalize_key(a);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) return "answer_duplicate";
    seen.push_back(key);
    return nullptr;
  }

  void do_shard(uint64_t shard, std::vector<Item>& items) {
    if (resume_shard(*store_, shard, items.size(), totals_, [&](const ojson& r) {
          std::vector<ChatMessage> conv;
          if (read_prompt(r, conv).empty()) checks_.remember(prompt_key(conv));
        }))
      return;
    ShardOutcome res;
    Counts& c = res.counts;
    // The samples: sample k of a prompt comes from endpoint B when k is odd and B is given.
    std::vector<Sample> samples;
    std::vector<size_t> on_a, on_b;
    for (size_t i = 0; i < items.size(); ++i) {
      ++c["prompts"];
      if (bad_.skip(items[i], c)) continue;
      for (int k = 0; k < o_.samples; ++k) {
        items[i].samples.push_back(samples.size());
        (two_ && k % 2 ? on_b : on_a).push_back(samples.size());
        samples.push_back({i, k, {}});
      }
    }
    auto sample = [&](Workers& w, const std::vector<size_t>& which) {
      w.run(which.size(), [&](eval::judge::ChatClient& client, size_t j) {
        Sample& s = samples[which[j]];
        s.reply = client.complete(items[s.item].conversation);
      });
    };
    sample(*gen_a_, on_a);
    if (two_) sample(*gen_b_, on_b);

    // The answers' checks, then the judge calls of the prompts with two answers or more.
    std::vector<JudgeCall> calls;
    for (size_t i = 0; i < items.size(); ++i) {
      Item& it = items[i];
      if (!it.bad.empty()) continue;
      std::vector<std::string> seen;
      for (size_t s : it.samples) {
        const ChatReply& r = samples[s].reply;
        ++c["requests"];
        ++c["answers"];
        res.prompt_tokens += r.prompt_tokens;
        res.completion_tokens += r.completion_tokens;
        if (!r.ok) log::warn("request for " + it.where + " failed: " + r.error);
        if (const char* why = check_answer(r, seen)) {
          ++c[why];
          continue;
        }
        ++c["answers_passed"];
        it.passed.push_back(s);
      }
      if (it.passed.size() < 2) continue;
      const std::string question = question_of(it.conversation);
      auto answer = [&](size_t p) { return trimmed(samples[it.passed[p]].reply.content); };
      if (pairwise_) {
        for (size_t a = 0; a < it.passed.size(); ++a)
          for (size_t b = a + 1; b < it.passed.size(); ++b)
            for (int order = 0; order < 2; ++order) {  // both orders, after MT-Bench
              const size_t x = order ? b : a, y = order ? a : b;
              it.judge_calls.push_back(calls.size());
              calls.push_back(
                  {i,
                   x,
                   y,
                   eval::judge::render(judge_prompt_.templ,
                                       {{"question", question}, {"answer_a", answer(x)}, {"answer_b", answer(y)}}),
                   {}});
            }
      } else {
        for (size_t a = 0; a < it.passed.size(); ++a) {
          it.judge_calls.push_back(calls.size());
          calls.push_back(
              {i, a, a, eval::judge::render(judge_prompt_.templ, {{"question", question}, {"answer", answer(a)}}), {}});
        }
      }
    }
    judge_->run(calls.size(), [&](eval::judge::ChatClient& client, size_t j) {
      calls[j].reply = client.complete(judge_prompt_.system, calls[j].user);
    });

    // The decisions, in prompt order.
    for (auto& it : items) {
      if (!it.bad.empty()) continue;
      if (it.passed.size() < 2) {
        ++c["too_few_answers"];
        continue;
      }
      bool failed = false, unparsed = false;
      for (size_t j : it.judge_calls) {
        const ChatReply& r = calls[j].reply;
        ++c["judge_requests"];
        res.prompt_tokens += r.prompt_tokens;
        res.completion_tokens += r.completion_tokens;
        if (!r.ok) {
          failed = true;
          log::warn("judge request for " + it.where + " failed: " + r.error);
        }
      }
      if (failed) {
        ++c["judge_failed"];
        continue;
      }
      const size_t n = it.passed.size();
      std::vector<double> score(n, 0);
      // Pairwise: the combined verdict of each pair (both orders; disagreement is a tie).
      std::vector<std::vector<int>> beats(n, std::vector<int>(n, 0));  // 1: row beat column in both orders
      ojson judged = ojson::array();
      if (pairwise_) {
        for (size_t q = 0; q + 1 < it.judge_calls.size(); q += 2) {
          const JudgeCall &first = calls[it.judge_calls[q]], &second = calls[it.judge_calls[q + 1]];
          const auto v1 = eval::judge::parse_verdict(first.reply.content);
          const auto v2 = eval::judge::parse_verdict(second.reply.content);
          if (!v1 || !v2) {
            unparsed = true;
            break;
          }
          const Verdict v = eval::judge::combine(*v1, eval::judge::unswap(*v2));
          const size_t a = first.a, b = first.b;
          if (v == Verdict::A) score[a] += 1, beats[a][b] = 1;
          if (v == Verdict::B) score[b] += 1, beats[b][a] = 1;
          if (v == Verdict::Tie) score[a] += 0.5, score[b] += 0.5;
          judged.push_back({{"a", a},
                            {"b", b},
                            {"verdicts", {eval::judge::verdict_name(*v1), eval::judge::verdict_name(*v2)}},
                            {"winner", eval::judge::verdict_name(v)}});
        }
      } else {
        for (size_t j : it.judge_calls) {
          const auto r = eval::judge::parse_rating(calls[j].reply.content);
          if (!r) {
            unparsed = true;
            break;
          }
          score[calls[j].a] = *r;
        }
      }
      if (unparsed) {
        ++c["judge_unparsed"];
        continue;
      }
      size_t best = 0, worst = 0;
      for (size_t a = 1; a < n; ++a) {
        if (score[a] > score[best]) best = a;
        if (score[a] < score[worst]) worst = a;
      }
      if (score[best] == score[worst]) {
        ++c["tie"];
        continue;
      }
      const bool clear = pairwise_ ? beats[best][worst] == 1 : score[best] - score[worst] >= o_.margin;
      if (!clear) {
        ++c["unclear"];
        continue;
      }
      const std::string chosen = trimmed(samples[it.passed[best]].reply.content);
      const std::string rejected = trimmed(samples[it.passed[worst]].reply.content);
      if (checks_.contaminated(question_of(it.conversation) + "\n" + chosen)) {
        ++c["contaminated"];
        continue;
      }
      const std::string key = prompt_key(it.conversation);
      if (checks_.seen(key)) {
        ++c["duplicate"];
        continue;
      }
      checks_.remember(key);
      ojson prompt = ojson::array();
      for (const auto& m : it.conversation) prompt.push_back({{"role", m.role}, {"content", m.content}});
      auto model_of = [&](size_t p) { return two_ && samples[it.passed[p]].k % 2 ? model_b_ : o_.model; };
      ojson out = {{"prompt", prompt},
                   {"chosen", ojson::array({{{"role", "assistant"}, {"content", chosen}}})},
                   {"rejected", ojson::array({{{"role", "assistant"}, {"content", rejected}}})}};
      out["id"] = it.record.contains("id") ? it.record["id"] : ojson(it.where);
      out["lang"] = o_.lang;
      out["source"] = it.where;
      ojson scores = ojson::array();
      for (double s : score) scores.push_back(s);
      out["judge"] = {{"mode", pairwise_ ? "pairwise" : "single"},
                      {"prompt", judge_prompt_.name},
                      {"model", judge_model_},
                      {pairwise_ ? "points" : "ratings", scores},
                      {"chosen", best},
                      {"rejected", worst}};
      if (pairwise_) out["judge"]["pairs"] = judged;
      out["synth"] = {{"task", "prefs"}, {"model_chosen", model_of(best)}, {"model_rejected", model_of(worst)}};
      ++c["kept"];
      res.records += dump_line(out) + "\n";
    }
    store_->publish(shard, items.size(), res);
    add_outcome(totals_, res);
  }

  const std::vector<std::string>& inputs_;
  const SynthOptions& o_;
  OutputChecks checks_;
  std::shared_ptr<eval::judge::RateLimiter> limiter_;
  bool pairwise_, two_ = false;
  std::string model_b_, judge_model_;
  eval::judge::JudgePrompt judge_prompt_;
  std::unique_ptr<Workers> gen_a_, gen_b_, judge_;
  ShardStore* store_ = nullptr;
  SynthTotals totals_;
  BadInputs bad_;
};

}  // namespace

SynthTotals run_prefs(const std::vector<std::string>& inputs, const SynthOptions& options, std::ostream& out) {
  Prefs p(inputs, options);
  return p.run(out);
}

}  // namespace nlm::synth
