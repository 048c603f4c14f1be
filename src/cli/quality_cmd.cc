// `nativelm quality train|eval`: flags come from curate::declare(Schema&, ...) for each command's
// options and the read options; this file adds the positional inputs and makes one library call
// per command.
#include <cstdio>

#include "cli/document_command.h"
#include "curate/quality_train.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto& quality = cli::group(root, "quality", "Quality classifiers (fastText) for the curate quality step");
  auto* sub = quality.add_subcommand(
      "train", "Train a fastText quality classifier from labelled JSONL, e.g. hq for curated text, lq for crawl");
  auto c = cli::bind_documents<curate::QualityTrainOptions>(
      *sub, {"quality train", "Labelled JSONL files, folders or globs",
             [](opt::Schema& s, curate::QualityTrainOptions& o) { curate::declare(s, o); },
             [](curate::QualityTrainOptions& o) -> corpus::ReadOptions& { return o.read; }});
  actions[sub] = [c] {
    if (!c->flags->apply()) return 0;
    auto result = c->run([&] { return curate::train_quality(corpus::expand_inputs(c->inputs), c->options); });
    std::printf("%s; model written to %s\n", result.summary().c_str(), c->options.output.c_str());
    return 0;
  };

  auto* eval = quality.add_subcommand(
      "eval", "Score a quality classifier on labelled documents: AUC, accuracy at a threshold, scores by label");
  auto e = cli::bind_documents<curate::QualityEvalOptions>(
      *eval, {"quality eval", "Labelled input files, folders or globs",
              [](opt::Schema& s, curate::QualityEvalOptions& o) { curate::declare(s, o); },
              [](curate::QualityEvalOptions& o) -> corpus::ReadOptions& { return o.read; }});
  actions[eval] = [e] {
    if (!e->flags->apply()) return 0;
    auto result = e->run([&] { return curate::quality_eval(corpus::expand_inputs(e->inputs), e->options); });
    std::string text = e->options.json ? result.to_json() + "\n" : result.to_table();
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(21, setup);
