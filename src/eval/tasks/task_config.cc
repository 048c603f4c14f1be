// Parses task YAML (see task_config.h) with yaml-cpp through core/options_yaml.h.
#include "eval/tasks/task_config.h"

#include <yaml-cpp/yaml.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/options_yaml.h"

namespace nlm::eval::tasks {

namespace {

namespace fs = std::filesystem;

struct Reader {
  const std::string& file;
  std::string where(const YAML::Node& n) const { return opt::yaml_where(n, file); }
  [[noreturn]] void fail(const std::string& key, const YAML::Node& n, const std::string& what,
                         const std::string& fix = {}) const {
    usage_error("task key '" + key + "' " + what, where(n), fix);
  }
  void check_tag(const std::string& key, const YAML::Node& n) const {
    if (n.Tag() == "!function")
      fail(key, n, "uses !function (Python code), which nativelm cannot run",
           "write the field as a Jinja template or precompute it in the data file");
  }
  std::string str(const std::string& key, const YAML::Node& n) const {
    check_tag(key, n);
    if (!n.IsScalar()) fail(key, n, "must be a string");
    return n.Scalar();
  }
  int integer(const std::string& key, const YAML::Node& n) const {
    std::string s = str(key, n);
    try {
      size_t used = 0;
      long v = std::stol(s, &used);
      if (used == s.size() && v >= INT_MIN && v <= INT_MAX) return static_cast<int>(v);
    } catch (const std::exception&) {
    }
    fail(key, n, "must be an integer, got '" + s + "'");
  }
  bool boolean(const std::string& key, const YAML::Node& n) const {
    std::string s = str(key, n);
    if (s == "true" || s == "True") return true;
    if (s == "false" || s == "False") return false;
    fail(key, n, "must be true or false, got '" + s + "'");
  }
  TemplateKey templ(const std::string& key, const YAML::Node& n) const {
    check_tag(key, n);
    TemplateKey t;
    t.present = true;
    t.where = where(n);
    if (n.IsSequence()) {
      t.is_list = true;
      for (const auto& item : n) t.list.push_back(str(key, item));
      return t;
    }
    t.text = str(key, n);
    // At most 18 digits, so that stoll cannot throw out_of_range; longer ones stay text.
    if (n.Tag() != "!" && !t.text.empty() && t.text.size() < 19 &&
        t.text.find_first_not_of("0123456789") == std::string::npos) {
      t.is_int = true;
      t.int_value = std::stoll(t.text);
    }
    return t;
  }
  void unknown(const std::string& key, const YAML::Node& n) const {
    usage_error("unknown task key '" + key + "'", where(n),
                "docs/eval.md (\"The task YAML subset\") lists the supported keys");
  }
};

std::string resolve(const std::string& path, const std::string& file) {
  fs::path p(path);
  if (p.is_absolute()) return path;
  return (fs::path(file).parent_path() / p).lexically_normal().string();
}

bool is_local_data_file(const std::string& p) {
  for (const char* ext : {".jsonl", ".json", ".csv", ".jsonl.gz", ".jsonl.zst"})
    if (p.size() > std::string(ext).size() && p.ends_with(ext)) return true;
  return false;
}

void read_data_files(const Reader& r, const YAML::Node& n, TaskConfig& c) {
  if (!n.IsMap()) r.fail("data_files", n, "must map split names to local files (test: data/test.jsonl)");
  for (const auto& kv : n) {
    std::string split = kv.first.Scalar();
    c.split_files[split] = resolve(r.str("data_files." + split, kv.second), c.file);
  }
}

void read_metrics(const Reader& r, const YAML::Node& n, TaskConfig& c) {
  static const std::set<std::string> known_metrics = {
      "acc", "acc_norm", "exact_match", "bleu", "chrf", "perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte"};
  if (!n.IsSequence()) r.fail("metric_list", n, "must be a list of {metric: NAME} entries");
  for (const auto& m : n) {
    if (!m.IsMap() || !m["metric"]) r.fail("metric_list", m, "entries must be mappings with a 'metric' key");
    std::string name = r.str("metric_list.metric", m["metric"]);
    if (!known_metrics.count(name))
      r.fail("metric_list.metric", m["metric"], "names metric '" + name + "', which nativelm does not compute",
             "use acc, acc_norm, exact_match, bleu, chrf, perplexity, word_perplexity, byte_perplexity or bits_per_byte");
    for (const auto& kv : m) {
      std::string k = kv.first.Scalar();
      if (k == "metric") continue;
      if (k == "aggregation") {
        std::string a = r.str("metric_list." + k, kv.second);
        if (a != "mean" && !(a == "perplexity" && name == "perplexity") &&
            !(a == "weighted_perplexity" && name.ends_with("_perplexity")) && !(a == "bits_per_byte"))
          r.fail("metric_list.aggregation", kv.second, "'" + a + "' is not supported for " + name);
      } else if (k == "higher_is_better") {
        r.boolean("metric_list." + k, kv.second);
      } else if (k == "ignore_case" && name == "exact_match") {
        c.ignore_case[name] = r.boolean("metric_list." + k, kv.second);
      } else if (k == "ignore_punctuation" && name == "exact_match") {
        if (r.boolean("metric_list." + k, kv.second))
          r.fail("metric_list.ignore_punctuation", kv.second, "true is not supported");
      } else {
        r.fail("metric_list." + k, kv.second, "is not supported for metric " + name);
      }
    }
    c.metrics.push_back(name);
  }
}

void read_generation(const Reader& r, const YAML::Node& n, TaskConfig& c) {
  if (!n.IsMap()) r.fail("generation_kwargs", n, "must be a mapping");
  for (const auto& kv : n) {
    std::string k = kv.first.Scalar();
    if (k == "until") {
      c.until_set = true;
      if (kv.second.IsSequence())
        for (const auto& s : kv.second) c.until.push_back(r.str("generation_kwargs.until", s));
      else
        c.until.push_back(r.str("generation_kwargs.until", kv.second));
    } else if (k == "max_gen_toks") {
      c.max_gen_toks = r.integer("generation_kwargs.max_gen_toks", kv.second);
      if (c.max_gen_toks < 1) r.fail("generation_kwargs.max_gen_toks", kv.second, "must be at least 1");
    } else if (k == "do_sample") {
      if (r.boolean("generation_kwargs.do_sample", kv.second))
        r.fail("generation_kwargs.do_sample", kv.second, "true is not supported (greedy decoding only)");
    } else if (k == "temperature") {
      if (r.str("generation_kwargs.temperature", kv.second).find_first_not_of("0.") != std::string::npos)
        r.fail("generation_kwargs.temperature", kv.second, "must be 0 (greedy decoding only)");
    } else {
      r.fail("generation_kwargs." + k, kv.second, "is not supported",
             "use until, max_gen_toks, do_sample: false or temperature: 0");
    }
  }
}

// filter_list: [{name, filter: [{function: regex, regex_pattern}, {function: take_first}]}].
void read_filters(const Reader& r, const YAML::Node& n, TaskConfig& c) {
  if (!n.IsSequence() || n.size() != 1)
    r.fail("filter_list", n, "must hold exactly one filter pipeline (more are not supported)");
  const auto& f = n[0];
  if (!f.IsMap() || !f["filter"]) r.fail("filter_list", f, "entries need 'name' and 'filter'");
  for (const auto& kv : f)
    if (kv.first.Scalar() != "name" && kv.first.Scalar() != "filter")
      r.fail("filter_list." + kv.first.Scalar(), kv.second, "is not supported");
  if (f["name"]) c.filter_name = r.str("filter_list.name", f["name"]);
  bool took_first = false;
  if (!f["filter"].IsSequence()) r.fail("filter_list.filter", f["filter"], "must be a list of steps");
  for (const auto& step : f["filter"]) {
    if (!step.IsMap()) r.fail("filter_list.filter", step, "each step must be a mapping with 'function'");
    std::string fn = step["function"] ? r.str("filter_list.filter.function", step["function"]) : "";
    if (fn == "regex") {
      for (const auto& kv : step)
        if (kv.first.Scalar() != "function" && kv.first.Scalar() != "regex_pattern")
          r.fail("filter_list.filter." + kv.first.Scalar(), kv.second, "is not supported");
      if (!step["regex_pattern"]) r.fail("filter_list.filter", step, "regex needs regex_pattern");
      c.regex_filter = r.str("filter_list.filter.regex_pattern", step["regex_pattern"]);
    } else if (fn == "take_first") {
      took_first = true;
    } else {
      r.fail("filter_list.filter.function", step, "'" + fn + "' is not supported", "use regex and take_first");
    }
  }
  if (!took_first) r.fail("filter_list.filter", f["filter"], "must end with take_first");
}

}  // namespace

std::string TaskConfig::few_split() const {
  if (!fewshot_split.empty()) return fewshot_split;
  if (!training_split.empty()) return training_split;
  if (!validation_split.empty()) return validation_split;
  return test_split;
}

const char* output_type_name(OutputType t) {
  switch (t) {
    case OutputType::MultipleChoice: return "multiple_choice";
    case OutputType::Loglikelihood: return "loglikelihood";
    case OutputType::LoglikelihoodRolling: return "loglikelihood_rolling";
    case OutputType::GenerateUntil: return "generate_until";
  }
  return "";
}

namespace {

TaskConfig parse_task_nodes(const std::string& text, const std::string& file) {
  YAML::Node root = opt::load_yaml(text, file);
  Reader r{file};
  if (!root.IsMap()) usage_error("a task file must be a YAML mapping", file);
  TaskConfig c;
  c.file = file;
  static const std::set<std::string> known = {
      "task", "tag", "dataset_path", "dataset_name", "dataset_kwargs", "data_files", "test_split",
      "validation_split", "training_split", "fewshot_split", "output_type", "doc_to_text", "doc_to_target",
      "doc_to_choice", "description", "target_delimiter", "fewshot_delimiter", "num_fewshot", "fewshot_config",
      "metric_list", "generation_kwargs", "filter_list", "metadata"};
  std::string dataset_path;
  YAML::Node dataset_node;
  for (const auto& kv : root) {
    const std::string k = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (!known.count(k)) r.unknown(k, kv.first);
    if (k == "task") c.task = r.str(k, v);
    else if (k == "tag") r.check_tag(k, v);
    else if (k == "dataset_path") { dataset_path = r.str(k, v); dataset_node = v; }
    else if (k == "dataset_name") { if (!v.IsNull()) r.fail(k, v, "is not supported (local files have no configurations)"); }
    else if (k == "dataset_kwargs") {
      if (!v.IsMap()) r.fail(k, v, "must be a mapping");
      for (const auto& d : v) {
        if (d.first.Scalar() != "data_files") r.fail("dataset_kwargs." + d.first.Scalar(), d.first, "is not supported");
        read_data_files(r, d.second, c);
      }
    }
    else if (k == "data_files") read_data_files(r, v, c);
    else if (k == "test_split") c.test_split = v.IsNull() ? "" : r.str(k, v);
    else if (k == "validation_split") c.validation_split = v.IsNull() ? "" : r.str(k, v);
    else if (k == "training_split") c.training_split = v.IsNull() ? "" : r.str(k, v);
    else if (k == "fewshot_split") c.fewshot_split = v.IsNull() ? "" : r.str(k, v);
    else if (k == "output_type") {
      std::string t = r.str(k, v);
      if (t == "multiple_choice") c.output_type = OutputType::MultipleChoice;
      else if (t == "loglikelihood") c.output_type = OutputType::Loglikelihood;
      else if (t == "loglikelihood_rolling") c.output_type = OutputType::LoglikelihoodRolling;
      else if (t == "generate_until") c.output_type = OutputType::GenerateUntil;
      else r.fail(k, v, "'" + t + "' is not an output type",
                  "use multiple_choice, loglikelihood, loglikelihood_rolling or generate_until");
    }
    else if (k == "doc_to_text") c.doc_to_text = r.templ(k, v);
    else if (k == "doc_to_target") c.doc_to_target = r.templ(k, v);
    else if (k == "doc_to_choice") c.doc_to_choice = r.templ(k, v);
    else if (k == "description") c.description = r.templ(k, v);
    else if (k == "target_delimiter") c.target_delimiter = r.str(k, v);
    else if (k == "fewshot_delimiter") c.fewshot_delimiter = r.str(k, v);
    else if (k == "num_fewshot") { c.num_fewshot = r.integer(k, v); if (c.num_fewshot < 0) r.fail(k, v, "must be at least 0"); }
    else if (k == "fewshot_config") {
      if (!v.IsMap()) r.fail(k, v, "must be a mapping");
      for (const auto& f : v) {
        if (f.first.Scalar() != "sampler") r.fail("fewshot_config." + f.first.Scalar(), f.first, "is not supported");
        c.sampler = r.str("fewshot_config.sampler", f.second);
        if (c.sampler != "default" && c.sampler != "first_n")
          r.fail("fewshot_config.sampler", f.second, "'" + c.sampler + "' is not supported", "use default or first_n");
      }
    }
    else if (k == "metric_list") read_metrics(r, v, c);
    else if (k == "generation_kwargs") read_generation(r, v, c);
    else if (k == "filter_list") read_filters(r, v, c);
    else if (k == "metadata") {
      if (v.IsMap() && v["version"]) {
        try { c.version = std::stod(r.str("metadata.version", v["version"])); }
        catch (const std::exception&) { r.fail("metadata.version", v["version"], "must be a number"); }
      }
    }
  }
  if (c.task.empty()) usage_error("the task file has no 'task' name", file, "add task: NAME");
  if (!dataset_path.empty() && dataset_path != "json" && dataset_path != "csv") {
    if (!is_local_data_file(dataset_path))
      r.fail("dataset_path", dataset_node, "'" + dataset_path + "' is not a local .jsonl/.json/.csv file",
             "download the dataset and point dataset_path or data_files at its files (docs/eval.md)");
    std::string p = resolve(dataset_path, file);
    for (const auto& s : {c.test_split, c.validation_split, c.training_split, c.fewshot_split})
      if (!s.empty() && !c.split_files.count(s)) c.split_files[s] = p;
  }
  if (c.eval_split().empty()) usage_error("the task has neither test_split nor validation_split", file);
  for (const auto& s : {c.eval_split(), c.few_split()})
    if (!c.split_files.count(s))
      usage_error("split '" + s + "' has no data file", file, "set data_files." + s + " or dataset_path");
  if (!c.doc_to_text.present && c.output_type != OutputType::LoglikelihoodRolling)
    usage_error("the task has no doc_to_text", file);
  if (!c.doc_to_target.present) usage_error("the task has no doc_to_target", file);
  if (c.output_type == OutputType::MultipleChoice && !c.doc_to_choice.present)
    usage_error("a multiple_choice task needs doc_to_choice", file);
  if (c.metrics.empty()) {
    switch (c.output_type) {
      case OutputType::MultipleChoice: c.metrics = {"acc", "acc_norm"}; break;
      case OutputType::Loglikelihood: c.metrics = {"perplexity", "acc"}; break;
      case OutputType::LoglikelihoodRolling: c.metrics = {"word_perplexity", "byte_perplexity", "bits_per_byte"}; break;
      case OutputType::GenerateUntil: c.metrics = {"exact_match"}; break;
    }
  }
  static const std::map<OutputType, std::set<std::string>> allowed = {
      {OutputType::MultipleChoice, {"acc", "acc_norm"}},
      {OutputType::Loglikelihood, {"acc", "perplexity"}},
      {OutputType::LoglikelihoodRolling, {"word_perplexity", "byte_perplexity", "bits_per_byte"}},
      {OutputType::GenerateUntil, {"exact_match", "bleu", "chrf"}}};
  for (const auto& m : c.metrics)
    if (!allowed.at(c.output_type).count(m))
      usage_error("metric '" + m + "' does not apply to output_type " + output_type_name(c.output_type), file);
  if (!c.until_set) c.until = {c.fewshot_delimiter};
  return c;
}

}  // namespace

TaskConfig parse_task(const std::string& text, const std::string& file) {
  try {
    return parse_task_nodes(text, file);
  } catch (const YAML::Exception& e) {
    // A node of a shape no check above foresaw (yaml-cpp throws on a subscript of a scalar):
    // still a usage error naming the file and line, never an escaped library exception.
    usage_error("task file: " + e.msg, file + (e.mark.is_null() ? "" : ":" + std::to_string(e.mark.line + 1)),
                "see docs/eval.md, \"Task files\"");
  }
}

TaskConfig load_task(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) usage_error("cannot read task file " + path, path, "give a task YAML file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_task(ss.str(), path);
}

}  // namespace nlm::eval::tasks
