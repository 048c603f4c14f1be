// Text generation with streaming and stop strings (see text_generation.h).
#include "model/text_generation.h"

#include <algorithm>

#include "core/options.h"

namespace nlm::model {

void declare(opt::Schema& s, GenerateOptions& o) {
  declare(s, o.sampling);
  s.add("stop", o.stop, "Stop before this string (repeatable; it is not printed)");
  s.add("add_bos", o.add_bos, "Put the tokenizer's BOS token before a text prompt").flag("--no-bos");
  s.add("eos_stop", o.eos_stop, "Stop at the model's EOS id").flag("--no-eos-stop");
  s.add("device", o.device, "Compute device: cpu, or cuda / cuda:N in builds with CUDA");
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
}  // namespace

TextGenerationResult generate_text(Llama& model, const tokenizer::Tokenizer& tok, const std::string& prompt,
                                   bool add_bos, const SamplingOptions& options,
                                   const std::vector<std::string>& stop_strings,
                                   const std::function<void(const std::string&)>& on_text) {
  std::vector<int32_t> ids;
  for (uint32_t t : tok.encode(prompt, add_bos)) ids.push_back(static_cast<int32_t>(t));
  if (ids.empty() && model.config().bos_token_id >= 0) ids.push_back(static_cast<int32_t>(model.config().bos_token_id));
  TextGenerationResult r;
  std::vector<uint32_t> out;
  size_t emitted = 0;
  size_t hold = 0;  // keep back enough characters to recognise a stop string split across tokens
  for (auto& s : stop_strings) hold = std::max(hold, s.size());
  bool stopped = false;
  r.tokens = generate(model, ids, options, [&](int32_t t) {
    out.push_back(static_cast<uint32_t>(t));
    std::string text = tok.decode(out, true);
    size_t cut = std::string::npos;
    for (auto& s : stop_strings) {
      size_t p = s.empty() ? std::string::npos : text.find(s);
      if (p != std::string::npos) cut = std::min(cut, p);
    }
    if (cut != std::string::npos) {
      text.resize(cut);
      stopped = true;
    }
    size_t ready = stopped ? text.size() : complete_utf8(text);
    if (!stopped) ready = ready > hold ? std::min(ready, text.size() - hold) : 0;
    ready = complete_utf8(text.substr(0, ready));
    if (ready > emitted) {
      on_text(text.substr(emitted, ready - emitted));
      emitted = ready;
    }
    r.text = text;
    return !stopped;
  });
  if (emitted < r.text.size()) on_text(r.text.substr(emitted));
  return r;
}

}  // namespace nlm::model
