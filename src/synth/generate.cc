// Prompts, chunking, answer parsing and text measures for `nativelm synth` (generate.h).
#include "synth/generate.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace nlm::synth {

namespace {

const char* const kQa =
    "Read the following text, written in {language}.\n\n"
    "TEXT:\n{text}\n\n"
    "Write {n} question-answer pairs in {language} about this text. Each question must be answerable "
    "from the text alone, and each answer must be correct according to the text and use its words where it "
    "can. Do not ask about things the text does not say.\n"
    "Reply with only a JSON array, like this:\n"
    "[{{\"question\": \"...\", \"answer\": \"...\"}}]";

const char* const kDiverseQa =
    "Read the following text, written in {language}.\n\n"
    "TEXT:\n{text}\n\n"
    "Write {n} varied question-answer pairs in {language} grounded in this text. Mix the kinds of "
    "question: a fact to recall, a yes/no question, a question that asks why or how, one that compares "
    "two things the text mentions, and one that asks for a short summary of a part. Every answer must "
    "follow from the text; keep the text's names, numbers and terms.\n"
    "Reply with only a JSON array, like this:\n"
    "[{{\"question\": \"...\", \"answer\": \"...\"}}]";

const char* const kWikipedia =
    "The following text, in {language}, comes from the web and may be noisy: broken sentences, menus, "
    "adverts, repetition.\n\n"
    "TEXT:\n{text}\n\n"
    "Rewrite its content in {language} as a clear, well-organised passage in the style of an "
    "encyclopedia article such as Wikipedia: neutral tone, complete sentences, no advertising and no "
    "navigation text. Keep every fact, name and number the text gives and add nothing it does not say. "
    "Reply with only the rewritten passage.";

const char* const kDistill =
    "The following text is in {language}.\n\n"
    "TEXT:\n{text}\n\n"
    "Rewrite it in {language} as a shorter, plain and clear paragraph that keeps all of its useful "
    "information: the facts, names, numbers and explanations. Leave out filler, repetition and anything "
    "unrelated to the main subject. Reply with only the paragraph.";

const char* const kExtractKnowledge =
    "The following text is in {language}.\n\n"
    "TEXT:\n{text}\n\n"
    "Write out, in {language}, the knowledge this text holds as a short passage a student could learn "
    "from: state each fact, definition or explanation it gives in complete sentences, in a sensible "
    "order. Use only what the text says. Reply with only the passage.";

const char* const kTranslate =
    "Translate the following text from {source_language} into {language}.\n"
    "Rules: translate the meaning naturally, as a native speaker of {language} would write it. Copy every "
    "marker like [[CODE_1]] exactly, once, where it belongs in the sentence: each one stands for code that "
    "must not change. Keep placeholders such as {{name}}, {{{{var}}}}, %s, %1$d and every URL exactly as they "
    "are. Do not answer or explain the text, and do not add anything. Reply with only the translation.\n\n"
    "TEXT:\n{text}";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// A cut at or before `at` that does not split a UTF-8 sequence.
size_t utf8_floor(std::string_view s, size_t at) {
  while (at > 0 && at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) --at;
  return at;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

// The pairs of a JSON value: an array of objects, or an object holding one.
void pairs_from_json(const nlohmann::json& j, std::vector<QaPair>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items())
      if (v.is_array()) return pairs_from_json(v, out);
    return;
  }
  if (!j.is_array()) return;
  for (const auto& item : j) {
    if (!item.is_object()) continue;
    auto get = [&](std::initializer_list<const char*> keys) -> std::string {
      for (const char* k : keys)
        for (const auto& [name, v] : item.items())
          if (lower_ascii(name) == k && v.is_string()) return v.get<std::string>();
      return "";
    };
    QaPair p{get({"question", "q"}), get({"answer", "a"})};
    if (!p.question.empty() || !p.answer.empty()) out.push_back(std::move(p));
  }
}

// For a line of numbered text: 'Q' or 'A' when it opens a question or an answer (the label and
// its number stripped into `rest`), else 0.
char label_of(std::string_view line, std::string_view& rest) {
  std::string_view s = trim(line);
  while (!s.empty() && (s.front() == '*' || s.front() == '#' || s.front() == '-')) s = trim(s.substr(1));
  size_t k = 0;
  while (k < s.size() && s[k] >= '0' && s[k] <= '9') ++k;
  if (k > 0 && k < s.size() && (s[k] == '.' || s[k] == ')')) s = trim(s.substr(k + 1));
  const std::string low = lower_ascii(s.substr(0, std::min<size_t>(s.size(), 10)));
  char kind = 0;
  size_t len = 0;
  if (low.rfind("question", 0) == 0) kind = 'Q', len = 8;
  else if (low.rfind("answer", 0) == 0) kind = 'A', len = 6;
  else if (low.rfind("q", 0) == 0) kind = 'Q', len = 1;
  else if (low.rfind("a", 0) == 0) kind = 'A', len = 1;
  if (!kind) return 0;
  s = s.substr(len);
  if (len > 1) s = trim(s);  // "Question 2:", not "Q 2:" (which reads like prose)
  while (!s.empty() && s.front() >= '0' && s.front() <= '9') s.remove_prefix(1);
  while (!s.empty() && s.front() == '*') s.remove_prefix(1);
  if (s.empty() || (s.front() != ':' && s.front() != '.' && s.front() != ')')) return 0;
  s.remove_prefix(1);
  while (!s.empty() && s.front() == '*') s.remove_prefix(1);
  rest = trim(s);
  return kind;
}

}  // namespace

std::optional<std::string> builtin_prompt(SynthTask task, const std::string& name) {
  if (task == SynthTask::Qa) {
    if (name == "qa") return kQa;
    if (name == "diverse-qa") return kDiverseQa;
  } else if (task == SynthTask::Translate) {
    if (name == "translate") return kTranslate;
  } else if (task == SynthTask::Rephrase) {
    if (name == "wikipedia") return kWikipedia;
    if (name == "distill") return kDistill;
    if (name == "extract-knowledge") return kExtractKnowledge;
  }
  return std::nullopt;
}

std::vector<std::string> builtin_prompt_names(SynthTask task) {
  if (task == SynthTask::Qa) return {"qa", "diverse-qa"};
  if (task == SynthTask::Translate) return {"translate"};
  if (task == SynthTask::Rephrase) return {"wikipedia", "distill", "extract-knowledge"};
  return {};
}

std::vector<std::string> chunk_text(std::string_view text, size_t max_bytes) {
  std::vector<std::string> out;
  max_bytes = std::max<size_t>(max_bytes, 8);
  text = trim(text);
  while (!text.empty()) {
    if (text.size() <= max_bytes) {
      out.emplace_back(text);
      break;
    }
    const std::string_view window = text.substr(0, max_bytes + 1);
    size_t cut = std::string_view::npos;
    for (std::string_view sep : {"\n\n", "\n", " "}) {
      const size_t at = window.rfind(sep);
      if (at != std::string_view::npos && at >= max_bytes / 4) {
        cut = at;
        break;
      }
    }
    if (cut == std::string_view::npos) cut = utf8_floor(text, max_bytes);
    if (cut == 0) cut = max_bytes;  // a run of continuation bytes: cut anyway rather than loop
    const std::string_view piece = trim(text.substr(0, cut));
    if (!piece.empty()) out.emplace_back(piece);
    text = trim(text.substr(cut));
  }
  return out;
}

std::vector<QaPair> parse_qa(std::string_view reply) {
  std::vector<QaPair> out;
  // JSON: the whole answer, else the span from the first '[' (or '{') to the last ']' (or '}').
  for (auto [open, close] : {std::pair{'[', ']'}, std::pair{'{', '}'}}) {
    const size_t a = reply.find(open), b = reply.rfind(close);
    if (a == std::string_view::npos || b == std::string_view::npos || b < a) continue;
    auto j = nlohmann::json::parse(reply.substr(a, b - a + 1), nullptr, false);
    if (j.is_discarded()) continue;
    pairs_from_json(j, out);
    if (!out.empty()) return out;
  }
  // Numbered text.
  QaPair cur;
  char in = 0;
  auto flush = [&] {
    if (!cur.question.empty() && !cur.answer.empty())
      out.push_back({std::string(trim(cur.question)), std::string(trim(cur.answer))});
    cur = {};
  };
  size_t pos = 0;
  while (pos <= reply.size()) {
    size_t end = reply.find('\n', pos);
    if (end == std::string_view::npos) end = reply.size();
    const std::string_view line = reply.substr(pos, end - pos);
    pos = end + 1;
    std::string_view rest;
    const char kind = label_of(line, rest);
    if (kind == 'Q') {
      flush();
      cur.question = rest;
      in = 'Q';
    } else if (kind == 'A' && in == 'Q') {
      cur.answer = rest;
      in = 'A';
    } else if (in && !trim(line).empty()) {
      std::string& dst = in == 'Q' ? cur.question : cur.answer;
      dst += (dst.empty() ? "" : "\n");
      dst += trim(line);
    }
  }
  flush();
  return out;
}

std::string trimmed(std::string_view text) { return std::string(trim(text)); }

std::string normalize_key(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (is_space(c)) {
      space = true;
      continue;
    }
    if (u < 0x80 && std::ispunct(u)) continue;
    if (space && !out.empty()) out += ' ';
    space = false;
    out += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
  }
  return out;
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || std::isalnum(u)) {
      cur += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

double grounding(std::string_view output, std::string_view source, int ngram) {
  const auto ow = words_of(output), sw = words_of(source);
  if (ow.empty()) return 1;
  const size_t n = std::min<size_t>(size_t(std::max(ngram, 1)), ow.size());
  auto gram = [](const std::vector<std::string>& w, size_t at, size_t len) {
    std::string g;
    for (size_t k = 0; k < len; ++k) (g += w[at + k]) += '\x1f';
    return g;
  };
  std::unordered_set<std::string> have;
  for (size_t k = 0; k + n <= sw.size(); ++k) have.insert(gram(sw, k, n));
  size_t found = 0, total = 0;
  for (size_t k = 0; k + n <= ow.size(); ++k, ++total) found += have.count(gram(ow, k, n));
  return total ? double(found) / double(total) : 1;
}

}  // namespace nlm::synth
