// The options of turning SFT records into token ids and loss masks (data::SftEncoder in
// sft_example.h), in a header of their own without the JSON library, so option structs that nest
// them (`nativelm sft`'s) stay light to include.
#pragma once
#include <cstdint>

#include "core/options.h"

namespace nlm::data {

// Which tokens carry the loss.
enum class SftLoss {
  Response,  // the model's part: each assistant turn of a chat (content, end marker and whatever
             // the template puts after the generation prompt; exactly what its
             // {% generation %} blocks print when it has them), the completion (+EOS) of a
             // prompt/completion record. Names: response, assistant_only, completion_only.
  Full,      // every token (plain language modelling on the rendered text)
};

// What happens to an example longer than max_length tokens.
enum class SftOverlong { Truncate, Drop };

struct SftOptions {
  // Which tokens carry the loss (see SftLoss).
  SftLoss loss = SftLoss::Response;
  // Longest example in tokens; 0 = no limit. Longer ones are truncated or dropped (`overlong`),
  // and counted either way.
  uint32_t max_length = 0;
  // Truncate keeps the first max_length tokens (TRL's default); Drop skips the example. A
  // truncated example with no loss token left is dropped and counted as such.
  SftOverlong overlong = SftOverlong::Truncate;
  // Prompt/completion records: render the prompt as a user turn and the completion as the
  // assistant turn through the chat template. Off (TRL's default for non-chat data): plain text,
  // prompt + completion + EOS.
  bool chat_prompt = false;
  // Plain prompt/completion: append the tokenizer's EOS token to the completion, so the model
  // learns to stop.
  bool add_eos = true;
};

void declare(opt::Schema& schema, SftOptions& options);

// How SFT examples fill training rows (train/sft_batches.h): best-fit decreasing packing with
// per-example attention, or one example per row with padding.
enum class SftPacking { Bfd, None };

}  // namespace nlm::data
