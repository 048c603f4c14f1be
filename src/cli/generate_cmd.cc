// `nativelm generate`: KV-cache sampling from an HF model directory: text in and streamed text
// out through the directory's tokenizer.json, or token ids with --prompt-ids.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/command.h"
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
  struct Opts {
    std::string model, prompt_ids, prompt;
    std::vector<std::string> stop;
    bool no_bos = false;
    model::SamplingOptions s;
    bool no_eos = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = root.add_subcommand("generate", "Generate tokens from a model with a KV cache");
  sub->add_option("-m,--model", o->model, "HF model directory")->required();
  sub->add_option("prompt", o->prompt, "Prompt text (read from stdin when absent)");
  sub->add_option("--prompt-ids", o->prompt_ids, "Prompt as space-separated token ids ('-' = stdin); prints ids");
  sub->add_option("--stop", o->stop, "Stop before this string (repeatable)");
  sub->add_flag("--no-bos", o->no_bos, "Do not add the tokenizer's BOS token to a text prompt");
  sub->add_option("--max-tokens", o->s.max_tokens, "New tokens at most")->capture_default_str();
  sub->add_option("--temperature", o->s.temperature, "0 = greedy")->capture_default_str();
  sub->add_option("--top-k", o->s.top_k, "Keep the k most likely (0 = off)")->capture_default_str();
  sub->add_option("--top-p", o->s.top_p, "Nucleus mass (1 = off)")->capture_default_str();
  sub->add_option("--min-p", o->s.min_p, "Drop tokens below min_p x the top probability")->capture_default_str();
  sub->add_option("--repetition-penalty", o->s.repetition_penalty, "1 = off")->capture_default_str();
  sub->add_option("--seed", o->s.seed, "Sampling seed")->capture_default_str();
  sub->add_option("--stop-id", o->s.stop_ids, "Stop after this token id (repeatable; EOS by default)");
  sub->add_flag("--no-eos-stop", o->no_eos, "Do not stop at the model's EOS id");
  actions[sub] = [o] {
    auto m = model::load_hf_model(o->model, tensor::backend_for("cpu"));
    auto s = o->s;
    if (!o->no_eos && m->config().eos_token_id >= 0) s.stop_ids.push_back(static_cast<int32_t>(m->config().eos_token_id));
    if (o->prompt_ids.empty()) {
      std::string path = o->model + "/tokenizer.json";
      auto tok = tokenizer::Tokenizer::load(path);
      std::string prompt = o->prompt;
      if (prompt.empty()) prompt.assign(std::istreambuf_iterator<char>(std::cin), {});
      std::fwrite(prompt.data(), 1, prompt.size(), stdout);
      model::generate_text(*m, tok, prompt, !o->no_bos, s, o->stop, [](const std::string& piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
      });
      std::printf("\n");
      return 0;
    }
    std::string text = o->prompt_ids;
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
