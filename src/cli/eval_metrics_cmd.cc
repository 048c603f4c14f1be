// `nativelm eval bleu|chrf|rouge --hyp FILE --ref FILE [--ref FILE2]`: generation metrics over
// line-aligned files, printed with sacreBLEU's signature (or as JSON). Flags come from the
// metrics' declare() functions; the work is one eval::metrics::score_*_files call.
#include <cstdio>

#include "cli/option_flags.h"
#include "eval/metrics/score_files.h"

namespace {

using namespace nlm;
using namespace nlm::eval::metrics;

template <class Options, class Score>
void add_metric(CLI::App& group, cli::Actions& actions, const std::string& name, const std::string& help,
                Score score) {
  auto* sub = group.add_subcommand(name, help);
  auto c = std::make_shared<cli::Bound<Options>>("eval " + name);
  auto in = std::make_shared<MetricInputs>();
  sub->add_option("--hyp", in->hyp, "Hypotheses, one segment per line")->required();
  cli::literal_list(sub->add_option("--ref,-r", in->refs, "Reference file, line-aligned with --hyp (repeat for more)"))
      ->required();
  sub->add_flag("--json", in->json, "Print JSON");
  if (name != "rouge") sub->add_flag("--sentence-level", in->sentence_level, "Also print each segment's score");
  declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, in, score] {
    if (!c->flags->apply()) return 0;
    std::string out = c->run([&] { return score(*in, c->options); });
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  };
}

void setup(CLI::App& root, cli::Actions& actions) {
  auto& group = cli::group(root, "eval", "Evaluate models");
  add_metric<BleuOptions>(group, actions, "bleu", "Corpus BLEU as sacreBLEU computes it, with its signature",
                          score_bleu_files);
  add_metric<ChrfOptions>(group, actions, "chrf", "chrF / chrF++ (--word-order 2) as sacreBLEU computes them",
                          score_chrf_files);
  add_metric<RougeOptions>(group, actions, "rouge",
                           "ROUGE-1/2/L/Lsum (rouge-score definitions; Unicode-aware tokenizer by default)",
                           score_rouge_files);
}

}  // namespace

NLM_REGISTER_COMMAND(61, setup);
