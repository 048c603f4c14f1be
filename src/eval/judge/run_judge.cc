// The `eval judge` command: prompts per record, the judge calls, judgments.jsonl with resume, and
// summary.json (run_judge.h).
#include "eval/judge/run_judge.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_ints.h"
#include "core/log.h"
#include "eval/judge/chat_client.h"
#include "eval/judge/prompts.h"
#include "eval/judge/records.h"
#include "eval/judge/verdict.h"

namespace nlm::eval::judge {

namespace {

using ojson = nlohmann::ordered_json;

// The prompts a run may use: --prompt-file's, then the built-in ones (a file may redefine a
// built-in name), and which one a record gets.
class PromptBook {
 public:
  explicit PromptBook(const JudgeOptions& o) : pairwise_(o.mode == JudgeMode::Pairwise) {
    if (!o.prompt_file.empty()) prompts_ = load_prompts(o.prompt_file);
    for (const auto& p : builtin_prompts()) prompts_.push_back(p);
    if (!o.prompt.empty()) {
      fixed_ = find(o.prompt);
      if (!fixed_)
        usage_error("no judge prompt is named " + echoed(o.prompt, 60), "--prompt",
                    "use single-v1, single-math-v1, pair-v2, pair-math-v1 or a name from --prompt-file");
      if (fixed_->pairwise != pairwise_)
        usage_error("the prompt " + echoed(o.prompt, 60) + " is a " + (fixed_->pairwise ? "pairwise" : "single") +
                        " prompt, but --mode is " + (pairwise_ ? "pairwise" : "single"),
                    "--prompt", "pick a prompt of the mode's type");
    }
    for (const JudgePrompt* p : {fixed_, find(plain_name()), find(reference_name())}) {
      if (!p) continue;
      if (p->pairwise != pairwise_)
        usage_error("the prompt " + echoed(p->name, 60) + " from --prompt-file is not a " +
                        (pairwise_ ? "pairwise" : "single") + " prompt, but replaces the built-in one of that name",
                    "--prompt-file", "give it the built-in's type, or another name");
      check_fields(*p);
    }
  }
  // The prompt for `r`: --prompt, else the reference-guided one when r has a reference.
  const JudgePrompt& pick(const JudgeRecord& r) const {
    if (fixed_) return *fixed_;
    return *find(r.reference ? reference_name() : plain_name());
  }

 private:
  const char* plain_name() const { return pairwise_ ? "pair-v2" : "single-v1"; }
  const char* reference_name() const { return pairwise_ ? "pair-math-v1" : "single-math-v1"; }
  const JudgePrompt* find(const std::string& name) const {
    for (const auto& p : prompts_)
      if (p.name == name) return &p;
    return nullptr;
  }
  void check_fields(const JudgePrompt& p) const {
    for (const auto& f : template_fields(p.templ, "prompt " + p.name)) {
      const bool ok =
          f == "question" || f == "ref_answer_1" || (pairwise_ ? (f == "answer_a" || f == "answer_b") : f == "answer");
      if (!ok)
        usage_error("the prompt " + echoed(p.name, 60) + " uses {" + printable(f, 40) + "}, which a " +
                        (pairwise_ ? "pairwise" : "single") + " record does not give",
                    "--prompt-file",
                    pairwise_ ? "use {question}, {answer_a}, {answer_b}, {ref_answer_1}"
                              : "use {question}, {answer}, {ref_answer_1}");
    }
  }
  bool pairwise_;
  std::vector<JudgePrompt> prompts_;
  const JudgePrompt* fixed_ = nullptr;
};

bool uses_reference(const JudgePrompt& p) {
  for (const auto& f : template_fields(p.templ, p.name))
    if (f == "ref_answer_1") return true;
  return false;
}

// The template fields of `r`, answer_a shown as A.
std::map<std::string, std::string> fields_of(const JudgeRecord& r, bool pairwise) {
  std::map<std::string, std::string> values = {{"question", r.question}};
  if (pairwise) {
    values["answer_a"] = r.answer_a;
    values["answer_b"] = r.answer_b;
  } else {
    values["answer"] = r.answer;
  }
  if (r.reference) values["ref_answer_1"] = *r.reference;
  return values;
}

ojson id_value(const JudgeRecord& r) { return r.id_json.empty() ? ojson(nullptr) : ojson::parse(r.id_json); }

// One judge call as judgments.jsonl keeps it.
ojson call_json(const std::string& system, const std::string& user, const ChatReply& reply) {
  ojson c = {{"system", system}, {"user", user}};
  if (reply.ok) {
    c["output"] = reply.content;
    c["finish_reason"] = reply.finish_reason;
  } else {
    c["output"] = nullptr;
    c["error"] = reply.error;
  }
  c["prompt_tokens"] = reply.prompt_tokens;
  c["completion_tokens"] = reply.completion_tokens;
  c["attempts"] = reply.attempts;
  return c;
}

// The judgment of one record: the calls, the parsed result and its status.
ojson judge_record(const JudgeRecord& r, const JudgePrompt& p, bool pairwise, ChatClient& client) {
  ojson j = {{"id", id_value(r)}, {"line", r.line}, {"mode", pairwise ? "pairwise" : "single"}, {"prompt", p.name}};
  std::map<std::string, std::string> values = fields_of(r, pairwise);
  int64_t prompt_tokens = 0, completion_tokens = 0;
  ojson calls = ojson::array();
  std::vector<ChatReply> replies;
  auto call = [&](const std::string& user) {
    ChatReply reply = client.complete(p.system, user);
    prompt_tokens += reply.prompt_tokens;
    completion_tokens += reply.completion_tokens;
    calls.push_back(call_json(p.system, user, reply));
    replies.push_back(reply);
    return reply.ok;
  };
  std::string error;
  if (!pairwise) {
    if (!call(render(p.templ, values))) error = replies.back().error;
  } else {
    j["model_a"] = r.model_a.empty() ? ojson(nullptr) : ojson(r.model_a);
    j["model_b"] = r.model_b.empty() ? ojson(nullptr) : ojson(r.model_b);
    if (call(render(p.templ, values))) {
      std::swap(values["answer_a"], values["answer_b"]);  // the second game: B's answer shown first
      if (!call(render(p.templ, values))) error = replies.back().error;
    } else {
      error = replies.back().error;
    }
  }
  if (!error.empty()) {
    j["status"] = "failed";
    j["error"] = error;
  } else if (!pairwise) {
    const auto score = parse_rating(replies[0].content);
    j["status"] = score ? "parsed" : "unparsed";
    j["score"] = score ? ojson(*score) : ojson(nullptr);
  } else {
    const auto v1 = parse_verdict(replies[0].content), v2 = parse_verdict(replies[1].content);
    j["verdicts"] = {v1 ? ojson(verdict_name(*v1)) : ojson(nullptr), v2 ? ojson(verdict_name(*v2)) : ojson(nullptr)};
    if (v1 && v2) {
      j["status"] = "parsed";
      j["winner"] = verdict_name(combine(*v1, unswap(*v2)));
      j["consistent"] = *v1 == unswap(*v2);
    } else {
      j["status"] = "unparsed";
      j["winner"] = nullptr;
    }
  }
  j["judgments"] = std::move(calls);
  j["tokens"] = {{"prompt", prompt_tokens}, {"completion", completion_tokens}};
  return j;
}

// A judgment line's "status", or "" when it has none (or not a string: a hand-edited line).
std::string status_of(const ojson& j) {
  return j.contains("status") && j["status"].is_string() ? j["status"].get<std::string>() : "";
}

std::string key_of(const ojson& j) {
  if (j.contains("id") && !j["id"].is_null()) return "id:" + j["id"].dump();
  return "line:" + std::to_string(json_uint_at(j, "line", 0, "judge input"));
}

// What must not change between a run and its resumption.
ojson run_identity(const JudgeOptions& o) {
  return {{"mode", o.mode == JudgeMode::Pairwise ? "pairwise" : "single"},
          {"judge_model", o.judge_model},
          {"prompt", o.prompt},
          {"max_tokens", o.max_tokens},
          {"temperature", o.temperature}};
}

// The finished judgments (parsed or unparsed) of an earlier run that still match a record and
// the prompt it would get now; failed ones are judged again.
std::map<std::string, ojson> resumable(const std::string& path, const std::vector<JudgeRecord>& records,
                                       const PromptBook& book, bool pairwise) {
  std::map<std::string, const JudgeRecord*> by_key;
  for (const auto& r : records) by_key[r.key()] = &r;
  std::map<std::string, ojson> done;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  uint64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto j = ojson::parse(line, nullptr, false);
    if (!j.is_object()) continue;  // a line torn by the interruption
    const std::string status = status_of(j);
    if (status != "parsed" && status != "unparsed") continue;
    auto it = by_key.find(key_of(j));
    if (it == by_key.end() || !j.contains("judgments") || !j["judgments"].is_array() || j["judgments"].empty())
      continue;
    // What summarize() reads of a line; one without it (edited by hand) is judged again.
    if (!j.contains("tokens") || !j["tokens"].is_object()) continue;
    if (status == "parsed" && !(pairwise ? j.contains("winner") && j["winner"].is_string() &&
                                               j.contains("consistent") && j["consistent"].is_boolean()
                                         : j.contains("score") && j["score"].is_number()))
      continue;
    const JudgeRecord& r = *it->second;
    const JudgePrompt& p = book.pick(r);
    if (uses_reference(p) && !r.reference) continue;
    const ojson& first = j["judgments"][0];
    if (!first.is_object() || !first.contains("user") || first["user"] != render(p.templ, fields_of(r, pairwise)))
      usage_error("judgments.jsonl line " + std::to_string(n) + " was judged with another record or prompt", path,
                  "resume with the same input and options, or start over with --force");
    j["line"] = r.line;
    done[r.key()] = std::move(j);
  }
  return done;
}

void warn_skipped(const std::vector<std::string>& skipped) {
  for (size_t k = 0; k < skipped.size() && k < 5; ++k) log::warn("skipped " + skipped[k]);
  if (skipped.size() > 5) log::warn(std::to_string(skipped.size() - 5) + " more records skipped");
}

ojson summarize(const std::vector<ojson>& lines, const std::vector<std::string>& skipped, const JudgeOptions& o,
                const std::string& input, JudgeTotals& t) {
  const bool pairwise = o.mode == JudgeMode::Pairwise;
  ojson hist = ojson::object();
  for (int k = 1; k <= 10; ++k) hist[std::to_string(k)] = 0;
  double score_sum = 0;
  std::string model_a, model_b;
  for (const auto& j : lines) {
    ++t.records;
    const std::string status = status_of(j);
    if (status == "parsed") ++t.parsed;
    if (status == "unparsed") ++t.unparsed;
    if (status == "failed") ++t.failed;
    t.prompt_tokens += json_int_at(j["tokens"], "prompt", 0, "judge results");
    t.completion_tokens += json_int_at(j["tokens"], "completion", 0, "judge results");
    if (status != "parsed") continue;
    if (!pairwise) {
      const double s = j["score"].get<double>();
      score_sum += s;
      auto& bin = hist[std::to_string(int(std::clamp(std::floor(s), 1.0, 10.0)))];  // clamped before int: 1e300
      bin = bin.get<int>() + 1;
    } else {
      const std::string w = j["winner"].get<std::string>();
      if (w == "A")
        ++t.wins;
      else if (w == "B")
        ++t.losses;
      else
        ++t.ties;
      if (!j["consistent"].get<bool>()) ++t.inconsistent;
      if (model_a.empty() && j["model_a"].is_string()) model_a = j["model_a"].get<std::string>();
      if (model_b.empty() && j["model_b"].is_string()) model_b = j["model_b"].get<std::string>();
    }
  }
  t.skipped = skipped.size();
  t.mean_score = t.parsed && !pairwise ? score_sum / double(t.parsed) : 0;
  ojson s = {{"mode", pairwise ? "pairwise" : "single"},
             {"input", input},
             {"judge_model", o.judge_model},
             {"records", t.records},
             {"parsed", t.parsed},
             {"unparsed", t.unparsed},
             {"failed", t.failed},
             {"skipped", t.skipped}};
  s["skipped_examples"] = ojson::array();
  for (size_t k = 0; k < skipped.size() && k < 5; ++k) s["skipped_examples"].push_back(skipped[k]);
  if (!pairwise) {
    s["mean_score"] = t.parsed ? ojson(t.mean_score) : ojson(nullptr);
    s["histogram"] = hist;
  } else {
    const size_t n = t.wins + t.losses + t.ties;
    s["model_a"] = model_a.empty() ? "A" : model_a;
    s["model_b"] = model_b.empty() ? "B" : model_b;
    s["wins"] = t.wins;
    s["losses"] = t.losses;
    s["ties"] = t.ties;
    s["inconsistent"] = t.inconsistent;
    s["win_rate"] = n ? ojson(double(t.wins) / double(n)) : ojson(nullptr);
    s["win_rate_adjusted"] = n ? ojson((double(t.wins) + 0.5 * double(t.ties)) / double(n)) : ojson(nullptr);
  }
  s["tokens"] = {{"prompt", t.prompt_tokens},
                 {"completion", t.completion_tokens},
                 {"total", t.prompt_tokens + t.completion_tokens}};
  return s;
}

}  // namespace

JudgeTotals run_judge(const std::string& input, const JudgeOptions& o, std::ostream& out) {
  const bool pairwise = o.mode == JudgeMode::Pairwise;
  PromptBook book(o);
  ChatClientOptions co;
  co.base_url = o.endpoint;
  co.model = o.judge_model;
  co.api_key = o.api_key;
  if (co.api_key.empty())
    if (const char* env = std::getenv("OPENAI_API_KEY")) co.api_key = env;
  co.max_tokens = o.max_tokens;
  co.temperature = o.temperature;
  co.retries = o.retries;
  co.retry_wait = o.retry_wait;
  co.timeout = o.timeout;
  co.requests_per_minute = o.requests_per_minute;
  ChatClient client(co);

  if (!std::filesystem::exists(input))
    usage_error("the input file does not exist", input, "give a JSONL file of records");
  const RecordSet set = read_records(input, o.mode);
  warn_skipped(set.skipped);

  make_dirs(o.output);
  const std::string path = o.output + "/judgments.jsonl", run_path = o.output + "/run.json";
  std::map<std::string, ojson> done;
  if (std::filesystem::exists(path) && std::filesystem::file_size(path) > 0) {
    if (!o.resume && !o.force)
      usage_error("the output folder already has judgments.jsonl", o.output,
                  "pass --resume to judge only the rest, or --force to start over");
    if (o.resume) {
      if (std::filesystem::exists(run_path)) {
        auto before = ojson::parse(read_file(run_path), nullptr, false);
        const ojson now = run_identity(o);
        for (auto& [k, v] : now.items())
          if (!before.is_object() || !before.contains("identity") || before["identity"][k] != v) {
            std::string flag = "--" + k;
            std::replace(flag.begin(), flag.end(), '_', '-');
            usage_error(flag + " differs from the run being resumed", run_path,
                        "resume with the same options, or start over with --force");
          }
      }
      done = resumable(path, set.records, book, pairwise);
    }
  }
  write_file_atomic(run_path,
                    ojson{{"input", input}, {"endpoint", o.endpoint}, {"identity", run_identity(o)}}.dump(2) + "\n");
  {
    std::string kept;
    for (const auto& r : set.records)
      if (auto it = done.find(r.key()); it != done.end()) kept += it->second.dump() + "\n";
    write_file_atomic(path, kept);  // torn and failed lines of an earlier run are dropped
  }
  std::ofstream append(path, std::ios::binary | std::ios::app);
  if (!append) runtime_error("cannot open judgments.jsonl for appending", path, errno_text(errno));

  JudgeTotals t;
  t.resumed = done.size();
  std::vector<std::string> skipped = set.skipped;
  std::map<std::string, ojson> judged = std::move(done);
  for (const auto& r : set.records) {
    if (judged.count(r.key())) continue;
    const JudgePrompt& p = book.pick(r);
    if (uses_reference(p) && !r.reference) {
      skipped.push_back(printable(input, 120) + ":" + std::to_string(r.line) + ": the prompt " + p.name +
                        " needs a \"reference\"");
      continue;
    }
    ojson j = judge_record(r, p, pairwise, client);
    append << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    append.flush();
    if (!append) runtime_error("cannot write judgments.jsonl", path, "check the disk");
    judged[r.key()] = std::move(j);
  }
  append.close();
  if (skipped.size() > set.skipped.size())
    warn_skipped(std::vector<std::string>(skipped.begin() + long(set.skipped.size()), skipped.end()));

  // The final file in input order, so a resumed run's output equals an uninterrupted one's.
  std::vector<ojson> lines;
  std::string text;
  for (const auto& r : set.records)
    if (auto it = judged.find(r.key()); it != judged.end()) {
      lines.push_back(it->second);
      text += it->second.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
  write_file_atomic(path, text);
  const ojson summary = summarize(lines, skipped, o, input, t);
  write_file_atomic(o.output + "/summary.json", summary.dump(2) + "\n");

  char buf[256];
  out << "judged " << t.records << " records (" << t.resumed << " from an earlier run): " << t.parsed << " parsed, "
      << t.unparsed << " unparsed, " << t.failed << " failed, " << t.skipped << " skipped\n";
  if (!pairwise) {
    if (t.parsed)
      std::snprintf(buf, sizeof buf, "mean score %.3f over %zu ratings\n", t.mean_score, t.parsed);
    else
      std::snprintf(buf, sizeof buf, "mean score: no ratings parsed\n");
    out << buf;
  } else {
    const size_t n = t.wins + t.losses + t.ties;
    std::snprintf(buf, sizeof buf,
                  "%s vs %s: %zu wins, %zu losses, %zu ties (%zu inconsistent); win rate %.3f, with half ties %.3f\n",
                  summary["model_a"].get<std::string>().c_str(), summary["model_b"].get<std::string>().c_str(), t.wins,
                  t.losses, t.ties, t.inconsistent, n ? double(t.wins) / double(n) : 0.0,
                  n ? (double(t.wins) + 0.5 * double(t.ties)) / double(n) : 0.0);
    out << buf;
  }
  out << "tokens: " << t.prompt_tokens << " prompt, " << t.completion_tokens << " completion; output in " << o.output
      << "\n";
  return t;
}

}  // namespace nlm::eval::judge
