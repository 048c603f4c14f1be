// Text generation with streaming and stop strings (see text_generation.h).
#include "model/text_generation.h"

#include <algorithm>
#include <iostream>
#include <iterator>
#include <sstream>
#include <utility>

#include "core/options.h"
#include "model/decoder.h"
#include "model/hf_checkpoint.h"
#include "model/quantized_checkpoint.h"
#include "tensor/backend.h"

namespace nlm::model {

void declare(opt::Schema& s, GenerateOptions& o) {
  s.add("model", o.model_dir, "HF model folder").flag("-m,--model").no_yaml().no_json();
  s.add("prompt_ids", o.prompt_ids,
        "Prompt as token ids (5 17 42, or lists and ranges 5,17,40-42; '-' reads stdin); prints ids")
      .no_yaml()
      .no_json();
  declare(s, o.sampling);
  s.add("stop", o.stop, "Stop before this string (repeatable; it is not printed)");
  s.add("add_bos", o.add_bos, "Put the tokenizer's BOS token before a text prompt").flag("--no-bos");
  s.add("eos_stop", o.eos_stop,
        "Stop at the model's EOS ids (config.json, and generation_config.json's eos_token_id list)")
      .flag("--no-eos-stop");
  s.add("device", o.device, "Compute device: cpu, or cuda / cuda:N in builds with CUDA");
  s.add("weights", o.weights,
        "Weights of the CPU inference engine: f32, bf16 or int8 (per-row scales; about a quarter of the bytes)");
}

namespace {
// Length of the longest prefix of s that ends on a UTF-8 character boundary.
size_t complete_utf8(const std::string& s) {
  size_t n = s.size(), i = n;
  while (i > 0 && i > n - 4 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) --i;
  if (i == 0) return n;
  unsigned char lead = static_cast<unsigned char>(s[i - 1]);
  size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  return (n - (i - 1) >= need) ? n : i - 1;
}

// The part of a decoded text that later tokens cannot change: decoding replaces an incomplete
// UTF-8 sequence at the end with U+FFFD, which the next byte token may complete, so trailing
// U+FFFDs are held back too (the final flush prints them if they stay).
size_t stable_prefix(const std::string& s) {
  size_t n = complete_utf8(s);
  static const std::string kReplacement = "\xEF\xBF\xBD";
  while (n >= 3 && s.compare(n - 3, 3, kReplacement) == 0) n -= 3;
  return n;
}
}  // namespace

TextStream::TextStream(const tokenizer::Tokenizer& tok, std::vector<std::string> stop,
                       std::function<void(const std::string&)> on_text)
    : tok_(tok), stop_(std::move(stop)), on_text_(std::move(on_text)) {
  for (auto& s : stop_) hold_ = std::max(hold_, s.size());
}

bool TextStream::push(int32_t t) {
  if (stopped_) return false;
  ids_.push_back(static_cast<uint32_t>(t));
  std::string text = tok_.decode(ids_, true);
  size_t cut = std::string::npos;
  for (auto& s : stop_) {
    size_t p = s.empty() ? std::string::npos : text.find(s);
    if (p != std::string::npos) cut = std::min(cut, p);
  }
  if (cut != std::string::npos) {
    text.resize(cut);
    stopped_ = true;
  }
  size_t ready = stopped_ ? text.size() : stable_prefix(text);
  if (!stopped_) ready = ready > hold_ ? std::min(ready, text.size() - hold_) : 0;
  ready = complete_utf8(text.substr(0, ready));
  if (ready > emitted_) {
    on_text_(text.substr(emitted_, ready - emitted_));
    emitted_ = ready;
  }
  text_ = std::move(text);
  return !stopped_;
}

void TextStream::finish() {
  if (emitted_ < text_.size()) on_text_(text_.substr(emitted_));
  emitted_ = text_.size();
}

namespace {

// Streams the decoded continuation of `gen` (which runs the token loop, calling back per token).
TextGenerationResult text_loop(const tokenizer::Tokenizer& tok, const std::vector<std::string>& stop_strings,
                               const std::function<void(const std::string&)>& on_text,
                               const std::function<std::vector<int32_t>(const std::function<bool(int32_t)>&)>& gen) {
  TextStream stream(tok, stop_strings, on_text);
  TextGenerationResult r;
  r.tokens = gen([&](int32_t t) { return stream.push(t); });
  stream.finish();
  r.text = stream.text();
  r.stop_string = stream.stopped();
  return r;
}

std::vector<int32_t> encode(const tokenizer::Tokenizer& tok, const std::string& prompt, bool add_bos) {
  std::vector<int32_t> ids;
  for (uint32_t t : tok.encode(prompt, add_bos)) ids.push_back(static_cast<int32_t>(t));
  return ids;
}

}  // namespace

TextGenerationResult generate_text(Llama& model, const tokenizer::Tokenizer& tok, const std::string& prompt,
                                   bool add_bos, const SamplingOptions& options,
                                   const std::vector<std::string>& stop_strings,
                                   const std::function<void(const std::string&)>& on_text) {
  return generate_text_ids(model, tok, encode(tok, prompt, add_bos), options, stop_strings, on_text);
}

TextGenerationResult generate_text(Decoder& decoder, const tokenizer::Tokenizer& tok, const std::string& prompt,
                                   bool add_bos, const SamplingOptions& options,
                                   const std::vector<std::string>& stop_strings,
                                   const std::function<void(const std::string&)>& on_text) {
  return generate_text_ids(decoder, tok, encode(tok, prompt, add_bos), options, stop_strings, on_text);
}

TextGenerationResult generate_text_ids(Llama& model, const tokenizer::Tokenizer& tok, std::vector<int32_t> ids,
                                       const SamplingOptions& options,
                                       const std::vector<std::string>& stop_strings,
                                       const std::function<void(const std::string&)>& on_text) {
  if (ids.empty() && model.config().bos_token_id >= 0) ids.push_back(static_cast<int32_t>(model.config().bos_token_id));
  SamplingOptions o = options;
  if (o.vocab_limit == 0) o.vocab_limit = tok.vocab_size();  // padding rows past the tokenizer have no text
  return text_loop(tok, stop_strings, on_text,
                   [&](const std::function<bool(int32_t)>& on_token) { return generate(model, ids, o, on_token); });
}

TextGenerationResult generate_text_ids(Decoder& decoder, const tokenizer::Tokenizer& tok, std::vector<int32_t> ids,
                                       const SamplingOptions& options,
                                       const std::vector<std::string>& stop_strings,
                                       const std::function<void(const std::string&)>& on_text) {
  if (ids.empty() && decoder.config().bos_token_id >= 0) ids.push_back(static_cast<int32_t>(decoder.config().bos_token_id));
  SamplingOptions o = options;
  if (o.vocab_limit == 0) o.vocab_limit = tok.vocab_size();  // padding rows past the tokenizer have no text
  return text_loop(tok, stop_strings, on_text, [&](const std::function<bool(int32_t)>& on_token) {
    return generate(decoder, 0, ids, o, on_token);
  });
}

namespace {
// The prompt as ids: parsed from prompt_ids, or the text encoded.
std::vector<int32_t> prompt_ids(const GenerateOptions& o, const std::string& text, int64_t vocab,
                                const tokenizer::Tokenizer* tok) {
  if (tok) return encode(*tok, text, o.add_bos);
  std::vector<std::string> items;
  std::istringstream words(text);
  for (std::string w; words >> w;) items.push_back(w);
  std::vector<int32_t> ids;
  for (uint32_t id : opt::parse_id_list(items, "prompt_ids", static_cast<uint64_t>(vocab))) ids.push_back(static_cast<int32_t>(id));
  return ids;
}
}  // namespace

void run_generate(const GenerateOptions& o, const std::string& prompt, std::istream& in, std::ostream& out) {
  const auto format = tensor::cpu::parse_weight_format(o.weights, "--weights");
  if (o.device != "cpu" && format != tensor::cpu::WeightFormat::F32)
    usage_error("--weights " + o.weights + " is for the CPU inference engine", "generate", "drop --weights or use --device cpu");
  auto m = load_hf_model(o.model_dir, tensor::backend_for(o.device));
  SamplingOptions s = o.sampling;
  for (auto [id, b] : s.logit_bias)
    if (id >= m->config().vocab_size)
      usage_error("--logit-bias names token " + std::to_string(id) + ", past the model's vocabulary of " +
                      std::to_string(m->config().vocab_size),
                  "generate", "give ids below " + std::to_string(m->config().vocab_size));
  if (o.eos_stop && m->config().eos_token_id >= 0) s.stop_ids.push_back(static_cast<int32_t>(m->config().eos_token_id));
  if (o.eos_stop)  // a chat model's end-of-turn token (written by `nativelm sft`, or by transformers)
    for (int64_t id : load_generation_eos_ids(o.model_dir))
      if (id >= 0 && id < m->config().vocab_size) s.stop_ids.push_back(static_cast<int32_t>(id));
  std::unique_ptr<tokenizer::Tokenizer> tok;
  std::string text = o.prompt_ids.empty() ? prompt : o.prompt_ids;
  if (o.prompt_ids.empty()) {
    tok = std::make_unique<tokenizer::Tokenizer>(tokenizer::Tokenizer::load(o.model_dir + "/tokenizer.json"));
    if (text.empty()) text.assign(std::istreambuf_iterator<char>(in), {});
  } else if (text == "-") {
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::vector<int32_t> ids = prompt_ids(o, text, m->config().vocab_size, tok.get());
  if (ids.empty() && m->config().bos_token_id >= 0) ids.push_back(static_cast<int32_t>(m->config().bos_token_id));
  // On the CPU the inference engine decodes, its cache sized to this prompt and max_tokens;
  // other devices run the model's own KV-cache path.
  std::unique_ptr<Decoder> dec;
  if (o.device == "cpu") {
    DecoderOptions d;
    d.weights = format;
    d.context = static_cast<int>(std::min<int64_t>(m->config().max_position_embeddings,
                                                   int64_t(ids.size()) + std::max(0, s.max_tokens)));
    d.context = std::max(d.context, 1);
    if (int64_t(ids.size()) + std::max(0, s.max_tokens) <= m->config().max_position_embeddings) {
      dec = std::make_unique<Decoder>(*m, d, load_packed_linears(o.model_dir, *m));  // a quantised folder runs as stored
      m.reset();  // the engine holds its own copy of the weights
    }
  }
  if (tok) {
    out << text << std::flush;
    auto piece = [&](const std::string& p) { out << p << std::flush; };
    if (dec)
      generate_text_ids(*dec, *tok, ids, s, o.stop, piece);
    else
      generate_text_ids(*m, *tok, ids, s, o.stop, piece);
    out << "\n";
    return;
  }
  bool first = true;
  auto print = [&](int32_t t) {
    out << (first ? "" : " ") << t << std::flush;
    first = false;
    return true;
  };
  if (dec)
    generate(*dec, 0, ids, s, print);
  else
    generate(*m, ids, s, print);
  out << "\n";
}

}  // namespace nlm::model
