// Turns one supervised fine-tuning (SFT) record into token ids and a per-token loss mask, as TRL's
// SFTTrainer does: a chat record is rendered through the model's chat template and only the
// assistant turns are trained on; a prompt/completion record trains on the completion. The masks
// are exact: the whole rendered text is tokenized once and each token is placed by its byte
// offsets (Tokenizer::encode_with_offsets), never by encoding pieces separately.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "data/chat_template/chat_template.h"
#include "data/chat_template/model_template.h"
#include "data/sft_options.h"
#include "tokenizer/tokenizer.h"

namespace nlm::data {

enum class SftStatus {
  Ok,
  Truncated,  // kept, cut to max_length
  Dropped,    // overlong (overlong=drop), or no loss token left after truncation
  Bad,        // a data error: bad JSON shape, unknown role, missing content, template error
};

struct SftExample {
  std::vector<uint32_t> ids;
  std::vector<uint8_t> mask;  // 1 = the token's prediction is in the loss
  // The rendered text and the byte spans [begin, end) of it that carry the loss.
  std::string text;
  std::vector<std::pair<size_t, size_t>> spans;
};

struct SftResult {
  SftStatus status = SftStatus::Ok;
  SftExample example;  // filled for Ok and Truncated
  std::string error;   // Dropped and Bad: why, naming the record
};

// Counts over a dataset; the first few messages are kept for the report.
struct SftCounts {
  uint64_t ok = 0, truncated = 0, dropped = 0, bad = 0;
  std::vector<std::string> first_errors;  // at most kMaxErrors
  static constexpr size_t kMaxErrors = 10;
  void add(const SftResult& r);
};

// Encodes records for one model: its tokenizer and chat template (with bos/eos token text).
class SftEncoder {
 public:
  SftEncoder(const tokenizer::Tokenizer& tokenizer, const chat_template::ModelChatTemplate& chat,
             SftOptions options);
  ~SftEncoder();

  // `record` is {"messages": [{"role", "content", ...}, ...]} or {"prompt", "completion"}.
  // `where` names the record in errors (e.g. "train.jsonl:17"). Data errors come back as
  // SftStatus::Bad, never as exceptions.
  SftResult encode(const nlohmann::ordered_json& record, const std::string& where) const;

  // Template variables beyond messages/bos/eos (e.g. {"enable_thinking": false}).
  nlohmann::ordered_json extra = nullptr;

 private:
  const tokenizer::Tokenizer& tokenizer_;
  chat_template::ChatTemplate template_;
  std::string bos_, eos_;
  SftOptions options_;
  void render_chat(const nlohmann::ordered_json& messages, SftExample& ex) const;
};

}  // namespace nlm::data
