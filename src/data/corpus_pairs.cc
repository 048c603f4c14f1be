// "Continue this text" chats from documents (see corpus_pairs.h).
#include "data/corpus_pairs.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "corpus/reader.h"

namespace nlm::data {

void declare(opt::Schema& s, CorpusPairsOptions& o) {
  s.add("from_corpus.instruction", o.instruction,
        "Start of each user turn, followed by a space and the first part of a document");
  s.add("from_corpus.prompt_fraction", o.prompt_fraction,
        "Share of a document's words in the prompt (0.5 = the first half); the rest is the completion")
      .range(0.01, 0.99);
  s.add("from_corpus.min_words", o.min_words, "Documents with fewer words are skipped").min(2);
  s.add("from_corpus.max_words", o.max_words, "Documents with more words are skipped (0 = no limit)").min(0);
  s.add("from_corpus.max_examples", o.max_examples,
        "At most this many pairs, spread evenly over the usable documents (0 = all)");
  s.check([&o] {
    if (o.max_words > 0 && o.max_words < o.min_words)
      opt::fail("from_corpus.max_words", "is below from_corpus.min_words", "raise it, or 0 for no limit");
  });
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Byte offsets where each whitespace-separated word starts.
std::vector<size_t> word_starts(const std::string& t) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < t.size(); ++i)
    if (!is_space(t[i]) && (i == 0 || is_space(t[i - 1]))) starts.push_back(i);
  return starts;
}

std::string trimmed(const std::string& t, size_t a, size_t b) {
  while (a < b && is_space(t[a])) ++a;
  while (b > a && is_space(t[b - 1])) --b;
  return t.substr(a, b - a);
}

}  // namespace

bool split_text(const std::string& text, double prompt_fraction, std::string& prompt, std::string& completion) {
  std::vector<size_t> starts = word_starts(text);
  const size_t n = starts.size();
  if (n < 2) return false;
  size_t k = static_cast<size_t>(std::llround(prompt_fraction * static_cast<double>(n)));
  k = std::clamp<size_t>(k, 1, n - 1);
  prompt = trimmed(text, 0, starts[k]);
  completion = trimmed(text, starts[k], text.size());
  return true;
}

namespace {

// Calls fn(prompt, completion) for each usable document of `documents` (word count in range,
// thinned to max_examples), counting what it reads and skips into `r`.
template <class Fn>
void for_each_pair(const std::vector<std::string>& documents, const corpus::ReadOptions& read,
                   const CorpusPairsOptions& o, CorpusPairsResult& r, Fn&& fn) {
  auto each_usable = [&](CorpusPairsResult& counts, auto&& use) {
    corpus::Document doc;
    for (const auto& path : documents) {
      corpus::DocumentReader reader(path, read);
      while (reader.next(doc)) {
        ++counts.documents;
        const auto words = static_cast<int64_t>(word_starts(doc.text).size());
        if (words < o.min_words) ++counts.too_short;
        else if (o.max_words > 0 && words > o.max_words) ++counts.too_long;
        else use(doc.text);
      }
    }
  };
  uint64_t usable = 0;
  if (o.max_examples > 0) {
    CorpusPairsResult count;
    each_usable(count, [&](const std::string&) { ++usable; });
  }
  // With max_examples below the usable count, usable document i is kept when the running
  // quota floor((i+1)·M/N) steps up: exactly M, evenly spread.
  const bool thin = o.max_examples > 0 && o.max_examples < usable;
  uint64_t index = 0;
  std::string prompt, completion;
  each_usable(r, [&](const std::string& text) {
    const uint64_t i = index++;
    if (thin && (i + 1) * o.max_examples / usable == i * o.max_examples / usable) return;
    if (split_text(text, o.prompt_fraction, prompt, completion)) fn(prompt, completion);
  });
}

std::string user_turn(const CorpusPairsOptions& o, const std::string& prompt) {
  return o.instruction.empty() ? prompt : o.instruction + " " + prompt;
}

// Keys in the order written (role before content), as people write chat records.
using Json = nlohmann::ordered_json;

std::string line_of(const Json& record) {
  return record.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Json turn(const char* role, const std::string& content) { return {{"role", role}, {"content", content}}; }

}  // namespace

CorpusPairsResult write_corpus_pairs(const std::vector<std::string>& documents, const corpus::ReadOptions& read,
                                     const CorpusPairsOptions& o, const std::string& out_path) {
  CorpusPairsResult r;
  AtomicFile out(out_path);
  for_each_pair(documents, read, o, r, [&](const std::string& prompt, const std::string& completion) {
    out.write(line_of({{"messages", {turn("user", user_turn(o, prompt)), turn("assistant", completion)}}}));
    ++r.pairs;
  });
  out.commit();
  return r;
}

CorpusPairsResult write_corpus_preferences(const std::vector<std::string>& documents,
                                           const corpus::ReadOptions& read, const CorpusPairsOptions& o,
                                           const std::string& out_path) {
  CorpusPairsResult r;
  AtomicFile out(out_path);
  // Usable documents pair up: the first of each two gives the prompt and the chosen ending, the
  // second only its ending, rejected. No ending is ever both chosen and rejected: DPO would
  // otherwise push each ending up in one pair and down in the next, and a held-out pair's
  // endings would be trained the wrong way round in its neighbours.
  CorpusPairsOptions twice = o;
  twice.max_examples = o.max_examples * 2;
  std::string prompt_kept, chosen_kept;
  bool holding = false;
  for_each_pair(documents, read, twice, r, [&](const std::string& prompt, const std::string& completion) {
    if (!holding) {
      prompt_kept = prompt, chosen_kept = completion, holding = true;
      return;
    }
    holding = false;
    if (chosen_kept == completion) return;  // the same ending twice teaches nothing
    out.write(line_of({{"prompt", {turn("user", user_turn(o, prompt_kept))}},
                       {"chosen", {turn("assistant", chosen_kept)}},
                       {"rejected", {turn("assistant", completion)}}}));
    ++r.pairs;
  });
  out.commit();
  return r;
}

}  // namespace nlm::data
