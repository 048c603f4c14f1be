// A tiny chat model folder for the SFT tests: a byte-level BPE tokenizer trained here on Irish and
// Cantonese text with ChatML's special tokens, a tokenizer_config.json holding the ChatML template
// with <|im_end|> as EOS, and a randomly initialised 2-layer Llama saved as HF safetensors.
#pragma once
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "model/hf_checkpoint.h"
#include "tensor/backend.h"
#include "test_util.h"
#include "tokenizer/trainer.h"

namespace nlm::testing {

inline const std::vector<std::string>& irish_lines() {
  static const std::vector<std::string> v = {
      "Dia duit, conas atá tú inniu?", "Tá an aimsir go hálainn ar maidin.", "Cá bhfuil an leabharlann?",
      "Ba mhaith liom cupán tae, le do thoil.", "An bhfuil Gaeilge agat?", "Tá mé ag foghlaim go tapa.",
      "Cad é an t-am anois?", "Chuaigh mé go Gaillimh inné."};
  return v;
}
inline const std::vector<std::string>& cantonese_lines() {
  static const std::vector<std::string> v = {
      "你好，今日天氣好好。", "我哋去飲茶啦！", "呢度去地鐵站點行？", "你食咗飯未呀？",
      "唔好意思，我遲到咗。", "聽日會唔會落雨？", "佢講廣東話講得好好。", "呢本書幾多錢？"};
  return v;
}
inline const char* kIrishAnswer = "Go raibh maith agat!";
inline const char* kCantoneseAnswer = "唔該晒！";
inline const char* kChatml =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

// The record: a user line and the fixed answer of its language.
inline std::string chat_record(const std::string& user, const std::string& answer) {
  nlohmann::json j = {{"messages",
                       {{{"role", "user"}, {"content", user}}, {{"role", "assistant"}, {"content", answer}}}}};
  return j.dump();
}

// Writes the model folder to `dir` and returns the tokenizer's vocabulary size.
inline void write_tiny_chat_model(const std::string& dir, int hidden = 48, int layers = 2, int max_pos = 128) {
  tokenizer::TrainOptions o;
  o.vocab_size = 420;
  o.min_frequency = 1;
  o.add_bos = false;
  o.special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  tokenizer::Tokenizer base = tokenizer::train_bpe_from_counts({{"a", 1}}, o);
  std::map<std::string, uint64_t> words;
  std::vector<std::string> w;
  auto add = [&](const std::string& t) {
    base.pre_tokenize(t, true, w);
    for (auto& x : w) ++words[x];
  };
  for (auto& t : irish_lines()) add(t);
  for (auto& t : cantonese_lines()) add(t);
  for (int i = 0; i < 4; ++i) add(std::string("user assistant system\n") + kIrishAnswer + " " + kCantoneseAnswer);
  tokenizer::Tokenizer tok =
      tokenizer::train_bpe_from_counts(std::vector<std::pair<std::string, uint64_t>>(words.begin(), words.end()), o);
  tok.save(dir);
  auto cfg = nlohmann::ordered_json::parse(read_text(dir + "/tokenizer_config.json"));
  cfg["chat_template"] = kChatml;
  cfg["eos_token"] = "<|im_end|>";
  write_text(dir + "/tokenizer_config.json", cfg.dump(2));
  model::ModelConfig c;
  c.vocab_size = tok.vocab_size();
  c.hidden_size = hidden;
  c.intermediate_size = 2 * hidden;
  c.num_hidden_layers = layers;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = max_pos;
  c.eos_token_id = tok.encode("<|im_end|>").at(0);
  c.tie_word_embeddings = true;
  auto& be = tensor::backend_for("cpu");
  model::Llama m(c, be);
  m.init_random(7);
  model::save_hf_model(dir, m);
}

// The model's greedy continuation of `prompt` (at most max_new tokens, up to its EOS).
inline std::string greedy(model::Llama& m, const tokenizer::Tokenizer& tok, const std::string& prompt, int max_new) {
  auto ids = tok.encode(prompt);
  m.reset_cache(static_cast<int>(ids.size()) + max_new);
  std::vector<int32_t> feed(ids.begin(), ids.end());
  std::vector<uint32_t> out;
  for (int i = 0; i < max_new; ++i) {
    auto logits = m.decode(feed);
    int32_t best = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    if (best == m.config().eos_token_id) break;
    out.push_back(static_cast<uint32_t>(best));
    feed = {best};
  }
  return tok.decode(out);
}

}  // namespace nlm::testing
