// `nativelm lid train|labels|predict|eval`: flags come from curate::declare(Schema&, ...) for
// each command's options and the read options; this file adds the positional inputs and makes one
// library call per command.
#include <cstdio>
#include <memory>

#include "cli/document_command.h"
#include "core/runtime.h"
#include "curate/lid.h"
#include "curate/lid_eval.h"
#include "curate/lid_train.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto& lid = cli::group(root, "lid", "Language identification models");
  auto* sub = lid.add_subcommand(
      "train", "Train a fastText language-ID model from labelled JSONL (use it with curate --lid-model)");
  auto c = cli::bind_documents<curate::LidTrainOptions>(
      *sub, {"lid train", "Labelled JSONL files, folders or globs",
             [](opt::Schema& s, curate::LidTrainOptions& o) { curate::declare(s, o); },
             [](curate::LidTrainOptions& o) -> corpus::ReadOptions& { return o.read; }});
  actions[sub] = [c] {
    if (!c->flags->apply()) return 0;
    auto result = c->run([&] { return curate::train_lid(corpus::expand_inputs(c->inputs), c->options); });
    std::printf("%s; model written to %s\n", result.summary().c_str(), c->options.output.c_str());
    return 0;
  };

  auto* labels = lid.add_subcommand(
      "labels", "List the languages the identifier can emit: CLD2's, or a fastText model's (--lid-model)");
  auto l = std::make_shared<cli::Bound<curate::LidLabelsOptions>>("lid labels");
  curate::declare(l->schema, l->options);
  l->bind(*labels);
  actions[labels] = [l] {
    if (!l->flags->apply()) return 0;
    std::string text = l->run([&] { return curate::lid_labels_text(l->options); });
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  };

  auto* predict = lid.add_subcommand(
      "predict", "Write the documents with the identifier's lang and lang_score (JSONL, to stdout or -o)");
  auto p = cli::bind_documents<curate::LidPredictOptions>(
      *predict, {"lid predict", "Input files, folders or globs (JSONL, text; .gz/.zst/.bz2 ok)",
                 [](opt::Schema& s, curate::LidPredictOptions& o) { curate::declare(s, o); },
                 [](curate::LidPredictOptions& o) -> corpus::ReadOptions& { return o.read; }});
  actions[predict] = [p] {
    if (!p->flags->apply()) return 0;
    auto result = p->run([&] { return curate::lid_predict(corpus::expand_inputs(p->inputs), p->options); });
    // Standard output may be the documents themselves, so the summary goes to stderr.
    if (!runtime_options().quiet) std::fprintf(stderr, "%s\n", result.summary().c_str());
    return 0;
  };

  auto* eval = lid.add_subcommand(
      "eval", "Score the identifier on labelled documents: accuracy, per-language precision/recall/F1, confusions");
  auto e = cli::bind_documents<curate::LidEvalOptions>(
      *eval, {"lid eval", "Labelled input files, folders or globs",
              [](opt::Schema& s, curate::LidEvalOptions& o) { curate::declare(s, o); },
              [](curate::LidEvalOptions& o) -> corpus::ReadOptions& { return o.read; }});
  actions[eval] = [e] {
    if (!e->flags->apply()) return 0;
    auto result = e->run([&] { return curate::lid_eval(corpus::expand_inputs(e->inputs), e->options); });
    std::string table = result.to_table();
    std::fwrite(table.data(), 1, table.size(), stdout);
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(20, setup);
