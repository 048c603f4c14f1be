// The `synth qa` / `synth rephrase` run: chunking, concurrent generation, quality control in
// chunk order, and resumable shards (run_synth.h).
#include "synth/run_synth.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "corpus/reader.h"
#include "curate/dedup/decontam.h"
#include "curate/lang_codes.h"
#include "curate/lid.h"
#include "eval/judge/chat_client.h"
#include "eval/judge/prompts.h"
#include "synth/generate.h"

namespace nlm::synth {

namespace {

using ojson = nlohmann::ordered_json;
namespace fs = std::filesystem;

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

std::string dump(const ojson& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

std::string shard_name(uint64_t k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "part-%05llu", static_cast<unsigned long long>(k));
  return buf;
}

class Runner {
 public:
  Runner(const std::vector<std::string>& inputs, const SynthOptions& o) : inputs_(inputs), o_(o) {
    const std::string pname =
        o.prompt.empty() ? builtin_prompt_names(o.task).front() : o.prompt;
    if (!o.prompt_file.empty()) {
      if (!fs::exists(o.prompt_file))
        usage_error("the prompt file does not exist", o.prompt_file, "give a text file with the prompt template");
      templ_ = read_file(o.prompt_file);
      prompt_name_ = o.prompt_file;
    } else {
      auto t = builtin_prompt(o.task, pname);
      if (!t) {
        std::string names;
        for (const auto& n : builtin_prompt_names(o.task)) names += (names.empty() ? "" : ", ") + n;
        usage_error("no built-in prompt is named " + echoed(pname, 60), "--prompt", "use one of " + names);
      }
      templ_ = *t;
      prompt_name_ = pname;
    }
    for (const auto& f : eval::judge::template_fields(templ_, prompt_name_))
      if (f != "language" && f != "text" && f != "n")
        usage_error("the prompt uses {" + printable(f, 40) + "}, which synth does not fill", prompt_name_,
                    "use {language}, {text} and {n}; write {{ and }} for literal braces");
    language_ = curate::language_name(o.lang);
    if (language_.empty()) language_ = o.lang;

    curate::LidOptions lo;
    lo.backend = o.lid_model.empty() ? "cld2" : "fasttext";
    lo.model = o.lid_model;
    lid_ = std::make_unique<curate::LanguageDetector>(lo);
    keep_langs_ = curate::resolve_lang_codes({o.lang}, lid_->labels(), lid_->name(), "lang");

    if (!o.benchmark.empty()) {
      dedup::DecontamOptions d;
      d.benchmarks = o.benchmark;
      d.ngram = o.decontam_ngram;
      decontam_ = std::make_unique<dedup::DecontamIndex>(d);
    }

    eval::judge::ChatClientOptions co;
    co.base_url = o.endpoint;
    co.model = o.model;
    if (!o.api_key_env.empty())
      if (const char* env = std::getenv(o.api_key_env.c_str())) co.api_key = env;
    co.max_tokens = o.max_tokens;
    co.temperature = o.temperature;
    co.retries = o.retries;
    co.retry_wait = o.retry_wait;
    co.timeout = o.timeout;
    co.requests_per_minute = o.requests_per_minute / double(o.concurrency);  // each client its share
    co.role = "generator";
    co.model_flag = "--model";
    co.key_hint = "check the key in $" + o.api_key_env + " (--api-key-env)";
    for (int k = 0; k < o.concurrency; ++k) clients_.push_back(std::make_unique<eval::judge::ChatClient>(co));
  }

  SynthTotals run(std::ostream& out) {
    for (const auto& f : inputs_)
      if (!fs::exists(f)) usage_error("the input file does not exist", f, "give JSONL or text documents");
    make_dirs(o_.output);
    remove_stale_temps(o_.output);
    const std::string run_path = o_.output + "/run.json";
    const ojson identity = run_identity();
    if (fs::exists(run_path)) {
      auto before = ojson::parse(read_file(run_path), nullptr, false);
      if (before != identity) {
        if (!o_.force)
          usage_error("the output folder holds a run with other inputs or options", o_.output,
                      "rerun with the same ones to resume, or pass --force to start over");
        for (const auto& e : fs::directory_iterator(o_.output))
          if (e.path().filename().string().rfind("part-", 0) == 0) fs::remove(e.path());
      }
    }
    write_file_atomic(run_path, identity.dump(2) + "\n");

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
    totals_.cost = double(totals_.prompt_tokens) * o_.price_prompt / 1e6 +
                   double(totals_.completion_tokens) * o_.price_completion / 1e6;
    ojson s = {{"task", o_.task == SynthTask::Qa ? "qa" : "rephrase"},
               {"model", o_.model},
               {"lang", o_.lang},
               {"prompt", prompt_name_},
               {"shards", totals_.shards},
               {"shards_resumed", totals_.shards_resumed}};
    ojson funnel = ojson::object();
    for (const auto& k : kFunnel) funnel[k] = totals_.count(k);
    s["funnel"] = funnel;
    s["tokens"] = {{"prompt", totals_.prompt_tokens},
                   {"completion", totals_.completion_tokens},
                   {"total", totals_.prompt_tokens + totals_.completion_tokens}};
    s["cost_usd"] = totals_.cost;
    write_file_atomic(o_.output + "/summary.json", s.dump(2) + "\n");

    out << "synth " << (o_.task == SynthTask::Qa ? "qa" : "rephrase") << ": " << totals_.shards << " shards ("
        << totals_.shards_resumed << " from an earlier run)\n";
    for (const auto& k : kFunnel) out << "  " << k << ": " << totals_.count(k) << "\n";
    char buf[160];
    std::snprintf(buf, sizeof buf, "tokens: %lld prompt, %lld completion; cost $%.4f; output in ",
                  static_cast<long long>(totals_.prompt_tokens), static_cast<long long>(totals_.completion_tokens),
                  totals_.cost);
    out << buf << o_.output << "\n";
    return totals_;
  }

 private:
  ojson run_identity() const {
    ojson in = ojson::array();
    for (const auto& f : inputs_) in.push_back(fs::absolute(f).lexically_normal().string());
    return {{"task", o_.task == SynthTask::Qa ? "qa" : "rephrase"},
            {"inputs", in},
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
            {"benchmark", benchmark_ids()},
            {"decontam_ngram", o_.decontam_ngram},
            {"shard_chunks", o_.shard_chunks}};
  }

  // The benchmark files as run.json records them: path and size, so an edited file is noticed.
  ojson benchmark_ids() const {
    ojson b = ojson::array();
    for (const auto& f : o_.benchmark) b.push_back({{"path", fs::absolute(f).lexically_normal().string()}, {"bytes", fs::file_size(f)}});
    return b;
  }

  void add(const std::map<std::string, uint64_t>& c, int64_t pt, int64_t ct) {
    for (const auto& [k, v] : c) totals_.counts[k] += v;
    totals_.prompt_tokens += pt;
    totals_.completion_tokens += ct;
  }

  // The dedup key of a kept record.
  std::string key_of(const ojson& r) const {
    if (o_.task == SynthTask::Qa)
      return normalize_key(r["messages"][0]["content"].get<std::string>()) + "\t" +
             normalize_key(r["messages"][1]["content"].get<std::string>());
    return normalize_key(r["text"].get<std::string>());
  }

  void do_shard(uint64_t shard, const std::vector<Chunk>& chunks) {
    const std::string base = o_.output + "/" + shard_name(shard);
    const std::string part = base + ".jsonl", stats = base + ".stats.json";
    if (fs::exists(part) && fs::exists(stats)) {
      auto s = ojson::parse(read_file(stats), nullptr, false);
      if (s.is_object() && s.value("chunks_in_shard", uint64_t{0}) == chunks.size()) {
        std::map<std::string, uint64_t> c;
        for (const auto& [k, v] : s["counts"].items()) c[k] = v.get<uint64_t>();
        add(c, s["tokens"].value("prompt", int64_t{0}), s["tokens"].value("completion", int64_t{0}));
        std::istringstream in(read_file(part));
        std::string line;
        while (std::getline(in, line)) {
          auto r = ojson::parse(line, nullptr, false);
          if (r.is_object()) seen_.insert(key_of(r));
        }
        ++totals_.shards_resumed;
        return;
      }
    }
    // Generation: the chunks long enough, spread over the clients.
    std::vector<size_t> todo;
    std::map<std::string, uint64_t> c;
    c["chunks"] = chunks.size();
    for (size_t k = 0; k < chunks.size(); ++k) {
      if (int64_t(chunks[k].text.size()) < o_.min_chunk_chars)
        ++c["chunks_too_short"];
      else
        todo.push_back(k);
    }
    std::vector<eval::judge::ChatReply> replies(chunks.size());
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    std::exception_ptr failure;
    std::mutex mu;
    auto work = [&](eval::judge::ChatClient& client) {
      for (;;) {
        const size_t t = next.fetch_add(1);
        if (t >= todo.size() || stop) return;
        const Chunk& ch = chunks[todo[t]];
        try {
          replies[todo[t]] = client.complete(
              "You are a helpful assistant.",
              eval::judge::render(templ_, {{"language", language_}, {"text", ch.text}, {"n", std::to_string(o_.pairs)}}));
        } catch (...) {
          std::lock_guard<std::mutex> lock(mu);
          if (!failure) failure = std::current_exception();
          stop = true;
          return;
        }
      }
    };
    const size_t nthreads = std::min(clients_.size(), todo.size());
    std::vector<std::thread> threads;
    for (size_t k = 1; k < nthreads; ++k) threads.emplace_back(work, std::ref(*clients_[k]));
    if (nthreads) work(*clients_[0]);
    for (auto& t : threads) t.join();
    if (failure) std::rethrow_exception(failure);

    // Quality control, in chunk order so the output does not depend on which answer came first.
    int64_t pt = 0, ct = 0;
    std::string text;
    for (size_t k : todo) {
      const Chunk& ch = chunks[k];
      const auto& reply = replies[k];
      ++c["requests"];
      pt += reply.prompt_tokens;
      ct += reply.completion_tokens;
      if (!reply.ok) {
        ++c["request_failed"];
        log::warn("request for " + ch.where + " failed: " + reply.error);
        continue;
      }
      std::vector<std::pair<std::string, std::string>> outs;  // (question, answer) or ("", text)
      if (o_.task == SynthTask::Qa) {
        for (auto& p : parse_qa(reply.content)) outs.emplace_back(std::move(p.question), std::move(p.answer));
      } else {
        std::string t(reply.content);
        while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
        size_t a = 0;
        while (a < t.size() && std::isspace(static_cast<unsigned char>(t[a]))) ++a;
        if (a < t.size()) outs.emplace_back("", t.substr(a));
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
        r["synth"] = {{"task", o_.task == SynthTask::Qa ? "qa" : "rephrase"},
                      {"prompt", prompt_name_},
                      {"model", o_.model}};
        seen_.insert(key_of(r));
        ++c["kept"];
        text += dump(r) + "\n";
      }
    }
    ojson s = {{"chunks_in_shard", chunks.size()}, {"counts", c}, {"tokens", {{"prompt", pt}, {"completion", ct}}}};
    write_file_atomic(stats, s.dump(2) + "\n");
    write_file_atomic(part, text);  // the shard counts as done once this is in place
    add(c, pt, ct);
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
    const auto guess = lid_->detect(whole);
    last_lang_score_ = guess.score;
    if (std::find(keep_langs_.begin(), keep_langs_.end(), guess.lang) == keep_langs_.end() ||
        guess.score < o_.min_lang_score)
      return "wrong_language";
    last_grounding_ = grounding(a, ch.text, o_.grounding_ngram);
    if (o_.min_grounding > 0 && last_grounding_ < o_.min_grounding) return "ungrounded";
    if (normalize_key(a) == chunk_key) return "copies_source";
    if (decontam_ && !decontam_->matches(whole).empty()) return "contaminated";
    const std::string key = qa ? normalize_key(q) + "\t" + normalize_key(a) : normalize_key(a);
    if (seen_.count(key)) return "duplicate";
    return nullptr;
  }

  const std::vector<std::string>& inputs_;
  const SynthOptions& o_;
  std::string templ_, prompt_name_, language_;
  std::unique_ptr<curate::LanguageDetector> lid_;
  std::unique_ptr<dedup::DecontamIndex> decontam_;
  std::vector<std::string> keep_langs_;
  std::vector<std::unique_ptr<eval::judge::ChatClient>> clients_;
  std::unordered_set<std::string> seen_;
  SynthTotals totals_;
  double last_lang_score_ = 0, last_grounding_ = 0;
};

}  // namespace

SynthTotals run_synth(const std::vector<std::string>& inputs, const SynthOptions& options, std::ostream& out) {
  Runner runner(inputs, options);
  return runner.run(out);
}

}  // namespace nlm::synth
