// Runs task files against a model (see run_tasks.h).
#include "eval/tasks/run_tasks.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <ostream>
#include <random>
#include <regex>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/options.h"
#include "core/log.h"
#include "eval/metrics/bleu.h"
#include "eval/metrics/chrf.h"
#include "eval/tasks/request_cache.h"
#include "eval/tasks/mlflow_log.h"
#include "eval/tasks/task_docs.h"
#include "model/hf_checkpoint.h"
#include "model/llama.h"
#include "model/text_generation.h"
#include "tensor/backend.h"
#include "tokenizer/tokenizer.h"

namespace nlm::eval::tasks {

using nlohmann::ordered_json;

void declare(opt::Schema& s, TaskRunOptions& o) {
  declare(s, o.scoring);
  s.add("num_fewshot", o.num_fewshot, "Few-shot examples per prompt for every task (-1 = each task's num_fewshot)")
      .min(-1);
  s.add("limit", o.limit, "Documents per task at most (0 = all)").min(0);
  s.add("fewshot_seed", o.fewshot_seed, "Seed of the default (random) few-shot sampler");
  s.add("output", o.output, "Folder for results.json and samples_TASK.jsonl (empty = print only)");
  s.add("bootstrap_iters", o.bootstrap_iters, "Bootstrap resamples for perplexity's standard error (0 = N/A)")
      .min(0);
  s.add("device", o.device, "Compute device: cpu, or cuda / cuda:N in builds with CUDA");
  s.add("cache", o.cache,
        "With --output: keep scored requests in OUTPUT/requests_cache.jsonl, so a rerun of an interrupted "
        "run scores only what is missing")
      .flag("--no-cache");
  s.add("mlflow", o.mlflow, "MLflow file store (an mlruns folder) to log the run's params, metrics and files to")
      .no_json();
  s.add("mlflow_experiment", o.mlflow_experiment, "MLflow experiment name (found or created in --mlflow)").no_json();
}

namespace {

// Decodes one UTF-8 code point at s[i] (invalid bytes count as one), advancing i.
uint32_t next_cp(const std::string& s, size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (i + n > s.size()) n = 1;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

// Python's str.isspace (what \s matches in a str pattern).
bool py_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

struct Pool {
  std::vector<Doc> docs;
  std::vector<RenderedDoc> rendered;
  std::vector<bool> ok;
};

Pool load_pool(const std::string& path, const TaskTemplates& templates, std::vector<std::string>& skipped) {
  Pool p;
  p.docs = read_docs(path, skipped);
  p.rendered.resize(p.docs.size());
  p.ok.resize(p.docs.size());
  for (size_t i = 0; i < p.docs.size(); ++i) {
    std::string why;
    p.ok[i] = templates.render(p.docs[i], p.rendered[i], why);
    if (!p.ok[i]) skipped.push_back(p.docs[i].where + ": " + why);
  }
  return p;
}

struct Stat {
  std::string name;
  double value = 0;
  std::optional<double> stderr_value;
};

void put(ordered_json& m, const std::string& filter, const Stat& s) {
  m[s.name + "," + filter] = s.value;
  if (s.stderr_value) m[s.name + "_stderr," + filter] = *s.stderr_value;
  else m[s.name + "_stderr," + filter] = "N/A";
}

std::string apply_filter(const TaskConfig& c, const std::string& text) {
  if (c.regex_filter.empty()) return text;
  std::regex re;
  try {
    re = std::regex(c.regex_filter);
  } catch (const std::regex_error& e) {
    usage_error("filter regex_pattern '" + c.regex_filter + "' is invalid: " + e.what(), c.file);
  }
  std::smatch m;
  try {
    if (!std::regex_search(text, m, re)) return "[invalid]";
  } catch (const std::regex_error& e) {  // error_complexity or error_stack on a long generation
    runtime_error("filter regex_pattern '" + c.regex_filter + "' failed on a generation: " + e.what(), c.file,
                  "simplify the pattern (no nested repetition)");
  }
  std::string got = m.str(0);
  for (size_t g = 1; g < m.size(); ++g)
    if (m[g].matched && m[g].length() > 0) { got = m.str(g); break; }
  size_t a = got.find_first_not_of(" \t\n\r"), b = got.find_last_not_of(" \t\n\r");
  return a == std::string::npos ? "" : got.substr(a, b - a + 1);
}

std::string lower_ascii(std::string s) {
  for (auto& ch : s)
    if (ch >= 'A' && ch <= 'Z') ch = char(ch - 'A' + 'a');
  return s;
}

}  // namespace

double mean_stderr(const std::vector<double>& xs) {
  const double n = double(xs.size());
  if (xs.size() < 2) return NAN;
  double mu = 0;
  for (double x : xs) mu += x;
  mu /= n;
  double ss = 0;
  for (double x : xs) ss += (x - mu) * (x - mu);
  return std::sqrt(ss / (n - 1)) / std::sqrt(n);
}

double perplexity_bootstrap_stderr(const std::vector<double>& lls, int iters, uint64_t seed) {
  if (iters < 2 || lls.empty()) return NAN;
  std::mt19937_64 rng(seed);
  std::vector<double> ppl(static_cast<size_t>(iters));
  const size_t n = lls.size();
  for (auto& p : ppl) {
    double sum = 0;
    for (size_t k = 0; k < n; ++k) sum += lls[size_t(rng() % n)];
    p = std::exp(-sum / double(n));
  }
  double mu = 0;
  for (double p : ppl) mu += p;
  mu /= double(iters);
  double ss = 0;
  for (double p : ppl) ss += (p - mu) * (p - mu);
  return std::sqrt(ss / double(iters - 1));
}

size_t count_words(const std::string& s) {
  size_t runs = 0;
  bool in_space = false;
  for (size_t i = 0; i < s.size();) {
    bool sp = py_space(next_cp(s, i));
    if (sp && !in_space) ++runs;
    in_space = sp;
  }
  return runs + 1;
}

size_t count_chars(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) next_cp(s, i);
  return n;
}

namespace {

// Requests are scored in chunks of the request list, the same with or without a cache, so a
// resumed run batches (and rounds) exactly as an uninterrupted one; each chunk is appended to the
// cache as soon as it is done.
constexpr size_t kChunk = 256;

// Scores `reqs` chunk by chunk through `score` (a batch of requests -> results); a chunk whose every
// request the cache holds is read back instead, and each scored chunk is stored and flushed.
template <class Req, class Res, class Key, class Score, class ToJson, class FromJson>
std::vector<Res> scored_in_chunks(const std::vector<Req>& reqs, size_t chunk, Key key, Score score, ToJson to_json,
                                  FromJson from_json, RequestCache* cache, TaskResult& r) {
  std::vector<Res> out(reqs.size());
  for (size_t c0 = 0; c0 < reqs.size(); c0 += chunk) {
    const size_t c1 = std::min(reqs.size(), c0 + chunk);
    std::vector<std::string> keys;
    std::vector<const nlohmann::json*> hits;
    for (size_t i = c0; i < c1 && cache; ++i) {
      keys.push_back(key(reqs[i]));
      hits.push_back(cache->find(keys.back()));
      if (!hits.back()) break;
    }
    if (cache && hits.size() == c1 - c0 && hits.back()) {
      for (size_t i = c0; i < c1; ++i) out[i] = from_json(*hits[i - c0]);
      r.cached += c1 - c0;
      continue;
    }
    auto part = score(std::vector<Req>(reqs.begin() + std::ptrdiff_t(c0), reqs.begin() + std::ptrdiff_t(c1)));
    for (size_t i = c0; i < c1; ++i) {
      out[i] = part[i - c0];
      if (cache) cache->put(i - c0 < keys.size() ? keys[i - c0] : key(reqs[i]), to_json(out[i]));
    }
    if (cache) cache->flush();
    r.scored += c1 - c0;
  }
  return out;
}

std::vector<Loglikelihood> cached_loglikelihood(LmScorer& scorer,
                                                const std::vector<std::pair<std::string, std::string>>& reqs,
                                                RequestCache* cache, TaskResult& r) {
  using Req = std::pair<std::string, std::string>;
  return scored_in_chunks<Req, Loglikelihood>(
      reqs, kChunk, [](const Req& q) { return "ll\x1f" + q.first + "\x1f" + q.second; },
      [&](const std::vector<Req>& part) { return scorer.loglikelihood(part); },
      [](const Loglikelihood& l) { return nlohmann::json::array({l.logprob, l.is_greedy}); },
      [](const nlohmann::json& v) { return Loglikelihood{v.at(0).get<double>(), v.at(1).get<bool>()}; }, cache, r);
}

std::vector<double> cached_rolling(LmScorer& scorer, const std::vector<std::string>& texts, RequestCache* cache,
                                   TaskResult& r) {
  return scored_in_chunks<std::string, double>(
      texts, kChunk / 4,  // documents are long
      [](const std::string& t) { return "rolling\x1f" + t; },
      [&](const std::vector<std::string>& part) { return scorer.loglikelihood_rolling(part); },
      [](double v) { return nlohmann::json(v); }, [](const nlohmann::json& v) { return v.get<double>(); }, cache, r);
}

}  // namespace

TaskResult run_task(model::Llama& model, const tokenizer::Tokenizer& tok, const TaskConfig& c,
                    const TaskRunOptions& o, RequestCache* cache) {
  TaskResult r;
  r.task = c.task;
  TaskTemplates templates(c);
  Pool eval = load_pool(c.split_files.at(c.eval_split()), templates, r.skipped);
  r.n_original = eval.docs.size() + r.skipped.size();
  // A rolling loglikelihood scores the text alone: it has no context to put examples in.
  const int n_shot = c.output_type == OutputType::LoglikelihoodRolling ? 0
                     : o.num_fewshot >= 0                              ? o.num_fewshot
                                                                       : std::max(c.num_fewshot, 0);
  r.n_shot = n_shot;
  const bool same_split = c.split_files.at(c.few_split()) == c.split_files.at(c.eval_split());
  Pool few_storage;
  std::vector<std::string> few_skipped;
  if (n_shot > 0 && !same_split) few_storage = load_pool(c.split_files.at(c.few_split()), templates, few_skipped);
  const Pool& few = same_split ? eval : few_storage;
  std::vector<size_t> few_ok;
  for (size_t i = 0; i < few.docs.size(); ++i)
    if (few.ok[i]) few_ok.push_back(i);
  if (n_shot > 0 && few_ok.size() < size_t(n_shot) + (same_split ? 1 : 0))
    usage_error("num_fewshot " + std::to_string(n_shot) + " needs more documents than split '" + c.few_split() +
                    "' has (" + std::to_string(few_ok.size()) + ")",
                c.file);

  std::mt19937_64 rng(o.fewshot_seed);
  std::vector<size_t> docs;  // indices into eval
  for (size_t i = 0; i < eval.docs.size(); ++i) {
    if (!eval.ok[i]) continue;
    if (o.limit > 0 && docs.size() >= size_t(o.limit)) break;
    docs.push_back(i);
  }
  std::vector<std::string> contexts;
  for (size_t d : docs) {
    std::vector<size_t> shots;
    if (n_shot > 0) {
      std::vector<size_t> pick;
      if (c.sampler == "first_n") {
        for (size_t k : few_ok)
          if (pick.size() < size_t(n_shot) + 1) pick.push_back(k);
      } else {  // a seeded sample of n+1 (partial Fisher-Yates), as lm-eval draws n+1 to drop the doc itself
        std::vector<size_t> all = few_ok;
        const size_t want = std::min(all.size(), size_t(n_shot) + 1);
        for (size_t k = 0; k < want; ++k) {
          size_t j = k + size_t(rng() % (all.size() - k));
          std::swap(all[k], all[j]);
          pick.push_back(all[k]);
        }
      }
      for (size_t k : pick)
        if (!(same_split && k == d) && shots.size() < size_t(n_shot)) shots.push_back(k);
    }
    std::string ctx = eval.rendered[d].description;
    for (size_t k : shots) {  // as lm-eval, an example with an empty target is its text alone
      ctx += few.rendered[k].text;
      if (!few.rendered[k].target.empty()) ctx += c.target_delimiter + few.rendered[k].target + c.fewshot_delimiter;
    }
    ctx += eval.rendered[d].text;
    contexts.push_back(std::move(ctx));
  }

  std::vector<std::vector<double>> per_metric(c.metrics.size());
  auto metric_index = [&](const std::string& name) -> int {
    for (size_t i = 0; i < c.metrics.size(); ++i)
      if (c.metrics[i] == name) return int(i);
    return -1;
  };
  std::vector<Stat> stats;
  LmScorer scorer(model, tok, o.scoring);
  const double ln2 = std::log(2.0);

  if (c.output_type == OutputType::MultipleChoice || c.output_type == OutputType::Loglikelihood) {
    std::vector<std::pair<std::string, std::string>> reqs;
    for (size_t q = 0; q < docs.size(); ++q) {
      const auto& rd = eval.rendered[docs[q]];
      if (c.output_type == OutputType::MultipleChoice)
        for (const auto& ch : rd.choices) reqs.emplace_back(contexts[q], c.target_delimiter + ch);
      else
        reqs.emplace_back(contexts[q], c.target_delimiter + rd.target);
    }
    auto ll = cached_loglikelihood(scorer, reqs, cache, r);
    size_t at = 0;
    std::vector<double> lls;
    for (size_t q = 0; q < docs.size(); ++q) {
      const auto& rd = eval.rendered[docs[q]];
      ordered_json s = {{"doc_id", docs[q]}, {"doc", eval.docs[docs[q]].fields}, {"prompt", contexts[q]},
                        {"target", rd.target}};
      if (c.output_type == OutputType::MultipleChoice) {
        std::vector<double> lp, greedy;
        size_t best = 0, best_norm = 0;
        double best_v = -INFINITY, best_nv = -INFINITY;
        for (size_t k = 0; k < rd.choices.size(); ++k, ++at) {
          lp.push_back(ll[at].logprob);
          greedy.push_back(ll[at].is_greedy);
          const double norm = ll[at].logprob / double(std::max<size_t>(1, count_chars(rd.choices[k])));
          if (ll[at].logprob > best_v) { best_v = ll[at].logprob; best = k; }
          if (norm > best_nv) { best_nv = norm; best_norm = k; }
        }
        const double acc = best == size_t(rd.gold) ? 1.0 : 0.0;
        const double acc_norm = best_norm == size_t(rd.gold) ? 1.0 : 0.0;
        s["choices"] = rd.choices;
        s["gold"] = rd.gold;
        s["logprobs"] = lp;
        s["is_greedy"] = greedy;
        s["prediction"] = best;
        s["prediction_norm"] = best_norm;
        if (int i = metric_index("acc"); i >= 0) { per_metric[size_t(i)].push_back(acc); s["acc"] = acc; }
        if (int i = metric_index("acc_norm"); i >= 0) { per_metric[size_t(i)].push_back(acc_norm); s["acc_norm"] = acc_norm; }
      } else {
        const auto& one = ll[at++];
        lls.push_back(one.logprob);
        s["logprobs"] = {one.logprob};
        s["is_greedy"] = {one.is_greedy};
        if (int i = metric_index("acc"); i >= 0) { per_metric[size_t(i)].push_back(one.is_greedy); s["acc"] = double(one.is_greedy); }
        if (int i = metric_index("perplexity"); i >= 0) { per_metric[size_t(i)].push_back(one.logprob); s["perplexity"] = one.logprob; }
      }
      r.samples.push_back(std::move(s));
    }
    for (size_t i = 0; i < c.metrics.size(); ++i) {
      const auto& xs = per_metric[i];
      double mean = 0;
      for (double x : xs) mean += x;
      mean = xs.empty() ? NAN : mean / double(xs.size());
      if (c.metrics[i] == "perplexity") {
        const double se = perplexity_bootstrap_stderr(xs, o.bootstrap_iters, o.fewshot_seed);
        stats.push_back({"perplexity", std::exp(-mean), std::isnan(se) ? std::nullopt : std::optional<double>(se)});
      } else {
        double se = mean_stderr(xs);
        stats.push_back({c.metrics[i], mean, std::isnan(se) ? std::nullopt : std::optional<double>(se)});
      }
    }
  } else if (c.output_type == OutputType::LoglikelihoodRolling) {
    std::vector<std::string> texts;
    for (size_t d : docs) texts.push_back(eval.rendered[d].target);
    auto ll = cached_rolling(scorer, texts, cache, r);
    double sum_ll = 0, words = 0, bytes = 0;
    for (size_t q = 0; q < docs.size(); ++q) {
      const size_t w = count_words(texts[q]), b = texts[q].size();
      sum_ll += ll[q];
      words += double(w);
      bytes += double(b);
      r.samples.push_back({{"doc_id", docs[q]}, {"doc", eval.docs[docs[q]].fields}, {"prompt", texts[q]},
                           {"target", texts[q]}, {"logprobs", {ll[q]}}, {"words", w}, {"bytes", b}});
    }
    for (const auto& m : c.metrics) {
      if (m == "word_perplexity") stats.push_back({m, std::exp(-sum_ll / words), std::nullopt});
      if (m == "byte_perplexity") stats.push_back({m, std::exp(-sum_ll / bytes), std::nullopt});
      if (m == "bits_per_byte") stats.push_back({m, -sum_ll / bytes / ln2, std::nullopt});
    }
  } else {
    model::SamplingOptions so;
    so.temperature = 0;
    so.max_tokens = c.max_gen_toks;
    if (model.config().eos_token_id >= 0) so.stop_ids.push_back(int32_t(model.config().eos_token_id));
    const int64_t window = model.config().max_position_embeddings - c.max_gen_toks;
    if (window < 1)
      usage_error("generation_kwargs.max_gen_toks " + std::to_string(c.max_gen_toks) + " leaves no room in the model's " +
                      std::to_string(model.config().max_position_embeddings) + "-token context",
                  c.file, "lower max_gen_toks");
    const size_t max_ctx = size_t(window);
    std::vector<double> em;
    std::vector<std::string> preds, targets;
    const bool ic = c.ignore_case.count("exact_match") && c.ignore_case.at("exact_match");
    for (size_t q = 0; q < docs.size(); ++q) {
      // As lm-eval: a context longer than the model's window less max_gen_toks loses its left end.
      std::vector<int32_t> ids;
      for (uint32_t id : tok.encode(contexts[q], o.scoring.add_bos)) ids.push_back(int32_t(id));
      const bool truncated = ids.size() > max_ctx;
      if (truncated) ids.erase(ids.begin(), ids.end() - std::ptrdiff_t(max_ctx));
      // The cache key is the prompt as the model sees it and what ends the generation.
      std::string key = "gen\x1f" + std::to_string(c.max_gen_toks);
      for (const auto& u : c.until) key += "\x1f" + u;
      for (int32_t id : ids) key += "\x1f" + std::to_string(id);
      std::string text;
      if (const auto* hit = cache ? cache->find(key) : nullptr) {
        text = hit->get<std::string>();
        ++r.cached;
      } else {
        text = model::generate_text_ids(model, tok, std::move(ids), so, c.until, [](const std::string&) {}).text;
        if (cache) {
          cache->put(key, text);
          cache->flush();
        }
        ++r.scored;
      }
      const std::string pred = apply_filter(c, text);
      const auto& target = eval.rendered[docs[q]].target;
      const double hit = (ic ? lower_ascii(pred) == lower_ascii(target) : pred == target) ? 1.0 : 0.0;
      em.push_back(hit);
      preds.push_back(pred);
      targets.push_back(target);
      r.samples.push_back({{"doc_id", docs[q]}, {"doc", eval.docs[docs[q]].fields}, {"prompt", contexts[q]},
                           {"target", target}, {"response", text}, {"prediction", pred}, {"exact_match", hit},
                           {"truncated", truncated}});
    }
    for (const auto& m : c.metrics) {
      if (m == "exact_match") {
        double mean = 0;
        for (double x : em) mean += x;
        mean = em.empty() ? NAN : mean / double(em.size());
        double se = mean_stderr(em);
        stats.push_back({"exact_match", mean, std::isnan(se) ? std::nullopt : std::optional<double>(se)});
      } else if (m == "bleu") {  // corpus BLEU with sacreBLEU's defaults, as lm-eval's bleu metric
        metrics::Bleu bleu{metrics::BleuOptions{}};
        stats.push_back({"bleu", preds.empty() ? NAN : bleu.corpus_score(preds, {targets}).score, std::nullopt});
      } else if (m == "chrf") {  // corpus chrF2 with sacreBLEU's defaults, as lm-eval's chrf metric
        metrics::Chrf chrf{metrics::ChrfOptions{}};
        stats.push_back({"chrf", preds.empty() ? NAN : chrf.corpus_score(preds, {targets}).score, std::nullopt});
      }
    }
  }
  r.n_docs = docs.size();
  r.metrics = ordered_json::object();
  r.metrics["alias"] = c.task;
  for (const auto& s : stats) put(r.metrics, c.filter_name, s);
  return r;
}

ordered_json results_json(const std::vector<TaskConfig>& configs, const std::vector<TaskResult>& results,
                          const std::string& model_dir, const TaskRunOptions& o) {
  ordered_json j = {{"results", ordered_json::object()}, {"versions", ordered_json::object()},
                    {"n-shot", ordered_json::object()}, {"higher_is_better", ordered_json::object()},
                    {"n-samples", ordered_json::object()},
                    {"configs", ordered_json::object()}};
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const auto& c = configs[i];
    j["results"][r.task] = r.metrics;
    j["versions"][r.task] = c.version;
    j["n-shot"][r.task] = r.n_shot;
    j["n-samples"][r.task] = {{"original", r.n_original}, {"effective", r.n_docs}, {"skipped", r.skipped.size()}};
    for (const auto& m : c.metrics)
      j["higher_is_better"][r.task][m] = m == "acc" || m == "acc_norm" || m == "exact_match" || m == "bleu" || m == "chrf";
    j["configs"][r.task] = {{"task", c.task}, {"file", c.file}, {"output_type", output_type_name(c.output_type)},
                            {"target_delimiter", c.target_delimiter}, {"fewshot_delimiter", c.fewshot_delimiter},
                            {"metrics", c.metrics}};
  }
  j["config"] = {{"model", "nativelm"}, {"model_args", model_dir}, {"batch_size", o.scoring.batch_size},
                 {"device", o.device}, {"limit", o.limit > 0 ? ordered_json(o.limit) : ordered_json(nullptr)},
                 {"fewshot_seed", o.fewshot_seed}};
  return j;
}

void run_eval_tasks(const std::string& model_dir, const std::vector<std::string>& task_files,
                    const TaskRunOptions& o, std::ostream& out) {
  if (task_files.empty()) usage_error("no task files", "--tasks", "give --tasks FILE.yaml[,FILE2.yaml]");
  std::vector<TaskConfig> configs;
  for (const auto& f : task_files) configs.push_back(load_task(f));
  const std::string tok_path = model_dir + "/tokenizer.json";
  if (!std::filesystem::exists(tok_path))
    usage_error("the model directory has no tokenizer.json", model_dir,
                "copy the tokenizer.json the model was trained with into it");
  auto tok = tokenizer::Tokenizer::load(tok_path);
  auto model = model::load_hf_model(model_dir, tensor::backend_for(o.device));
  std::unique_ptr<RequestCache> cache;
  if (!o.output.empty() && o.cache) {
    const nlohmann::json settings = {{"max_length", o.scoring.max_length}, {"batch_size", o.scoring.batch_size},
                                     {"add_bos", o.scoring.add_bos},       {"prefix_token", o.scoring.prefix_token},
                                     {"device", o.device}};
    cache = std::make_unique<RequestCache>(o.output + "/requests_cache.jsonl",
                                           model_fingerprint(model_dir, settings.dump() + read_file(tok_path)));
    if (cache->loaded() > 0)
      log::info("eval: " + std::to_string(cache->loaded()) + " scored requests in " + o.output +
                "/requests_cache.jsonl; scoring only what is missing");
  }
  std::vector<TaskResult> results;
  for (const auto& c : configs) {
    results.push_back(run_task(*model, tok, c, o, cache.get()));
    const auto& r = results.back();
    for (size_t k = 0; k < r.skipped.size() && k < 5; ++k)
      std::fprintf(stderr, "nativelm: warning: skipped %s\n", r.skipped[k].c_str());
    if (r.skipped.size() > 5) std::fprintf(stderr, "nativelm: warning: %zu more rows skipped\n", r.skipped.size() - 5);
  }
  const ordered_json j = results_json(configs, results, model_dir, o);
  if (!o.output.empty()) {
    make_dirs(o.output);
    write_file_atomic(o.output + "/results.json", j.dump(2) + "\n");
    for (const auto& r : results) {
      std::string lines;
      for (const auto& s : r.samples) lines += s.dump() + "\n";
      write_file_atomic(o.output + "/samples_" + r.task + ".jsonl", lines);
    }
  }
  if (!o.mlflow.empty()) log_to_mlflow(j, model_dir, o);
  out << "| task | n-shot | docs | skipped | metric | value | stderr |\n|---|---|---|---|---|---|---|\n";
  for (const auto& r : results)
    for (auto& [k, v] : r.metrics.items()) {
      if (k == "alias" || k.find("_stderr,") != std::string::npos) continue;
      const std::string name = k.substr(0, k.find(','));
      const auto& se = r.metrics[name + "_stderr" + k.substr(k.find(','))];
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.4f", v.get<double>());
      std::string ses = se.is_number() ? (std::snprintf(buf + 32, 32, "%.4f", se.get<double>()), std::string(buf + 32)) : "N/A";
      out << "| " << r.task << " | " << r.n_shot << " | " << r.n_docs << " | " << r.skipped.size() << " | " << k
          << " | " << std::string(buf) << " | " << ses << " |\n";
    }
}

}  // namespace nlm::eval::tasks
