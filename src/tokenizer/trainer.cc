// BPE training: parallel word counting with per-language weights, then the classic merge loop
// over unique words (flat symbol arrays, a pair -> words index, a lazy max-heap of 64-bit
// counts). Applying a merge to the words that contain it runs on the thread pool; per-chunk
// deltas are combined in chunk order so the result does not depend on the thread count.
#include "tokenizer/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <queue>
#include <unordered_map>

#include "core/error.h"
#include "core/json_escape.h"
#include "core/progress.h"
#include "core/runtime.h"
#include "core/thread_pool.h"
#include "corpus/inputs.h"
#include "corpus/reader.h"
#include "text/utf8.h"

namespace nlm::tokenizer {

namespace {

const std::string kMeta = "\xE2\x96\x81";  // U+2581 "▁"
// The largest vocabulary: token ids stay far from 2^31 and token shards stay addressable.
constexpr uint32_t kMaxVocab = 1u << 24;

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Cuts `word` into chunks of at most max_bytes, at UTF-8 character boundaries.
template <typename F>
void for_each_chunk(std::string_view word, uint32_t max_bytes, F&& f) {
  if (max_bytes == 0 || word.size() <= max_bytes) {
    f(word);
    return;
  }
  size_t start = 0;
  while (start < word.size()) {
    size_t end = std::min(word.size(), start + max_bytes);
    while (end < word.size() && end > start + 1 && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) --end;
    f(word.substr(start, end - start));
    start = end;
  }
}

using WordCounts = std::unordered_map<std::string, uint64_t>;

struct Trainer {
  const TrainOptions& opt;
  BpeModel& model;
  // Words as flat symbol runs: word w is sym[start[w] .. start[w]+len[w]).
  std::vector<uint32_t> sym, start, len;
  std::vector<uint64_t> count;
  std::unordered_map<uint64_t, int64_t> pair_count;
  std::unordered_map<uint64_t, std::vector<uint32_t>> where;
  struct Entry {
    int64_t count;
    uint64_t pair;
    bool operator<(const Entry& o) const { return count != o.count ? count < o.count : pair > o.pair; }
  };
  std::priority_queue<Entry> heap;
  std::vector<uint8_t> mergeable;  // per token: may take part in merges (not <0xXX>, not <unk>)

  static uint64_t key(uint32_t a, uint32_t b) { return (uint64_t(a) << 32) | b; }

  void load_words(const std::vector<std::pair<std::string, uint64_t>>& words) {
    std::vector<uint32_t> ids;
    for (auto& [w, c] : words) {
      ids.clear();
      model.encode_word(w, ids);
      if (ids.size() < 2) continue;  // single symbols never form pairs
      start.push_back(static_cast<uint32_t>(sym.size()));
      len.push_back(static_cast<uint32_t>(ids.size()));
      count.push_back(c);
      sym.insert(sym.end(), ids.begin(), ids.end());
    }
  }

  bool can_merge(uint32_t a, uint32_t b) const {
    if (a >= mergeable.size() || b >= mergeable.size() || !mergeable[a] || !mergeable[b]) return false;
    if (opt.max_token_bytes && model.tokens[a].size() + model.tokens[b].size() > opt.max_token_bytes) return false;
    return true;
  }

  void count_pairs(ThreadPool& pool) {
    const size_t n = len.size(), chunks = std::max<size_t>(1, pool.size() * 4);
    std::vector<std::unordered_map<uint64_t, int64_t>> local(chunks);
    std::vector<std::vector<std::pair<uint64_t, uint32_t>>> occ(chunks);
    pool.parallel_for(chunks, [&](size_t c) {
      size_t lo = n * c / chunks, hi = n * (c + 1) / chunks;
      for (size_t w = lo; w < hi; ++w) {
        const uint32_t* s = &sym[start[w]];
        for (uint32_t i = 0; i + 1 < len[w]; ++i) {
          if (!can_merge(s[i], s[i + 1])) continue;
          uint64_t k = key(s[i], s[i + 1]);
          local[c][k] += static_cast<int64_t>(count[w]);
          occ[c].push_back({k, static_cast<uint32_t>(w)});
        }
      }
    });
    for (size_t c = 0; c < chunks; ++c) {
      for (auto& [k, v] : local[c]) pair_count[k] += v;
      for (auto& [k, w] : occ[c]) {
        auto& list = where[k];
        if (list.empty() || list.back() != w) list.push_back(w);
      }
      local[c].clear();
      occ[c].clear();
      occ[c].shrink_to_fit();
    }
    for (auto& [k, v] : pair_count) heap.push({v, k});
  }

  // Applies merge (a, b) -> m to the words in `words`; returns per-chunk deltas.
  struct Delta {
    std::unordered_map<uint64_t, int64_t> counts;
    std::vector<std::pair<uint64_t, uint32_t>> new_occ;
  };
  void apply(uint32_t a, uint32_t b, uint32_t m, const std::vector<uint32_t>& words, ThreadPool& pool) {
    const size_t n = words.size();
    const size_t chunks = n > 2048 ? static_cast<size_t>(pool.size()) * 2 : 1;
    std::vector<Delta> deltas(chunks);
    auto work = [&](size_t c) {
      Delta& d = deltas[c];
      size_t lo = n * c / chunks, hi = n * (c + 1) / chunks;
      for (size_t idx = lo; idx < hi; ++idx) {
        uint32_t w = words[idx];
        uint32_t* s = &sym[start[w]];
        const uint32_t L = len[w];
        const int64_t cnt = static_cast<int64_t>(count[w]);
        bool found = false;
        for (uint32_t i = 0; i + 1 < L; ++i)
          if (s[i] == a && s[i + 1] == b) {
            found = true;
            break;
          }
        if (!found) continue;  // stale index entry
        for (uint32_t i = 0; i + 1 < L; ++i)
          if (can_merge(s[i], s[i + 1])) d.counts[key(s[i], s[i + 1])] -= cnt;
        uint32_t out = 0;
        for (uint32_t i = 0; i < L;) {
          if (i + 1 < L && s[i] == a && s[i + 1] == b) {
            s[out++] = m;
            i += 2;
          } else {
            s[out++] = s[i++];
          }
        }
        len[w] = out;
        for (uint32_t i = 0; i + 1 < out; ++i) {
          if (!can_merge(s[i], s[i + 1])) continue;
          uint64_t k = key(s[i], s[i + 1]);
          d.counts[k] += cnt;
          if (s[i] == m || s[i + 1] == m) d.new_occ.push_back({k, w});
        }
      }
    };
    if (chunks == 1)
      work(0);
    else
      pool.parallel_for(chunks, work);
    for (auto& d : deltas) {
      for (auto& [k, v] : d.counts) {
        if (v == 0) continue;
        int64_t& pc = pair_count[k];
        pc += v;
        if (pc < 0) runtime_error("BPE pair count went negative (internal error)", "tokenizer train");
        if (pc > 0 && v > 0) heap.push({pc, k});  // decreases are requeued lazily in run()
        if (pc == 0) pair_count.erase(k);
      }
      for (auto& [k, w] : d.new_occ) {
        auto& list = where[k];
        if (list.empty() || list.back() != w) list.push_back(w);
      }
    }
  }

  // Why run() stopped, and how many merges made a token the vocabulary already had.
  MergeStop stop = MergeStop::Target;
  int64_t stop_count = 0;
  uint64_t merges_to_existing = 0;

  // Runs merges until the model has `target` tokens or no pair is frequent enough.
  void run(uint32_t target, ThreadPool& pool, uint64_t& merges_done) {
    stop = MergeStop::Target;
    while (model.size() < target) {
      if (heap.empty()) {
        stop = MergeStop::NoPairs;
        break;
      }
      Entry e = heap.top();
      heap.pop();
      auto it = pair_count.find(e.pair);
      if (it == pair_count.end()) continue;  // stale entry of a pair that is gone
      if (it->second != e.count) {            // stale count: requeue with the current one
        heap.push({it->second, e.pair});
        continue;
      }
      if (e.count < static_cast<int64_t>(std::max<uint64_t>(opt.min_frequency, 1))) {
        stop = MergeStop::MinFrequency;
        stop_count = e.count;
        break;
      }
      uint32_t a = static_cast<uint32_t>(e.pair >> 32), b = static_cast<uint32_t>(e.pair);
      const uint32_t size_before = model.size();
      uint32_t m = model.add_token(model.tokens[a] + model.tokens[b]);
      merges_to_existing += m < size_before;
      if (m >= mergeable.size()) mergeable.resize(m + 1, 1);
      model.merges.push_back({a, b, m});
      ++merges_done;
      std::vector<uint32_t> words = std::move(where[e.pair]);
      where.erase(e.pair);
      std::sort(words.begin(), words.end());
      words.erase(std::unique(words.begin(), words.end()), words.end());
      apply(a, b, m, words, pool);
      pair_count.erase(e.pair);
    }
  }
};

std::vector<std::string> default_specials(const TrainOptions& o) {
  if (!o.special_tokens.empty()) return o.special_tokens;
  if (o.mode == TrainMode::SentencePiece) return {"<unk>", "<s>", "</s>"};
  return {"<|begin_of_text|>", "<|end_of_text|>"};
}

void check_lang_alpha(const TrainOptions& o) {
  // Above 1 the weights grow as (share ratio)^(alpha-1) and overflow exact 64-bit counts.
  if (!(o.lang_alpha >= 0 && o.lang_alpha <= 1))
    opt::fail("lang_alpha", "must be between 0 and 1, got " + opt::real_text(o.lang_alpha),
              "use 1 to keep the corpus as it is, lower (0.3) to give small languages more weight");
}

// The vocabulary size cannot hold the byte alphabet, the special and reserved tokens and the
// whitespace runs (`at_least` tokens).
[[noreturn]] void vocab_too_small(const TrainOptions& o, uint64_t at_least) {
  opt::fail("vocab_size",
            "is " + std::to_string(o.vocab_size) + ", below the " + std::to_string(at_least) +
                " tokens of the base alphabet, special and reserved tokens and whitespace runs",
            "raise the vocabulary size, or ask for fewer reserved tokens or whitespace runs");
}

}  // namespace

// Option values checked before any work: the corpus may be large, and a huge reserved_tokens or
// whitespace_runs would otherwise build millions of token strings before the vocab size check.
void check_train_options(const TrainOptions& o) {
  check_lang_alpha(o);
  if (o.vocab_size > kMaxVocab)
    opt::fail("vocab_size", "must be at most 2^24 (16777216), got " + std::to_string(o.vocab_size),
              "real vocabularies have at most a few hundred thousand tokens");
  if (o.whitespace_runs > 1024)
    opt::fail("whitespace_runs", "must be at most 1024, got " + std::to_string(o.whitespace_runs),
              "tokens for longer runs are never worth a vocabulary slot");
  if (o.whitespace_runs && o.mode == TrainMode::SentencePiece)
    opt::fail("whitespace_runs", "needs byte-level mode",
              "in sentencepiece mode every segment after an added token gets a prepended space");
  if (o.split_digits && o.mode == TrainMode::ByteLevel && o.rule != SplitRule::Llama3 && o.rule != SplitRule::Qwen2)
    opt::fail("split_digits", "needs the llama3 or qwen2 pre-tokenizer, got " + std::string(split_rule_name(o.rule)));
  if (o.mode == TrainMode::SentencePiece && !(o.char_coverage > 0 && o.char_coverage <= 1))
    opt::fail("char_coverage", "must be in (0, 1], got " + opt::real_text(o.char_coverage), "use a fraction such as 0.9995");
  auto specials = default_specials(o);
  for (size_t i = 0; i < specials.size(); ++i) {
    if (specials[i].empty()) opt::fail("special_tokens", "holds an empty special token", "give each special token some text");
    for (size_t k = 0; k < i; ++k)
      if (specials[k] == specials[i])
        opt::fail("special_tokens", "holds the special token '" + specials[i] + "' given twice", "list each token once");
  }
  // A lower bound of the later, exact check (sentencepiece adds its alphabet on top).
  const uint64_t base = 256ull + specials.size() + o.reserved_tokens + (o.whitespace_runs > 1 ? o.whitespace_runs - 1 : 0);
  if (o.vocab_size < base) vocab_too_small(o, base);
}

void declare_layout(opt::Schema& s, TrainOptions& o) {
  s.add("vocab_size", o.vocab_size, "Total vocabulary size, special and added tokens included").range(256, kMaxVocab);
  s.choice("mode", o.mode,
           {{"byte-level", TrainMode::ByteLevel}, {"byte_level", TrainMode::ByteLevel},
            {"sentencepiece", TrainMode::SentencePiece}},
           "Tokenizer style: GPT-2/Llama 3 byte-level (also spelled byte_level), or Llama 2/Mistral sentencepiece (metaspace + byte fallback)");
  s.choice("pretokenizer", o.rule,
           {{"llama3", SplitRule::Llama3}, {"cl100k", SplitRule::Llama3}, {"gpt2", SplitRule::Gpt2},
            {"qwen2", SplitRule::Qwen2}, {"qwen3", SplitRule::Qwen2}, {"o200k", SplitRule::O200k},
            {"none", SplitRule::None}},
           "Byte-level split rule; cl100k is llama3 and qwen3 is qwen2 (ignored in sentencepiece mode)");
  s.add("split_digits", o.split_digits, "One token per digit (the qwen2 rule instead of llama3's 1-3 digits)");
  s.add("special_tokens", o.special_tokens,
        "Special tokens (default <|begin_of_text|> <|end_of_text|>, or <unk> <s> </s> in sentencepiece mode)")
      .flag("--special");
  s.add("reserved_tokens", o.reserved_tokens, "Reserved control tokens <|reserved_special_token_N|> after the specials")
      .flag("--reserved");
  s.add("whitespace_runs", o.whitespace_runs, "Added tokens for runs of 2..N spaces (0 = none; byte-level only)")
      .range(0, 1024);
  s.add("char_coverage", o.char_coverage, "sentencepiece mode: the alphabet covers this fraction of the characters")
      .range(0, 1);
  s.add("add_bos", o.add_bos, "The post-processor puts the first special token before each text (add_special_tokens)")
      .flag("--no-add-bos");
  s.check([&o] { check_train_options(o); });
}

void declare_counting(opt::Schema& s, TrainOptions& o) {
  s.add("min_frequency", o.min_frequency, "Least (language-weighted) count of a merged pair").min(1);
  s.add("max_token_bytes", o.max_token_bytes, "Longest token in bytes (0 = no limit)");
  s.add("max_word_bytes", o.max_word_bytes, "Cut longer unspaced runs (CJK, Thai) into chunks of this many bytes for counting")
      .min(4);
  s.add("lang_alpha", o.lang_alpha, "Per-language weight exponent: share^alpha (1 = as is, 0.3 = flatter)").range(0, 1);
  s.add("lang_field", o.lang_field, "JSON field with the document language (documents without it count as und)");
}

void declare(opt::Schema& s, TrainOptions& o) {
  declare_layout(s, o);
  declare_counting(s, o);
}

void set_pipeline(Tokenizer& tok, const TrainOptions& o) {
  tok.normalizers.clear();
  tok.pre_tokenizers.clear();
  tok.decoders.clear();
  if (o.mode == TrainMode::ByteLevel) {
    PreTokenizerStep split;
    split.kind = PreTokenizerStep::Split;
    split.rule = o.rule;
    if (o.split_digits) {
      if (o.rule != SplitRule::Llama3 && o.rule != SplitRule::Qwen2)
        opt::fail("split_digits", "needs the llama3 or qwen2 pre-tokenizer, got " + std::string(split_rule_name(o.rule)));
      split.rule = SplitRule::Qwen2;
    }
    if (split.rule != SplitRule::None) tok.pre_tokenizers.push_back(split);
    PreTokenizerStep bl;
    bl.kind = PreTokenizerStep::ByteLevel;
    tok.pre_tokenizers.push_back(bl);
    DecoderStep d;
    d.kind = DecoderStep::ByteLevel;
    tok.decoders.push_back(d);
  } else {
    // Mistral / Llama 2 style, with a split at every "▁" so words stay bounded.
    tok.normalizers.push_back({NormalizerStep::Prepend, kMeta, {}});
    tok.normalizers.push_back({NormalizerStep::Replace, " ", kMeta});
    PreTokenizerStep split;
    split.kind = PreTokenizerStep::SplitString;
    split.pattern = kMeta;
    split.behavior = "MergedWithNext";
    tok.pre_tokenizers.push_back(split);
    DecoderStep r;
    r.kind = DecoderStep::Replace;
    r.a = kMeta;
    r.b = " ";
    DecoderStep bf;
    bf.kind = DecoderStep::ByteFallback;
    DecoderStep fu;
    fu.kind = DecoderStep::Fuse;
    DecoderStep st;
    st.kind = DecoderStep::Strip;
    st.a = " ";
    st.start = 1;
    tok.decoders = {r, bf, fu, st};
  }
}

std::string TrainStats::stop_reason(uint64_t min_frequency) const {
  switch (stop) {
    case MergeStop::Target: return "";
    case MergeStop::MinFrequency:
      return "no remaining pair occurs min_frequency (" + std::to_string(min_frequency) +
             ") times; the most frequent occurs " + std::to_string(stop_count) +
             " times (a larger corpus or a lower min_frequency gives more tokens)";
    case MergeStop::NoPairs:
      return "no mergeable pair is left (every counted word is already one token, or max_token_bytes blocks the "
             "rest; a larger corpus gives more tokens)";
  }
  return "";
}

namespace {
const char* stop_name(MergeStop s) {
  switch (s) {
    case MergeStop::Target: return "target";
    case MergeStop::MinFrequency: return "min_frequency";
    case MergeStop::NoPairs: return "no_pairs";
  }
  return "target";
}
}  // namespace

std::string TrainStats::to_json() const {
  std::string s = "{\"docs\":" + std::to_string(docs) + ",\"bytes\":" + std::to_string(bytes) +
                  ",\"words\":" + std::to_string(words) + ",\"unique_words\":" + std::to_string(unique_words) +
                  ",\"merges\":" + std::to_string(merges) + ",\"merges_to_existing\":" +
                  std::to_string(merges_to_existing) + ",\"stop\":\"" + stop_name(stop) + "\"" +
                  (stop == MergeStop::MinFrequency ? ",\"stop_count\":" + std::to_string(stop_count) : "") +
                  ",\"count_seconds\":" + std::to_string(count_seconds) +
                  ",\"merge_seconds\":" + std::to_string(merge_seconds) + ",\"lang_weights\":{";
  for (size_t i = 0; i < lang_weights.size(); ++i)
    s += (i ? "," : "") + json_quote(lang_weights[i].first) + ":" + std::to_string(lang_weights[i].second);
  return s + "}}";
}

Tokenizer train_bpe_from_counts(std::vector<std::pair<std::string, uint64_t>> words, const TrainOptions& o,
                                TrainStats* stats) {
  auto t0 = std::chrono::steady_clock::now();
  check_train_options(o);
  std::sort(words.begin(), words.end());
  Tokenizer tok;
  set_pipeline(tok, o);
  BpeModel& model = tok.model;
  std::vector<std::string> specials = default_specials(o);
  for (uint32_t i = 0; i < o.reserved_tokens; ++i)
    specials.push_back("<|reserved_special_token_" + std::to_string(i) + "|>");
  std::vector<std::string> ws_runs;
  for (uint32_t n = 2; n <= o.whitespace_runs; ++n) ws_runs.push_back(std::string(n, ' '));
  const uint32_t appended = static_cast<uint32_t>(ws_runs.size()) +
                            (o.mode == TrainMode::ByteLevel ? static_cast<uint32_t>(specials.size()) : 0);

  std::vector<uint8_t> mergeable;
  if (o.mode == TrainMode::ByteLevel) {
    model.byte_level = true;
    for (int b = 0; b < 256; ++b) model.add_token(std::string(1, static_cast<char>(b)));
    mergeable.assign(256, 1);
  } else {
    model.byte_level = false;
    model.byte_fallback = true;
    model.fuse_unk = true;
    for (auto& s : specials) model.add_token(s);
    model.unk = 0;
    for (int b = 0; b < 256; ++b) model.add_token(byte_fallback_token(static_cast<uint8_t>(b)));
    // Alphabet: the most frequent characters covering char_coverage of all characters.
    std::unordered_map<std::string, uint64_t> chars;
    uint64_t total = 0;
    for (auto& [w, c] : words)
      for (size_t i = 0; i < w.size();) {
        size_t j = i;
        text::utf8_next(w, j);
        chars[w.substr(i, j - i)] += c;
        total += c;
        i = j;
      }
    std::vector<std::pair<std::string, uint64_t>> sorted(chars.begin(), chars.end());
    std::sort(sorted.begin(), sorted.end(), [](auto& x, auto& y) { return x.second != y.second ? x.second > y.second : x.first < y.first; });
    uint64_t covered = 0;
    for (auto& [ch, c] : sorted) {
      if (covered >= o.char_coverage * static_cast<double>(total) && ch != kMeta) continue;
      if (model.size() + appended >= o.vocab_size) break;
      model.add_token(ch);
      covered += c;
    }
    mergeable.assign(model.size(), 1);
    for (uint32_t i = 0; i < 256 + specials.size() && i < mergeable.size(); ++i) mergeable[i] = 0;
  }
  if (o.vocab_size < model.size() + appended) vocab_too_small(o, model.size() + appended);
  model.finalize("trainer");

  Trainer tr{o, model, {}, {}, {}, {}, {}, {}, {}, mergeable};
  tr.load_words(words);
  uint64_t unique = words.size();
  words.clear();
  words.shrink_to_fit();
  ThreadPool pool(thread_count());
  tr.count_pairs(pool);
  uint64_t merges = 0;
  tr.run(o.vocab_size - appended, pool, merges);
  model.finalize("trainer");
  if (stats) {
    stats->stop = tr.stop;
    stats->stop_count = tr.stop_count;
    stats->merges_to_existing = tr.merges_to_existing;
  }

  uint32_t next_id = model.size();
  if (o.mode == TrainMode::ByteLevel)
    for (auto& s : specials) tok.added.push_back({next_id++, s, true});
  else
    for (uint32_t i = 0; i < specials.size(); ++i) tok.added.push_back({i, specials[i], true});
  for (auto& s : ws_runs) tok.added.push_back({next_id++, s, false});
  if (o.add_bos && !specials.empty()) {
    uint32_t bos = o.mode == TrainMode::ByteLevel ? model.size() : (specials.size() > 1 ? 1u : 0u);
    tok.post_prefix = {bos};
  }
  tok.finalize("trainer");
  if (stats) {
    stats->unique_words = unique;
    stats->merges = merges;
    stats->merge_seconds = seconds_since(t0);
  }
  return tok;
}

std::vector<std::pair<std::string, uint64_t>> count_words(const std::vector<std::string>& files,
                                                         const Tokenizer& pipeline, const TrainOptions& o,
                                                         TrainStats& local) {
  auto t0 = std::chrono::steady_clock::now();
  check_lang_alpha(o);
  const int threads = thread_count();
  // Per worker: language -> word counts, and language -> bytes.
  std::vector<std::map<std::string, WordCounts>> counts(threads);
  std::vector<std::map<std::string, uint64_t>> lang_bytes(threads);
  std::vector<uint64_t> docs(threads), words_seen(threads);
  corpus::Diagnostics diag(o.read.max_reported, o.read.strict);
  Progress progress("tokenizer train: counting words", corpus::total_size(files));
  ThreadPool pool(threads);
  pool.parallel_for_worker(files.size(), [&](size_t f, int worker) {
    corpus::DocumentReader reader(files[f], o.read, &diag);
    corpus::Document doc;
    std::vector<std::string> pieces;
    uint64_t last_raw = 0;
    while (reader.next(doc)) {
      std::string lang = doc.string_field(o.lang_field).value_or("und");
      WordCounts& wc = counts[worker][lang];
      lang_bytes[worker][lang] += doc.text.size();
      pipeline.pre_tokenize(doc.text, true, pieces);
      for (auto& p : pieces)
        for_each_chunk(p, o.max_word_bytes, [&](std::string_view c) {
          auto it = wc.find(std::string(c));
          if (it == wc.end()) wc.emplace(std::string(c), 1);
          else ++it->second;
          ++words_seen[worker];
        });
      ++docs[worker];
      uint64_t raw = reader.raw_bytes_read();
      progress.add(1, raw - last_raw);
      last_raw = raw;
    }
  });
  progress.finish();
  // Merge workers per language, then weight languages by share^alpha / share.
  std::map<std::string, WordCounts> merged;
  std::map<std::string, uint64_t> bytes;
  for (int w = 0; w < threads; ++w) {
    for (auto& [lang, wc] : counts[w]) {
      WordCounts& dst = merged[lang];
      if (dst.empty()) dst.swap(wc);
      else
        for (auto& [k, v] : wc) dst[k] += v;
      wc.clear();
    }
    for (auto& [lang, b] : lang_bytes[w]) bytes[lang] += b;
  }
  uint64_t total_bytes = 0;
  for (auto& [l, b] : bytes) total_bytes += b;
  std::map<std::string, double> weight;
  double zsum = 0;
  for (auto& [l, b] : bytes) zsum += std::pow(static_cast<double>(b) / std::max<uint64_t>(total_bytes, 1), o.lang_alpha);
  double min_w = 1e300;
  for (auto& [l, b] : bytes) {
    double p = static_cast<double>(b) / std::max<uint64_t>(total_bytes, 1);
    double q = std::pow(p, o.lang_alpha) / zsum;
    weight[l] = p > 0 ? q / p : 1.0;
    min_w = std::min(min_w, weight[l]);
  }
  // Integer weights relative to the smallest, so counts stay exact 64-bit integers.
  std::unordered_map<std::string, uint64_t> all;
  for (auto& [lang, wc] : merged) {
    double w = weight[lang] / min_w;
    for (auto& [k, v] : wc) all[k] += static_cast<uint64_t>(std::llround(static_cast<double>(v) * w));
    wc.clear();
  }
  std::vector<std::pair<std::string, uint64_t>> words(all.begin(), all.end());
  all.clear();
  for (int w = 0; w < threads; ++w) {
    local.docs += docs[w];
    local.words += words_seen[w];
  }
  if (local.words == 0)
    runtime_error(local.docs ? "the input documents have no text to count" : "no documents in the input",
                  files.size() == 1 ? files[0] : std::to_string(files.size()) + " files",
                  "check the paths and the format / text_field read options");
  local.bytes = total_bytes;
  for (auto& [l, w] : weight) local.lang_weights.push_back({l, w / min_w});
  std::sort(words.begin(), words.end());
  local.count_seconds = seconds_since(t0);
  return words;
}

Tokenizer train_bpe(const std::vector<std::string>& files, const TrainOptions& o, TrainStats* stats) {
  check_train_options(o);
  Tokenizer pipeline;
  set_pipeline(pipeline, o);
  pipeline.model.byte_level = false;  // only the pipeline is used here; the model stays empty
  pipeline.finalize("trainer");
  TrainStats local;
  auto words = count_words(files, pipeline, o, local);
  Tokenizer tok = train_bpe_from_counts(std::move(words), o, &local);
  if (stats) *stats = local;
  return tok;
}

uint64_t extend_bpe(BpeModel& model, const std::vector<std::pair<std::string, uint64_t>>& words,
                    uint32_t new_tokens, const TrainOptions& o, TrainStats* stats) {
  std::vector<uint8_t> mergeable(model.size(), 0);
  for (uint32_t i = 0; i < model.size(); ++i) mergeable[i] = model.present[i];
  if (model.unk != kNoToken) mergeable[model.unk] = 0;
  for (uint32_t f : model.fallback_ids)
    if (f != kNoToken) mergeable[f] = 0;
  Trainer tr{o, model, {}, {}, {}, {}, {}, {}, {}, mergeable};
  tr.load_words(words);  // segmented by the existing merges
  ThreadPool pool(thread_count());
  tr.count_pairs(pool);
  uint64_t merges = 0;
  tr.run(model.size() + new_tokens, pool, merges);
  model.finalize("extend");
  if (stats) {
    stats->stop = tr.stop;
    stats->stop_count = tr.stop_count;
    stats->merges_to_existing = tr.merges_to_existing;
  }
  return merges;
}

}  // namespace nlm::tokenizer
