// SFT records to ids + loss masks; see sft_example.h. Assistant spans come from rendering the
// conversation twice per assistant turn (TRL's prefix approach): the prefix up to the turn with
// the generation prompt, and the conversation including the turn; the turn's span is the text
// between the two ends.
#include "data/sft_example.h"

#include <stdexcept>

namespace nlm::data {

namespace ct = chat_template;
using json = nlohmann::ordered_json;

namespace {

// A data error in one record: becomes SftStatus::Bad.
struct BadRecord : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* const kRoles[] = {"system", "user", "assistant", "tool", "developer"};

void check_messages(const json& messages) {
  if (!messages.is_array() || messages.empty()) throw BadRecord("\"messages\" must be a non-empty list");
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    std::string at = "message " + std::to_string(i);
    if (!m.is_object()) throw BadRecord(at + " is not an object");
    auto r = m.find("role");
    if (r == m.end() || !r->is_string()) throw BadRecord(at + " has no \"role\" string");
    bool known = false;
    for (const char* k : kRoles) known = known || *r == k;
    if (!known)
      throw BadRecord(at + " has unknown role \"" + r->get<std::string>() +
                      "\" (expected system, user, assistant, tool or developer)");
    auto c = m.find("content");
    bool tool_calls = m.contains("tool_calls");
    if (c == m.end() || (c->is_null() && !tool_calls))
      throw BadRecord(at + " (" + r->get<std::string>() + ") has no \"content\"");
    if (!c->is_null() && !c->is_string() && !c->is_array())
      throw BadRecord(at + " has a \"content\" that is neither a string nor a list");
  }
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

void declare(opt::Schema& s, SftOptions& o) {
  s.choice("loss", o.loss,
           {{"response", SftLoss::Response},
            {"assistant_only", SftLoss::Response},
            {"completion_only", SftLoss::Response},
            {"full", SftLoss::Full}},
           "Tokens in the loss: response (also assistant_only, completion_only: assistant turns of "
           "chats, the completion of prompt/completion records) or full (every token)");
  s.add("max_length", o.max_length, "Longest example in tokens (0 = no limit)");
  s.choice("overlong", o.overlong, {{"truncate", SftOverlong::Truncate}, {"drop", SftOverlong::Drop}},
           "Examples over max_length: truncate (keep the first max_length tokens) or drop; counted "
           "either way");
  s.add("chat_prompt", o.chat_prompt,
        "Render prompt/completion records through the chat template as a user and an assistant "
        "turn (else plain text)");
  s.add("add_eos", o.add_eos, "Plain prompt/completion records: end the completion with EOS")
      .flag("--no-add-eos");
}

void SftCounts::add(const SftResult& r) {
  switch (r.status) {
    case SftStatus::Ok: ++ok; break;
    case SftStatus::Truncated: ++truncated; break;
    case SftStatus::Dropped: ++dropped; break;
    case SftStatus::Bad: ++bad; break;
  }
  if (!r.error.empty() && first_errors.size() < kMaxErrors) first_errors.push_back(r.error);
}

SftEncoder::SftEncoder(const tokenizer::Tokenizer& tokenizer, const ct::ModelChatTemplate& chat,
                       SftOptions options)
    : tokenizer_(tokenizer),
      template_(chat.source),
      bos_(chat.bos_token),
      eos_(chat.eos_token),
      options_(options) {}

SftEncoder::~SftEncoder() = default;

void SftEncoder::render_chat(const json& messages, SftExample& ex) const {
  ct::ChatRenderOptions ro;
  ro.bos_token = bos_;
  ro.eos_token = eos_;
  ro.extra = extra;
  ex.text = template_.render(messages, ro, &ex.spans);
  if (options_.loss == SftLoss::Full) {
    ex.spans.clear();
    return;
  }
  if (!ex.spans.empty()) return;  // the template marks the model's part with {% generation %}
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i]["role"] != "assistant") continue;
    json before = json::array(), through;
    for (size_t k = 0; k < i; ++k) before.push_back(messages[k]);
    through = before;
    through.push_back(messages[i]);
    ro.add_generation_prompt = true;
    std::string prefix = template_.render(before, ro);
    ro.add_generation_prompt = false;
    std::string full = template_.render(through, ro);
    std::string at = "assistant message " + std::to_string(i);
    if (!starts_with(full, prefix))
      throw BadRecord("the chat template breaks the prefix property at " + at +
                      ": the conversation before it, rendered with the generation prompt, is not a "
                      "prefix of the conversation including it");
    // Templates that ignore add_generation_prompt and always end with the assistant header (the
    // original Llama 3 one): that header, which they render for an empty conversation, ends
    // every render and is not part of the turn.
    size_t end = full.size();
    ro.add_generation_prompt = false;
    if (template_.render(before, ro) == prefix) {
      std::string tail;
      try {
        tail = template_.render(json::array(), ro);
      } catch (const std::exception&) {
        tail.clear();
      }
      if (tail.empty() || full.size() < prefix.size() + tail.size() ||
          full.compare(full.size() - tail.size(), tail.size(), tail) != 0)
        throw BadRecord("the chat template ignores add_generation_prompt, and the text it always "
                        "appends (its render of no messages) does not end " + at);
      end -= tail.size();
    }
    if (ex.text.compare(0, end, full, 0, end) != 0)
      throw BadRecord("the chat template renders " + at +
                      " differently once later messages follow (e.g. it strips earlier <think> "
                      "content), so its loss span is not well defined");
    if (end > prefix.size()) ex.spans.emplace_back(prefix.size(), end);
  }
  if (ex.spans.empty()) throw BadRecord("no assistant message to train on");
}

SftResult SftEncoder::encode(const json& record, const std::string& where) const {
  SftResult r;
  SftExample& ex = r.example;
  try {
    if (!record.is_object()) throw BadRecord("the record is not a JSON object");
    if (record.contains("messages")) {
      check_messages(record["messages"]);
      render_chat(record["messages"], ex);
    } else if (record.contains("prompt") || record.contains("completion")) {
      auto p = record.find("prompt"), c = record.find("completion");
      if (p == record.end() || !p->is_string()) throw BadRecord("\"prompt\" is missing or not a string");
      if (c == record.end() || !c->is_string()) throw BadRecord("\"completion\" is missing or not a string");
      if (c->get_ref<const std::string&>().empty()) throw BadRecord("\"completion\" is empty");
      if (options_.chat_prompt) {
        json messages = json::array({json{{"role", "user"}, {"content", *p}}, json{{"role", "assistant"}, {"content", *c}}});
        render_chat(messages, ex);
      } else {
        ex.text = p->get<std::string>();
        size_t begin = ex.text.size();
        ex.text += c->get<std::string>();
        if (options_.add_eos) {
          if (eos_.empty()) throw BadRecord("add_eos is set but the model has no eos_token");
          ex.text += eos_;
        }
        if (options_.loss == SftLoss::Response) ex.spans.emplace_back(begin, ex.text.size());
      }
    } else {
      throw BadRecord("the record has neither \"messages\" nor \"prompt\"/\"completion\"");
    }
    std::vector<std::pair<size_t, size_t>> offsets;
    if (!tokenizer_.encode_with_offsets(ex.text, ex.ids, offsets))
      throw BadRecord("the tokenizer does not reproduce the rendered text byte for byte (a "
                      "normalizer changes it, or it is not valid UTF-8), so tokens cannot be "
                      "placed in the loss spans");
    // A token is in the loss when any of its bytes lies inside a span (as transformers'
    // assistant masks mark every token a span's characters map to); tokens with no bytes (none
    // arise from rendered text) are not.
    ex.mask.assign(ex.ids.size(), options_.loss == SftLoss::Full ? 1 : 0);
    if (options_.loss != SftLoss::Full) {
      size_t s = 0;
      for (size_t t = 0; t < ex.ids.size(); ++t) {
        auto [b, e] = offsets[t];
        while (s < ex.spans.size() && ex.spans[s].second <= b) ++s;
        if (e > b && s < ex.spans.size() && ex.spans[s].first < e) ex.mask[t] = 1;
      }
    }
  } catch (const std::exception& e) {  // BadRecord, and template errors (raise_exception, ...)
    r.status = SftStatus::Bad;
    r.error = where + ": " + e.what();
    r.example = {};
    return r;
  }
  if (options_.max_length && ex.ids.size() > options_.max_length) {
    std::string what = where + ": " + std::to_string(ex.ids.size()) + " tokens, over max_length " +
                       std::to_string(options_.max_length);
    if (options_.overlong == SftOverlong::Drop) {
      r.status = SftStatus::Dropped;
      r.error = what + " (dropped)";
      r.example = {};
      return r;
    }
    ex.ids.resize(options_.max_length);
    ex.mask.resize(options_.max_length);
    bool any = false;
    for (uint8_t m : ex.mask) any = any || m;
    if (!any) {
      r.status = SftStatus::Dropped;
      r.error = what + ": no loss token is left after truncation (dropped)";
      r.example = {};
      return r;
    }
    r.status = SftStatus::Truncated;
  }
  return r;
}

}  // namespace nlm::data
