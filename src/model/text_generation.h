// Text in, text out around model::generate: encodes the prompt with the model directory's
// tokenizer, streams the decoded continuation as it grows (only whole UTF-8 characters), and
// stops at stop strings (the stop string itself is not printed).
#pragma once
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "model/sampler.h"
#include "tokenizer/tokenizer.h"

namespace nlm::opt {
class Schema;
}

namespace nlm::model {

class Decoder;

// `nativelm generate`'s options beside the model and the prompt.
struct GenerateOptions {
  std::string model_dir;          // HF model folder (with tokenizer.json for text prompts)
  std::string prompt_ids;         // prompt as token ids ("5 17 42", lists and ranges; "-" = stdin)
  SamplingOptions sampling;
  std::vector<std::string> stop;  // stop strings: generation ends before them
  bool add_bos = true;            // put the tokenizer's BOS token before a text prompt
  bool eos_stop = true;           // stop at the model's EOS id (added to sampling.stop_ids)
  std::string device = "cpu";     // compute device, as tensor::backend_for() names it
  std::string weights = "f32";    // CPU inference engine weights: f32, bf16, int8
};
void declare(opt::Schema& schema, GenerateOptions& options);

struct TextGenerationResult {
  std::string text;              // the continuation, cut before any stop string
  std::vector<int32_t> tokens;   // the sampled ids
  bool stop_string = false;      // ended at one of the stop strings
};

// The whole of `nativelm generate`: loads the model on its device; a text `prompt` (read from `in`
// when empty) is echoed and continued as streamed text through the folder's tokenizer.json;
// with prompt_ids, the sampled ids are streamed instead. Output goes to `out`, flushed per piece.
void run_generate(const GenerateOptions& options, const std::string& prompt, std::istream& in, std::ostream& out);

// Sampled tokens to streamed text: pieces go to on_text once later tokens cannot change them
// (whole UTF-8 characters, and enough held back to recognise a stop string split across tokens).
class TextStream {
 public:
  TextStream(const tokenizer::Tokenizer& tok, std::vector<std::string> stop,
             std::function<void(const std::string&)> on_text);
  // Adds a token; false once a stop string has appeared (the text is cut before it).
  bool push(int32_t token);
  // Sends what was held back.
  void finish();
  const std::string& text() const { return text_; }
  bool stopped() const { return stopped_; }

 private:
  const tokenizer::Tokenizer& tok_;
  std::vector<std::string> stop_;
  std::function<void(const std::string&)> on_text_;
  std::vector<uint32_t> ids_;
  std::string text_;
  size_t emitted_ = 0, hold_ = 0;
  bool stopped_ = false;
};

// on_text receives successive pieces of the continuation. The Llama overloads run the training
// model's KV-cache path on its device; the Decoder ones the inference engine (slot 0).
TextGenerationResult generate_text(Llama& model, const tokenizer::Tokenizer& tok, const std::string& prompt,
                                   bool add_bos, const SamplingOptions& options,
                                   const std::vector<std::string>& stop_strings,
                                   const std::function<void(const std::string&)>& on_text);
// The same from an already encoded prompt (the server counts and limits prompt tokens first).
TextGenerationResult generate_text_ids(Llama& model, const tokenizer::Tokenizer& tok, std::vector<int32_t> ids,
                                       const SamplingOptions& options,
                                       const std::vector<std::string>& stop_strings,
                                       const std::function<void(const std::string&)>& on_text);
TextGenerationResult generate_text(Decoder& decoder, const tokenizer::Tokenizer& tok, const std::string& prompt,
                                   bool add_bos, const SamplingOptions& options,
                                   const std::vector<std::string>& stop_strings,
                                   const std::function<void(const std::string&)>& on_text);
TextGenerationResult generate_text_ids(Decoder& decoder, const tokenizer::Tokenizer& tok, std::vector<int32_t> ids,
                                       const SamplingOptions& options,
                                       const std::vector<std::string>& stop_strings,
                                       const std::function<void(const std::string&)>& on_text);

}  // namespace nlm::model
