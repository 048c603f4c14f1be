// `nativelm eval ppl`: rolling-window perplexity of an HF model directory over the documents of
// .tok shards or of text/JSONL files (encoded with the model's tokenizer.json).
#include <cstdio>

#include "cli/command.h"
#include "cli/read_flags.h"
#include "corpus/inputs.h"
#include "eval/perplexity.h"
#include "model/hf_checkpoint.h"
#include "tensor/backend.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto& group = cli::group(root, "eval", "Evaluate models");
  struct Opts {
    std::string model;
    std::vector<std::string> inputs;
    cli::ReadFlags read;
    eval::PerplexityOptions ppl;
    uint64_t max_docs = 0;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = group.add_subcommand("ppl", "Perplexity (bits per byte, byte and token perplexity), lm-eval-harness rolling windows");
  sub->add_option("-m,--model", o->model, "HF model directory")->required();
  sub->add_option("inputs", o->inputs,
                  ".tok shards, or documents (JSONL or text; .gz/.zst/.bz2 ok) encoded with the model's "
                  "tokenizer.json; files, folders or globs; each document is scored separately")
      ->required();
  sub->add_option("--max-length", o->ppl.max_length, "Window length (0 = model context)")->capture_default_str();
  sub->add_option("--prefix-token", o->ppl.prefix_token, "Token before each document (-1 = BOS)")
      ->capture_default_str();
  sub->add_option("--max-docs", o->max_docs, "Score at most this many documents (0 = all)")->capture_default_str();
  sub->add_flag("--json", o->json, "Print JSON");
  cli::add_read_flags(*sub, o->read);
  actions[sub] = [o] {
    auto m = model::load_hf_model(o->model, tensor::backend_for("cpu"));
    auto docs = eval::read_eval_documents(o->model, corpus::expand_inputs(o->inputs), o->read.resolve(),
                                          o->max_docs, m->config().vocab_size);
    auto res = eval::rolling_perplexity(*m, docs.tokens, docs.bytes, o->ppl);
    std::string out = o->json ? res.to_json() : res.to_table();
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(60, setup);
