// `eval run` on task files with a tiny random model: each output type gives the score its
// definition gives from LmScorer / generate_text, few-shot prompts are byte for byte what the
// YAML says, acc_norm divides by characters, and bad task files and rows are reported by name.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/error.h"
#include "eval/loglikelihood.h"
#include "eval/metrics/bleu.h"
#include "eval/metrics/chrf.h"
#include "eval/tasks/request_cache.h"
#include "eval/tasks/mlflow_log.h"
#include "eval/tasks/run_tasks.h"
#include "eval/tasks/task_config.h"
#include "eval/tasks/task_docs.h"
#include "model/hf_checkpoint.h"
#include "model/llama.h"
#include "model/text_generation.h"
#include "tensor/backend.h"
#include "test_util.h"
#include "tiny_text_model.h"
#include "tokenizer/tokenizer.h"

namespace nlm::testing {
namespace {

using eval::tasks::TaskRunOptions;
using nlohmann::json;

const std::string kTasks = std::string(NATIVELM_SOURCE_DIR) + "/tasks/";

TextModel tiny() { return text_model(/*max_positions=*/256, /*seed=*/11); }

std::string lines_of(const std::vector<std::string>& v) {
  std::string all;
  for (const auto& s : v) all += s + "\n";
  return all;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TaskConfig, ShippedTaskFilesLoad) {
  auto t = tiny();
  for (const char* f : {"arc_easy.yaml", "hellaswag.yaml", "xcopa_th.yaml", "xcopa_yue.yaml", "piqa.yaml",
                        "text_ppl.yaml", "qa_gen.yaml", "mmlu_high_school_geography.yaml", "mmlu_world_religions.yaml",
                        "truthfulqa_mc1.yaml", "belebele_eus_Latn.yaml", "xnli_es.yaml", "xstorycloze_eu.yaml",
                        "flores_eng-eus.yaml"}) {
    auto c = eval::tasks::load_task(kTasks + f);
    EXPECT_FALSE(c.split_files.at(c.eval_split()).empty()) << f;
    TaskRunOptions o;
    o.num_fewshot = 1;
    auto r = eval::tasks::run_task(*t.model, t.tok, c, o);
    EXPECT_GE(r.n_docs, 3u) << f;
    EXPECT_TRUE(r.skipped.empty()) << f << ": " << (r.skipped.empty() ? "" : r.skipped[0]);
  }
  EXPECT_EQ(eval::tasks::load_task(kTasks + "text_ppl.yaml").output_type,
            eval::tasks::OutputType::LoglikelihoodRolling);
  auto qa = eval::tasks::load_task(kTasks + "qa_gen.yaml");
  EXPECT_EQ(qa.output_type, eval::tasks::OutputType::GenerateUntil);
  EXPECT_EQ(qa.until, std::vector<std::string>{"\n"});
  EXPECT_EQ(qa.regex_filter, "(\\S+)");
  EXPECT_EQ(qa.filter_name, "first_word");
  auto arc = eval::tasks::load_task(kTasks + "arc_easy.yaml");
  EXPECT_EQ(arc.few_split(), "train");
  EXPECT_EQ(arc.target_delimiter, " ");
  EXPECT_EQ(arc.fewshot_delimiter, "\n\n");
  EXPECT_EQ(arc.metrics, (std::vector<std::string>{"acc", "acc_norm"}));
}

TEST(TaskConfig, BadKeysAndFeaturesNameTheKeyAndLine) {
  const std::string base = "task: t\ndataset_path: d.jsonl\ntest_split: test\noutput_type: generate_until\n"
                           "doc_to_text: '{{q}}'\ndoc_to_target: a\n";
  auto e = error_of([&] { eval::tasks::parse_task(base + "bogus_key: 1\n", "t.yaml"); });
  EXPECT_NE(e.find("'bogus_key'"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:7"), std::string::npos) << e;
  e = error_of([&] { eval::tasks::parse_task(base + "process_docs: !function utils.p\n", "t.yaml"); });
  EXPECT_NE(e.find("process_docs"), std::string::npos) << e;
  e = error_of([&] {
    eval::tasks::parse_task("task: t\ndataset_path: d.jsonl\ntest_split: test\noutput_type: generate_until\n"
                            "doc_to_text: !function utils.f\ndoc_to_target: a\n", "t.yaml");
  });
  EXPECT_NE(e.find("doc_to_text"), std::string::npos) << e;
  EXPECT_NE(e.find("!function"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:5"), std::string::npos) << e;
  e = error_of([&] { eval::tasks::parse_task(base + "metric_list:\n  - metric: f1\n", "t.yaml"); });
  EXPECT_NE(e.find("f1"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:8"), std::string::npos) << e;
  e = error_of([&] { eval::tasks::parse_task(base + "generation_kwargs:\n  do_sample: true\n", "t.yaml"); });
  EXPECT_NE(e.find("generation_kwargs.do_sample"), std::string::npos) << e;
  e = error_of([&] {
    eval::tasks::parse_task("task: t\ndataset_path: allenai/ai2_arc\ntest_split: test\noutput_type: generate_until\n"
                            "doc_to_text: q\ndoc_to_target: a\n", "t.yaml");
  });
  EXPECT_NE(e.find("dataset_path"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:2"), std::string::npos) << e;
  e = error_of([&] { eval::tasks::parse_task(base + "output_type: multiple_choice\n", "t.yaml"); });
  EXPECT_FALSE(e.empty());  // duplicate key or missing doc_to_choice: either way an error
  e = error_of([&] { eval::tasks::parse_task(base + "metric_list:\n  - metric: acc_norm\n", "t.yaml"); });
  EXPECT_NE(e.find("acc_norm"), std::string::npos) << e;
  // Numbers past the C++ types: an int key is an error naming it (4294967296 wrapped to 0 through
  // a cast), and a digit string too long for int64 stays text (std::stoll threw out_of_range).
  e = error_of([&] { eval::tasks::parse_task(base + "num_fewshot: 4294967296\n", "t.yaml"); });
  EXPECT_NE(e.find("num_fewshot"), std::string::npos) << e;
  EXPECT_NE(e.find("must be an integer"), std::string::npos) << e;
  e = error_of([&] {
    eval::tasks::parse_task("task: t\ndataset_path: d.jsonl\ntest_split: test\noutput_type: generate_until\n"
                            "doc_to_text: '{{q}}'\ndoc_to_target: 123456789012345678901234567890\n", "t.yaml");
  });
  EXPECT_EQ(e, "") << e;
  // Found by fuzz/fuzz_eval_task: a filter step that is not a mapping escaped as yaml-cpp's
  // InvalidNode exception (fuzz/findings/fuzz_eval_task/filter_step_scalar.bin).
  for (const char* filter : {"      - take_first\n", "      regex: x\n", "      - [function, take_first]\n"}) {
    e = error_of([&] {
      eval::tasks::parse_task(base + "filter_list:\n  - name: f\n    filter:\n" + filter, "t.yaml");
    });
    EXPECT_NE(e.find("filter_list.filter"), std::string::npos) << filter << ": " << e;
    EXPECT_NE(e.find("t.yaml:"), std::string::npos) << e;
  }
}

TEST(TaskDocs, PythonListsAndCounting) {
  std::vector<std::string> l;
  ASSERT_TRUE(eval::tasks::parse_python_string_list("['a', \"b'c\", 'd\\'e\\n', 'é\\xe9\\u00e9']", l));
  EXPECT_EQ(l, (std::vector<std::string>{"a", "b'c", "d'e\n", "ééé"}));
  EXPECT_FALSE(eval::tasks::parse_python_string_list("['a' 'b']", l));
  EXPECT_FALSE(eval::tasks::parse_python_string_list("a, b", l));
  EXPECT_EQ(eval::tasks::count_words("a b  c"), 3u);
  EXPECT_EQ(eval::tasks::count_words("a b "), 3u);      // re.split gives a trailing ''
  EXPECT_EQ(eval::tasks::count_words("a\u3000b"), 2u);  // Python's \s includes U+3000
  EXPECT_EQ(eval::tasks::count_chars("báistí"), 6u);
  EXPECT_EQ(eval::tasks::count_chars("ถนนเปียก"), 8u);
  EXPECT_NEAR(eval::tasks::mean_stderr({1, 0, 1, 1}), 0.25, 1e-12);
  EXPECT_TRUE(std::isnan(eval::tasks::mean_stderr({1})));
  // Bootstrap: two log-likelihoods a and b resample to exp(-a), exp(-(a+b)/2), exp(-b) with
  // probabilities 1/4, 1/2, 1/4; many resamples approach that distribution's deviation.
  const double a = -1, b = -3;
  const double p1 = std::exp(1.0), p2 = std::exp(2.0), p3 = std::exp(3.0);
  const double mu = p1 / 4 + p2 / 2 + p3 / 4;
  const double sd = std::sqrt((p1 - mu) * (p1 - mu) / 4 + (p2 - mu) * (p2 - mu) / 2 + (p3 - mu) * (p3 - mu) / 4);
  EXPECT_NEAR(eval::tasks::perplexity_bootstrap_stderr({a, b}, 200000, 1), sd, 0.01 * sd);
  EXPECT_TRUE(std::isnan(eval::tasks::perplexity_bootstrap_stderr({a, b}, 0, 1)));
}

TEST(TaskRun, MultipleChoiceEqualsLoglikelihoodSums) {
  auto t = tiny();
  for (const char* f : {"arc_easy.yaml", "hellaswag.yaml", "xcopa_th.yaml", "xcopa_yue.yaml", "piqa.yaml"}) {
    auto c = eval::tasks::load_task(kTasks + f);
    TaskRunOptions o;
    auto r = eval::tasks::run_task(*t.model, t.tok, c, o);
    EXPECT_TRUE(r.skipped.empty()) << f << ": " << (r.skipped.empty() ? "" : r.skipped[0]);
    ASSERT_GE(r.samples.size(), 3u) << f;
    eval::LmScorer scorer(*t.model, t.tok, eval::ScoringOptions{});
    double acc = 0, acc_norm = 0;
    for (const auto& s : r.samples) {
      const auto choices = s["choices"].get<std::vector<std::string>>();
      std::vector<std::pair<std::string, std::string>> reqs;
      for (const auto& ch : choices) reqs.emplace_back(s["prompt"].get<std::string>(), c.target_delimiter + ch);
      auto ll = scorer.loglikelihood(reqs);
      size_t best = 0, best_norm = 0;
      for (size_t k = 0; k < choices.size(); ++k) {
        // Batched differently: equal up to float rounding in the matrix products.
        EXPECT_NEAR(s["logprobs"][k].get<double>(), ll[k].logprob, 1e-7 * std::abs(ll[k].logprob) + 1e-5) << f;
        if (ll[k].logprob > ll[best].logprob) best = k;
        if (ll[k].logprob / double(eval::tasks::count_chars(choices[k])) >
            ll[best_norm].logprob / double(eval::tasks::count_chars(choices[best_norm])))
          best_norm = k;
      }
      acc += best == s["gold"].get<size_t>();
      acc_norm += best_norm == s["gold"].get<size_t>();
      EXPECT_EQ(s["prediction"].get<size_t>(), best);
      EXPECT_EQ(s["prediction_norm"].get<size_t>(), best_norm);
    }
    const double n = double(r.samples.size());
    EXPECT_DOUBLE_EQ(r.metrics["acc,none"].get<double>(), acc / n) << f;
    if (r.metrics.contains("acc_norm,none")) {
      EXPECT_DOUBLE_EQ(r.metrics["acc_norm,none"].get<double>(), acc_norm / n);
    }
    // Deterministic: the same run gives the same numbers.
    EXPECT_EQ(eval::tasks::run_task(*t.model, t.tok, c, o).metrics, r.metrics);
  }
}

// The shipped MMLU, Belebele and FLORES files render lm-eval's prompts byte for byte, and a
// translation task's bleu and chrf are sacreBLEU's corpus scores of its predictions.
TEST(TaskRun, ShippedMmluBelebeleAndFloresPrompts) {
  auto t = tiny();
  TaskRunOptions o;
  o.num_fewshot = 2;
  auto mmlu = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(kTasks + "mmlu_high_school_geography.yaml"), o);
  ASSERT_EQ(mmlu.samples.size(), 4u);
  EXPECT_EQ(mmlu.samples[0]["prompt"],
            "The following are multiple choice questions (with answers) about high school geography.\n\n"
            "Which river flows through Dublin?\nA. The Shannon\nB. The Liffey\nC. The Boyne\nD. The Lee\nAnswer: B\n\n"
            "The Basque Country lies on the coast of which body of water?\nA. The Bay of Biscay\nB. The Baltic Sea\n"
            "C. The Adriatic Sea\nD. The North Sea\nAnswer: A\n\n"
            "Which of these is an island nation?\nA. Bolivia\nB. Iceland\nC. Austria\nD. Mali\nAnswer:");
  EXPECT_EQ(mmlu.samples[0]["choices"].dump(), json({"A", "B", "C", "D"}).dump());
  EXPECT_EQ(mmlu.samples[0]["gold"], 1);
  o.num_fewshot = 0;
  auto bele = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(kTasks + "belebele_eus_Latn.yaml"), o);
  EXPECT_EQ(bele.samples[1]["gold"], 2);  // correct_answer_num "3"
  EXPECT_EQ(bele.samples[1]["prompt"].get<std::string>().substr(0, 3), "P: ");
  o.num_fewshot = 1;
  auto flores = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(kTasks + "flores_eng-eus.yaml"), o);
  ASSERT_EQ(flores.samples.size(), 3u);
  EXPECT_EQ(flores.samples[0]["prompt"], "English phrase: Good morning.\nBasque phrase: Egun on.\n\n"
                                         "English phrase: The house is big.\nBasque phrase:");
  std::vector<std::string> preds, refs;
  for (const auto& smp : flores.samples) {
    preds.push_back(smp["prediction"].get<std::string>());
    refs.push_back(smp["target"].get<std::string>());
  }
  eval::metrics::Bleu bleu{eval::metrics::BleuOptions{}};
  eval::metrics::Chrf chrf{eval::metrics::ChrfOptions{}};
  EXPECT_EQ(flores.metrics["bleu,none"].get<double>(), bleu.corpus_score(preds, {refs}).score);
  EXPECT_EQ(flores.metrics["chrf,none"].get<double>(), chrf.corpus_score(preds, {refs}).score);
  EXPECT_EQ(flores.metrics["bleu_stderr,none"], "N/A");
  EXPECT_TRUE(flores.metrics.contains("exact_match,none"));
}

TEST(TaskRun, RenderedChoicesAndTargets) {
  auto t = tiny();
  auto r = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(kTasks + "xcopa_th.yaml"), TaskRunOptions{});
  ASSERT_EQ(r.samples.size(), 3u);
  EXPECT_EQ(r.samples[0]["prompt"], "แก้วตกลงพื้น ดังนั้น");
  EXPECT_EQ(r.samples[1]["target"], "ผมเดินตากฝน");
  EXPECT_EQ(r.samples[2]["prompt"], "The man was tired ดังนั้น");
  EXPECT_EQ(r.samples[2]["choices"].dump(), json({"he went to bed", "he ran a race"}).dump());
  auto y = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(kTasks + "xcopa_yue.yaml"), TaskRunOptions{});
  ASSERT_EQ(y.samples.size(), 4u);
  EXPECT_EQ(y.samples[1]["prompt"], "佢好肚餓因為");
  EXPECT_EQ(y.samples[2]["doc"]["premise"], "杯\"茶\"跌咗落地。");
  EXPECT_EQ(y.samples[3]["choices"][1], "佢去跑步,跑咗十公里");
  auto arc = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(kTasks + "arc_easy.yaml"), TaskRunOptions{});
  EXPECT_EQ(arc.samples[2]["gold"], 2);
  EXPECT_EQ(arc.samples[2]["target"], "ag cur báistí");
}

TEST(TaskRun, FewShotPromptsAreWhatTheYamlSays) {
  auto t = tiny();
  auto c = eval::tasks::load_task(kTasks + "arc_easy.yaml");
  TaskRunOptions o;
  o.num_fewshot = 0;
  o.limit = 2;
  auto r0 = eval::tasks::run_task(*t.model, t.tok, c, o);
  ASSERT_EQ(r0.samples.size(), 2u);
  EXPECT_EQ(r0.samples[0]["prompt"], "Question: The cat sat on the\nAnswer:");
  EXPECT_EQ(r0.n_shot, 0);
  c.sampler = "first_n";
  o.num_fewshot = 2;
  auto r2 = eval::tasks::run_task(*t.model, t.tok, c, o);
  EXPECT_EQ(r2.samples[1]["prompt"],
            "Question: Which gas do plants take in?\nAnswer: carbon dioxide\n\n"
            "Question: Cé mhéad cos atá ar mhadra?\nAnswer: ceithre cinn\n\n"
            "Question: Cén dath atá ar an spéir?\nAnswer:");
  EXPECT_EQ(r2.n_shot, 2);
  // The seeded sampler: reproducible, and never the document itself when it samples its own split.
  auto y = eval::tasks::load_task(kTasks + "xcopa_yue.yaml");
  o.limit = 0;
  o.num_fewshot = 1;
  auto a = eval::tasks::run_task(*t.model, t.tok, y, o);
  auto b = eval::tasks::run_task(*t.model, t.tok, y, o);
  for (size_t i = 0; i < a.samples.size(); ++i) {
    EXPECT_EQ(a.samples[i]["prompt"], b.samples[i]["prompt"]);
    const std::string p = a.samples[i]["prompt"];
    const std::string premise = a.samples[i]["doc"]["premise"];
    const std::string own = premise.substr(0, premise.size() - 3);  // without the final 。
    EXPECT_EQ(p.find("\n\n"), p.rfind("\n\n")) << p;                // one example
    EXPECT_EQ(p.substr(p.find("\n\n") + 2).rfind(own, 0), 0u) << p;  // then this document
    EXPECT_NE(p.rfind(own, 0), 0u) << p;                              // the example is another
  }
  o.num_fewshot = 4;  // 4 others are not there
  EXPECT_NE(error_of([&] { eval::tasks::run_task(*t.model, t.tok, y, o); }).find("num_fewshot 4"), std::string::npos);
}

TEST(TaskRun, LoglikelihoodRollingAndGeneration) {
  auto t = tiny();
  TempDir dir;
  write_text(dir.file("d.jsonl"), "{\"q\": \"The cat\", \"a\": \"sat on the mat\"}\n"
                                  "{\"q\": \"Tá sé\", \"a\": \"fuar\"}\n");
  const std::string common = "dataset_path: d.jsonl\ntest_split: test\ndoc_to_text: '{{q}}'\ndoc_to_target: a\n";
  write_text(dir.file("ll.yaml"), "task: ll\noutput_type: loglikelihood\n" + common);
  write_text(dir.file("roll.yaml"), "task: roll\noutput_type: loglikelihood_rolling\n" + common);
  eval::LmScorer scorer(*t.model, t.tok, eval::ScoringOptions{});

  auto ll = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(dir.file("ll.yaml")), TaskRunOptions{});
  // Templates keep a trailing newline and {% %} blocks keep theirs (lm-eval's Jinja settings).
  write_text(dir.file("nl.yaml"), "task: nl\noutput_type: loglikelihood\ndataset_path: d.jsonl\ntest_split: test\n"
                                  "doc_to_text: \"{% if q %}\\n{% endif %}{{q}}\\n\"\ndoc_to_target: a\n");
  auto nl = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(dir.file("nl.yaml")), TaskRunOptions{});
  EXPECT_EQ(nl.samples[0]["prompt"], "\nThe cat\n");
  auto want = scorer.loglikelihood({{"The cat", " sat on the mat"}, {"Tá sé", " fuar"}});
  EXPECT_NEAR(ll.metrics["perplexity,none"].get<double>(), std::exp(-(want[0].logprob + want[1].logprob) / 2), 1e-9);
  EXPECT_DOUBLE_EQ(ll.metrics["acc,none"].get<double>(), (want[0].is_greedy + want[1].is_greedy) / 2.0);
  const double se = ll.metrics["perplexity_stderr,none"].get<double>();
  EXPECT_EQ(se, eval::tasks::perplexity_bootstrap_stderr({want[0].logprob, want[1].logprob}, 100000, 1234));
  TaskRunOptions no_boot;
  no_boot.bootstrap_iters = 0;
  EXPECT_EQ(eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(dir.file("ll.yaml")), no_boot)
                .metrics["perplexity_stderr,none"],
            "N/A");

  auto roll = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(dir.file("roll.yaml")), TaskRunOptions{});
  auto rl = scorer.loglikelihood_rolling({"sat on the mat", "fuar"});
  const double sum = rl[0] + rl[1];
  const double bytes = 14 + 4;
  EXPECT_NEAR(roll.metrics["bits_per_byte,none"].get<double>(), -sum / bytes / std::log(2.0), 1e-9);
  EXPECT_NEAR(roll.metrics["byte_perplexity,none"].get<double>(), std::exp(-sum / bytes), 1e-9);
  EXPECT_NEAR(roll.metrics["word_perplexity,none"].get<double>(), std::exp(-sum / 5), 1e-9);

  // generate_until: the first target is what greedy decoding gives, the second is not.
  model::SamplingOptions so;
  so.temperature = 0;
  so.max_tokens = 4;
  so.stop_ids = {int32_t(t.model->config().eos_token_id)};
  auto g = model::generate_text(*t.model, t.tok, "The cat", false, so, {"\n\n"}, [](const std::string&) {});
  json first = {{"q", "The cat"}, {"a", g.text}};
  write_text(dir.file("g.jsonl"), first.dump() + "\n{\"q\": \"Tá sé\", \"a\": \"not this\"}\n{\"q\": \"x\"}\n");
  write_text(dir.file("gen.yaml"),
             "task: gen\noutput_type: generate_until\ndataset_path: g.jsonl\ntest_split: test\n"
             "doc_to_text: '{{q}}'\ndoc_to_target: a\ngeneration_kwargs:\n  until: [\"\\n\\n\"]\n  max_gen_toks: 4\n"
             "  do_sample: false\n");
  auto gen = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(dir.file("gen.yaml")), TaskRunOptions{});
  ASSERT_EQ(gen.samples.size(), 2u);
  EXPECT_EQ(gen.samples[0]["response"], g.text);
  EXPECT_DOUBLE_EQ(gen.metrics["exact_match,none"].get<double>(), 0.5);
  EXPECT_NEAR(gen.metrics["exact_match_stderr,none"].get<double>(), 0.5, 1e-12);
  // The row without "a" is skipped and named.
  ASSERT_EQ(gen.skipped.size(), 1u);
  EXPECT_NE(gen.skipped[0].find("g.jsonl:3"), std::string::npos) << gen.skipped[0];
  EXPECT_NE(gen.skipped[0].find("'a'"), std::string::npos) << gen.skipped[0];
}

TEST(TaskRun, BadRowsAreCountedSkips) {
  auto t = tiny();
  TempDir dir;
  write_text(dir.file("d.jsonl"),
             "{\"q\": \"The\", \"c\": [\"cat\", \"mat\"], \"a\": 1}\n"
             "{\"q\": \"The\", \"c\": [\"cat\", \"mat\"], \"a\": 5}\n"
             "not json\n"
             "{\"q\": \"The\", \"a\": 0}\n");
  write_text(dir.file("mc.yaml"), "task: mc\noutput_type: multiple_choice\ndataset_path: d.jsonl\ntest_split: test\n"
                                  "doc_to_text: '{{q}}'\ndoc_to_target: a\ndoc_to_choice: c\n");
  auto r = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(dir.file("mc.yaml")), TaskRunOptions{});
  EXPECT_EQ(r.n_docs, 1u);
  ASSERT_EQ(r.skipped.size(), 3u);
  const std::string all = lines_of(r.skipped);
  EXPECT_NE(all.find("d.jsonl:2: target index 5"), std::string::npos) << all;
  EXPECT_NE(all.find("d.jsonl:3: not a JSON object"), std::string::npos) << all;
  EXPECT_NE(all.find("d.jsonl:4: lacks field 'c'"), std::string::npos) << all;
  EXPECT_EQ(r.metrics["acc_stderr,none"], "N/A");  // one document: no sample standard error
  // A template reading a field the row lacks skips the row (lm-eval's StrictUndefined raises);
  // names the template binds itself, and the builtins, are not fields.
  write_text(dir.file("typo.yaml"), "task: typo\noutput_type: multiple_choice\ndataset_path: d.jsonl\n"
                                    "test_split: test\ndoc_to_text: '{% for x in c %}{{x|upper}}{% endfor %}{{qq}}'\n"
                                    "doc_to_target: a\ndoc_to_choice: c\n");
  auto typo = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(dir.file("typo.yaml")), TaskRunOptions{});
  EXPECT_EQ(typo.n_docs, 0u);
  ASSERT_EQ(typo.skipped.size(), 4u);
  const std::string typos = lines_of(typo.skipped);
  EXPECT_NE(typos.find("d.jsonl:1: doc_to_text uses 'qq', a field this row lacks"), std::string::npos) << typos;
}

TEST(TaskRun, FiltersDescriptionIgnoreCaseAndTruncation) {
  auto t = tiny();
  TempDir dir;
  model::SamplingOptions so;
  so.temperature = 0;
  so.max_tokens = 6;
  so.stop_ids = {int32_t(t.model->config().eos_token_id)};
  const std::string prompt = "The : The cat";  // the description is a template too
  auto g = model::generate_text(*t.model, t.tok, prompt, false, so, {"\n\n"}, [](const std::string&) {});
  // The target is the response's first run of non-space characters, upper-cased: only the regex
  // filter and ignore_case together make it match.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(g.text, m, std::regex("\\S+"))) << g.text;
  std::string want = m.str(0);
  for (auto& ch : want) ch = char(std::toupper(static_cast<unsigned char>(ch)));
  write_text(dir.file("d.jsonl"), json({{"q", "The cat"}, {"a", want}}).dump() + "\n");
  const std::string head = "task: f\noutput_type: generate_until\ndataset_path: d.jsonl\ntest_split: test\n"
                           "description: '{{q[:4]}}: '\ndoc_to_text: '{{q}}'\ndoc_to_target: a\n"
                           "generation_kwargs:\n  until: [\"\\n\\n\"]\n  max_gen_toks: 6\n";
  const std::string filter = "filter_list:\n  - name: first_word\n    filter:\n      - function: regex\n"
                             "        regex_pattern: '(\\S+)'\n      - function: take_first\n";
  write_text(dir.file("f.yaml"), head + filter + "metric_list:\n  - metric: exact_match\n    ignore_case: true\n");
  auto r = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(dir.file("f.yaml")), TaskRunOptions{});
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_EQ(r.samples[0]["prompt"], prompt);
  EXPECT_EQ(r.samples[0]["response"], g.text);
  EXPECT_EQ(r.samples[0]["prediction"], m.str(0));
  EXPECT_EQ(r.metrics["exact_match,first_word"], 1.0);
  write_text(dir.file("nocase.yaml"), head + filter);
  auto nc = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(dir.file("nocase.yaml")), TaskRunOptions{});
  EXPECT_EQ(nc.metrics["exact_match,first_word"], want == m.str(0) ? 1.0 : 0.0);
  // A prompt past the window keeps its right end, as lm-eval, instead of failing.
  std::string longq;
  for (int i = 0; i < 120; ++i) longq += " The cat sat";
  write_text(dir.file("d.jsonl"), json({{"q", longq}, {"a", "x"}}).dump() + "\n");
  auto lr = eval::tasks::run_task(*t.model, t.tok, eval::tasks::load_task(dir.file("f.yaml")), TaskRunOptions{});
  EXPECT_EQ(lr.samples[0]["truncated"], true);
  // A filter this subset does not have is an error naming it.
  write_text(dir.file("bad.yaml"), head + "filter_list:\n  - name: x\n    filter:\n      - function: majority_vote\n");
  auto e = error_of([&] { eval::tasks::load_task(dir.file("bad.yaml")); });
  EXPECT_NE(e.find("majority_vote"), std::string::npos) << e;
  EXPECT_NE(e.find("bad.yaml:14"), std::string::npos) << e;
}

TEST(EvalRun, CommandWritesLmEvalResults) {
  TempDir dir;
  auto t = tiny();
  model::save_hf_model(dir.file("m"), *t.model);
  t.tok.save(dir.file("m"));
  auto r = run_nativelm("eval run " + dir.file("m") + " --tasks " + kTasks + "arc_easy.yaml," + kTasks +
                            "xcopa_yue.yaml --num-fewshot 1 --limit 3 --output " + dir.file("out"),
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| arc_easy | 1 | 3 | 0 | acc,none |"), std::string::npos) << r.out;
  std::ifstream in(dir.file("out/results.json"));
  json j = json::parse(in);
  EXPECT_TRUE(j["results"]["arc_easy"].contains("acc_norm,none"));
  EXPECT_TRUE(j["results"]["xcopa_yue"].contains("acc_stderr,none"));
  EXPECT_EQ(j["n-shot"]["arc_easy"], 1);
  EXPECT_EQ(j["config"]["limit"], 3);
  EXPECT_TRUE(j.contains("versions"));
  EXPECT_EQ(j["higher_is_better"]["arc_easy"]["acc"], true);
  EXPECT_EQ(j["n-samples"]["arc_easy"]["original"], 4);
  EXPECT_EQ(j["n-samples"]["arc_easy"]["effective"], 3);
  std::ifstream samples(dir.file("out/samples_arc_easy.jsonl"));
  std::string line;
  int n = 0;
  while (std::getline(samples, line)) {
    auto s = json::parse(line);
    EXPECT_TRUE(s.contains("doc_id") && s.contains("prompt") && s.contains("logprobs") && s.contains("target"));
    ++n;
  }
  EXPECT_EQ(n, 3);
  // The same command again reads every request from the cache and writes the same results.
  const std::string first = read_text(dir.file("out/results.json"));
  auto again = run_nativelm("eval run " + dir.file("m") + " --tasks " + kTasks + "arc_easy.yaml," + kTasks +
                                "xcopa_yue.yaml --num-fewshot 1 --limit 3 --output " + dir.file("out"),
                            dir.path());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("scoring only what is missing"), std::string::npos) << again.err;
  EXPECT_EQ(read_text(dir.file("out/results.json")), first);
  auto no_cache = run_nativelm("eval run " + dir.file("m") + " --tasks " + kTasks + "arc_easy.yaml --limit 2 --no-cache "
                               "--output " + dir.file("out2"), dir.path());
  ASSERT_EQ(no_cache.exit_code, 0) << no_cache.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out2/requests_cache.jsonl")));
  // An unknown key is a usage error naming it and its line.
  write_text(dir.file("bad.yaml"), "task: b\nnot_a_key: 1\n");
  auto bad = run_nativelm("eval run " + dir.file("m") + " --tasks " + dir.file("bad.yaml"), dir.path());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("not_a_key"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("bad.yaml:2"), std::string::npos) << bad.err;
}

// An interrupted run (its request cache cut short mid-line, as a kill leaves it) resumes: whole
// chunks come from the cache, the rest is scored, and every number equals the uninterrupted run's.
TEST(EvalRun, InterruptedRunResumesFromTheRequestCache) {
  auto t = tiny();
  TempDir dir;
  std::string rows, gen_rows;
  const char* words[] = {"Dia duit", "Tá sé fuar", "The cat", "粵語", "Kaixo", "Bonjour"};
  for (int i = 0; i < 80; ++i) {  // 80 docs × 4 choices = 320 requests: two chunks of 256
    json d = {{"q", std::string(words[i % 6]) + " " + std::to_string(i)},
              {"choices", {"a", "bb", "ccc", words[(i + 1) % 6]}},
              {"gold", i % 4}};
    rows += d.dump() + "\n";
    if (i < 6) gen_rows += json({{"q", words[i]}, {"a", "x"}}).dump() + "\n";
  }
  write_text(dir.file("mc.jsonl"), rows);
  write_text(dir.file("g.jsonl"), gen_rows);
  write_text(dir.file("mc.yaml"), "task: mc\noutput_type: multiple_choice\ndataset_path: mc.jsonl\ntest_split: test\n"
                                  "doc_to_text: '{{q}}'\ndoc_to_choice: '{{choices}}'\ndoc_to_target: gold\n");
  write_text(dir.file("gen.yaml"), "task: gen\noutput_type: generate_until\ndataset_path: g.jsonl\ntest_split: test\n"
                                   "doc_to_text: '{{q}}'\ndoc_to_target: a\ngeneration_kwargs:\n  until: [\"\\n\"]\n"
                                   "  max_gen_toks: 3\n");
  const auto mc = eval::tasks::load_task(dir.file("mc.yaml")), gen = eval::tasks::load_task(dir.file("gen.yaml"));
  const std::string path = dir.file("out/requests_cache.jsonl");
  TaskRunOptions o;
  eval::tasks::TaskResult full_mc, full_gen;
  {
    eval::tasks::RequestCache cache(path, "fp");
    full_mc = eval::tasks::run_task(*t.model, t.tok, mc, o, &cache);
    full_gen = eval::tasks::run_task(*t.model, t.tok, gen, o, &cache);
  }
  EXPECT_EQ(full_mc.scored, 320u);
  EXPECT_EQ(full_gen.scored, 6u);
  // Cut ten lines into the second chunk, mid-line (the generations after it are lost too).
  std::string text = read_text(path);
  size_t pos = 0;
  for (int line = 0; line < 1 + 256 + 10; ++line) pos = text.find('\n', pos) + 1;
  write_text(path, text.substr(0, pos + 17));
  {
    eval::tasks::RequestCache cache(path, "fp");
    EXPECT_EQ(cache.loaded(), 266u);
    auto again_mc = eval::tasks::run_task(*t.model, t.tok, mc, o, &cache);
    auto again_gen = eval::tasks::run_task(*t.model, t.tok, gen, o, &cache);
    EXPECT_EQ(again_mc.cached, 256u);
    EXPECT_EQ(again_mc.scored, 64u);
    EXPECT_EQ(again_gen.cached, 0u);
    EXPECT_EQ(again_gen.scored, 6u);
    EXPECT_EQ(again_mc.metrics.dump(), full_mc.metrics.dump());
    ASSERT_EQ(again_mc.samples.size(), full_mc.samples.size());
    for (size_t i = 0; i < full_mc.samples.size(); ++i) EXPECT_EQ(again_mc.samples[i].dump(), full_mc.samples[i].dump());
    EXPECT_EQ(again_gen.metrics.dump(), full_gen.metrics.dump());
  }
  {  // Now whole: nothing is scored again.
    eval::tasks::RequestCache cache(path, "fp");
    auto third = eval::tasks::run_task(*t.model, t.tok, mc, o, &cache);
    EXPECT_EQ(third.cached, 320u);
    EXPECT_EQ(third.scored, 0u);
    EXPECT_EQ(third.metrics.dump(), full_mc.metrics.dump());
  }
  {  // Another model or other settings: the file starts over.
    eval::tasks::RequestCache cache(path, "other");
    EXPECT_EQ(cache.loaded(), 0u);
    auto fresh = eval::tasks::run_task(*t.model, t.tok, gen, o, &cache);
    EXPECT_EQ(fresh.scored, 6u);
  }
  EXPECT_EQ(read_text(path).substr(0, 24), "{\"fingerprint\":\"other\"}\n");
}

// --mlflow: one FINISHED run with the config and task settings as params, every results number
// as TASK/metric at step 0, and results.json and the samples files as artifacts.
TEST(EvalRun, MlflowLogsTheRun) {
  TempDir dir;
  auto t = tiny();
  model::save_hf_model(dir.file("m"), *t.model);
  t.tok.save(dir.file("m"));
  auto r = run_nativelm("eval run " + dir.file("m") + " --tasks " + kTasks + "arc_easy.yaml --num-fewshot 1 --limit 3 "
                            "--output " + dir.file("out") + " --mlflow " + dir.file("mlruns"),
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(eval::tasks::mlflow_metric_key("t", "acc,none"), "t/acc");
  EXPECT_EQ(eval::tasks::mlflow_metric_key("t", "exact_match,strict-match"), "t/exact_match.strict-match");
  const std::string exp = dir.file("mlruns/1");
  EXPECT_NE(read_text(exp + "/meta.yaml").find("name: 'nativelm'\n"), std::string::npos);
  std::string run;
  for (auto& e : std::filesystem::directory_iterator(exp))
    if (e.is_directory()) run = e.path().string();
  ASSERT_FALSE(run.empty());
  EXPECT_NE(read_text(run + "/meta.yaml").find("\nstatus: 3\n"), std::string::npos);
  json j = json::parse(read_text(dir.file("out/results.json")));
  for (auto& [k, v] : j["results"]["arc_easy"].items()) {
    if (!v.is_number()) continue;
    const std::string line = read_text(run + "/metrics/arc_easy/" + k.substr(0, k.find(',')));
    ASSERT_EQ(line.back(), '\n') << k;
    EXPECT_EQ(line.substr(line.rfind(' ', line.size() - 2)), " 0\n") << k;
    EXPECT_NEAR(std::stod(line.substr(line.find(' ') + 1)), v.get<double>(), 1e-12) << k;
  }
  EXPECT_EQ(read_text(run + "/params/config.limit"), "3");
  EXPECT_EQ(read_text(run + "/params/arc_easy.n_shot"), "1");
  EXPECT_EQ(read_text(run + "/params/tasks"), "arc_easy");
  EXPECT_EQ(read_text(run + "/artifacts/results.json"), read_text(dir.file("out/results.json")));
  EXPECT_EQ(read_text(run + "/artifacts/samples_arc_easy.jsonl"), read_text(dir.file("out/samples_arc_easy.jsonl")));
}

}  // namespace
}  // namespace nlm::testing
