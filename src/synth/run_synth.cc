// The `synth qa` / `synth rephrase` run: chunking, concurrent generation, quality control in
// chunk order, and resumable shards (run_synth.h); the other tasks are dispatched from here.
#include "synth/run_synth.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "corpus/reader.h"
#include "curate/lang_codes.h"
#include "eval/judge/prompts.h"
#include "synth/generate.h"
#include "synth/run_prefs.h"
#include "synth/run_translate.h"
#include "synth/synth_run.h"

namespace nlm::synth {

namespace {

// The funnel's steps in the order they are printed.
const std::vector<std::string> kFunnel = {"chunks",   "chunks_too_short", "requests",       "request_failed",
                                          "candidates", "malformed",      "truncated",      "too_short",
                                          "too_long",   "wrong_language", "ungrounded",     "copies_source",
                                          "contaminated", "duplicate", "kept"};

struct Chunk {
  std::string source_id;  // the document's id, else file:line
  std::string where;      // file:line
  int index = 0;          // chunk number within its document
  std::string text;
};

class Runner {
 public:
  Runner(const std::vector<std::string>& inputs, const SynthOptions& o)
      : inputs_(inputs), o_(o), checks_(o), limiter_(run_limiter(o)),
        workers_(o, {o.endpoint, o.model, "generator", o.max_tokens, o.temperature}, limiter_) {
    templ_ = load_template(o, {"language", "text", "n"}, prompt_name_);
    language_ = curate::language_name(o.lang);
    if (language_.empty()) language_ = o.lang;
  }

  SynthTotals run(std::ostream& out) {
    require_inputs(inputs_, "give JSONL or text documents");
    ShardStore store(o_, run_identity());
    store_ = &store;

    corpus::ReadOptions ro;
    ro.text_field = o_.text_field;
    ro.id_field = o_.id_field;
    corpus::Diagnostics diag(ro.max_reported, ro.strict);
    std::vector<Chunk> batch;
    uint64_t shard = 0;
    for (const auto& f : inputs_) {
      corpus::DocumentReader reader(f, ro, &diag);
      corpus::Document doc;
      while (reader.next(doc)) {
        const auto pieces = chunk_text(doc.text, size_t(o_.chunk_chars));
        for (size_t k = 0; k < pieces.size(); ++k) {
          Chunk c;
          c.where = doc.where();
          c.source_id = doc.id.empty() ? c.where : doc.id;
          c.index = int(k);
          c.text = pieces[k];
          batch.push_back(std::move(c));
          if (batch.size() == size_t(o_.shard_chunks)) {
            do_shard(shard++, batch);
            batch.clear();
          }
        }
      }
    }
    if (!batch.empty()) do_shard(shard++, batch);
    totals_.shards = shard;
    finish_run(o_, kFunnel, totals_, {{"prompt", prompt_name_}}, out);
    return totals_;
  }

 private:
  ojson run_identity() const {
    return {{"task", task_name(o_.task)},
            {"inputs", input_paths(inputs_)},
            {"text_field", o_.text_field},
            {"id_field", o_.id_field},
            {"chunk_chars", o_.chunk_chars},
            {"min_chunk_chars", o_.min_chunk_chars},
            {"model", o_.model},
            {"max_tokens", o_.max_tokens},
            {"temperature", o_.temperature},
            {"lang", o_.lang},
            {"prompt", templ_},
            {"pairs", o_.pairs},
            {"lid_model", o_.lid_model},
            {"min_lang_score", o_.min_lang_score},
            {"grounding_ngram", o_.grounding_ngram},
            {"min_grounding", o_.min_grounding},
            {"min_chars", o_.min_chars},
            {"max_chars", o_.max_chars},
            {"min_question_chars", o_.min_question_chars},
            {"benchmark", benchmark_ids(o_.benchmark)},
            {"decontam_ngram", o_.decontam_ngram},
            {"shard_chunks", o_.shard_chunks}};
  }

  // The dedup key of a kept record.
  std::string key_of(const ojson& r) const {
    if (o_.task == SynthTask::Qa)
      return normalize_key(r["messages"][0]["content"].get<std::string>()) + "\t" +
             normalize_key(r["messages"][1]["content"].get<std::string>());
    return normalize_key(r["text"].get<std::string>());
  }

  void do_shard(uint64_t shard, const std::vector<Chunk>& chunks) {
    if (resume_shard(*store_, shard, chunks.size(), totals_, [&](const ojson& r) { checks_.remember(key_of(r)); }))
      return;
    // Generation: the chunks long enough, spread over the clients.
    std::vector<size_t> todo;
    ShardOutcome res;
    Counts& c = res.counts;
    c["chunks"] = chunks.size();
    for (size_t k = 0; k < chunks.size(); ++k) {
      if (int64_t(chunks[k].text.size()) < o_.min_chunk_chars)
        ++c["chunks_too_short"];
      else
        todo.push_back(k);
    }
    std::vector<eval::judge::ChatReply> replies(chunks.size());
    workers_.run(todo.size(), [&](eval::judge::ChatClient& client, size_t t) {
      const Chunk& ch = chunks[todo[t]];
      replies[todo[t]] = client.complete(
          "You are a helpful assistant.",
          eval::judge::render(templ_, {{"language", language_}, {"text", ch.text}, {"n", std::to_string(o_.pairs)}}));
    });

    // Quality control, in chunk order so the output does not depend on which answer came first.
    for (size_t k : todo) {
      const Chunk& ch = chunks[k];
      const auto& reply = replies[k];
      ++c["requests"];
      res.prompt_tokens += reply.prompt_tokens;
      res.completion_tokens += reply.completion_tokens;
      if (!reply.ok) {
        ++c["request_failed"];
        log::warn("request for " + ch.where + " failed: " + reply.error);
        continue;
      }
      std::vector<std::pair<std::string, std::string>> outs;  // (question, answer) or ("", text)
      if (o_.task == SynthTask::Qa) {
        for (auto& p : parse_qa(reply.content)) outs.emplace_back(std::move(p.question), std::move(p.answer));
      } else {
        std::string t = trimmed(reply.content);
        if (!t.empty()) outs.emplace_back("", std::move(t));
      }
      if (outs.empty()) {
        ++c["candidates"];
        ++c["malformed"];
        continue;
      }
      const std::string chunk_key = normalize_key(ch.text);
      int n = 0;
      for (const auto& [q, a] : outs) {
        ++c["candidates"];
        const char* reject = check(q, a, ch, chunk_key, reply.finish_reason);
        if (reject) {
          ++c[reject];
          continue;
        }
        ojson r;
        if (o_.task == SynthTask::Qa) {
          r["messages"] = {{{"role", "user"}, {"content", q}}, {{"role", "assistant"}, {"content", a}}};
          r["id"] = ch.source_id + "#" + std::to_string(ch.index) + "-qa" + std::to_string(n++);
        } else {
          r["id"] = ch.source_id + "#" + std::to_string(ch.index) + "-" + prompt_name_;
          r["text"] = a;
        }
        r["lang"] = o_.lang;
        r["lang_score"] = last_lang_score_;
        r["grounding"] = last_grounding_;
        r["source_id"] = ch.source_id;
        r["source"] = ch.where;
        r["chunk"] = ch.index;
        r["synth"] = {{"task", task_name(o_.task)}, {"prompt", prompt_name_}, {"model", o_.model}};
        checks_.remember(key_of(r));
        ++c["kept"];
        res.records += dump_line(r) + "\n";
      }
    }
    store_->publish(shard, chunks.size(), res);
    add_outcome(totals_, res);
  }

  // The reason an output is rejected, or nullptr to keep it. `q` is empty for rephrasings.
  const char* check(const std::string& q, const std::string& a, const Chunk& ch, const std::string& chunk_key,
                    const std::string& finish_reason) {
    const bool qa = o_.task == SynthTask::Qa;
    if (finish_reason == "length") return "truncated";
    if (qa && (q.empty() || a.empty())) return "malformed";
    if (int64_t(a.size()) < o_.min_chars || (qa && int64_t(q.size()) < o_.min_question_chars)) return "too_short";
    if (int64_t(a.size()) > o_.max_chars || (qa && int64_t(q.size()) > o_.max_chars)) return "too_long";
    const std::string whole = qa ? q + "\n" + a : a;
    if (!checks_.right_language(whole, &last_lang_score_)) return "wrong_language";
    last_grounding_ = grounding(a, ch.text, o_.grounding_ngram);
    if (o_.min_grounding > 0 && last_grounding_ < o_.min_grounding) return "ungrounded";
    if (normalize_key(a) == chunk_key) return "copies_source";
    if (checks_.contaminated(whole)) return "contaminated";
    const std::string key = qa ? normalize_key(q) + "\t" + normalize_key(a) : normalize_key(a);
    if (checks_.seen(key)) return "duplicate";
    return nullptr;
  }

  const std::vector<std::string>& inputs_;
  const SynthOptions& o_;
  std::string templ_, prompt_name_, language_;
  OutputChecks checks_;
  std::shared_ptr<eval::judge::RateLimiter> limiter_;
  Workers workers_;
  ShardStore* store_ = nullptr;
  SynthTotals totals_;
  double last_lang_score_ = 0, last_grounding_ = 0;
};

}  // namespace

SynthTotals run_synth(const std::vector<std::string>& inputs, const SynthOptions& options, std::ostream& out) {
  if (options.task == SynthTask::Translate) return run_translate(inputs, options, out);
  if (options.task == SynthTask::Prefs) return run_prefs(inputs, options, out);
  Runner runner(inputs, options);
  return runner.run(out);
}

}  // namespace nlm::synth
