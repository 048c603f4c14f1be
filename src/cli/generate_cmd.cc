// `nativelm generate`: KV-cache sampling from an HF model directory: text in and streamed text
// out through the directory's tokenizer.json, or token ids with --prompt-ids. Flags come from
// model::declare (GenerateOptions, with the sampling keys the pipeline's eval stage shares).
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/option_flags.h"
#include "core/error.h"
#include "model/hf_checkpoint.h"
#include "model/sampler.h"
#include "model/text_generation.h"
#include "tokenizer/tokenizer.h"
#include "tensor/backend.h"

namespace {

using namespace nlm;

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    try {
      size_t used = 0;
      long v = std::stol(w, &used);
      if (used != w.size()) throw std::invalid_argument(w);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      usage_error("'" + w + "' is not a token id", "--prompt-ids", "give space-separated integers");
    }
  }
  return ids;
}

void setup(CLI::App& root, cli::Actions& actions) {
  struct Inputs {
    std::string model, prompt_ids, prompt;
  };
  auto in = std::make_shared<Inputs>();
  auto c = std::make_shared<cli::Bound<model::GenerateOptions>>("generate");
  auto* sub = root.add_subcommand("generate", "Generate tokens from a model with a KV cache");
  sub->add_option("-m,--model", in->model, "HF model directory")->required();
  sub->add_option("prompt", in->prompt, "Prompt text (read from stdin when absent)");
  sub->add_option("--prompt-ids", in->prompt_ids, "Prompt as space-separated token ids ('-' = stdin); prints ids");
  model::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, in] {
    if (!c->flags->apply()) return 0;
    const auto& o = c->options;
    auto m = c->run([&] { return model::load_hf_model(in->model, tensor::backend_for(o.device)); });
    auto s = o.sampling;
    if (o.eos_stop && m->config().eos_token_id >= 0) s.stop_ids.push_back(static_cast<int32_t>(m->config().eos_token_id));
    if (in->prompt_ids.empty()) {
      std::string path = in->model + "/tokenizer.json";
      auto tok = tokenizer::Tokenizer::load(path);
      std::string prompt = in->prompt;
      if (prompt.empty()) prompt.assign(std::istreambuf_iterator<char>(std::cin), {});
      std::fwrite(prompt.data(), 1, prompt.size(), stdout);
      model::generate_text(*m, tok, prompt, o.add_bos, s, o.stop, [](const std::string& piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
      });
      std::printf("\n");
      return 0;
    }
    std::string text = in->prompt_ids;
    if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), {});
    auto prompt = parse_ids(text);
    bool first = true;
    model::generate(*m, prompt, s, [&](int32_t t) {
      std::printf(first ? "%d" : " %d", t);
      first = false;
      std::fflush(stdout);
      return true;
    });
    std::printf("\n");
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(70, setup);
