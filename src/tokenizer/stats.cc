// Per-language tokenizer metrics over a corpus, one pass per batch of documents on the thread pool.
#include "tokenizer/stats.h"

#include <cstdio>
#include <unordered_map>

#include "core/error.h"
#include "core/options.h"
#include "core/json_escape.h"
#include "core/runtime.h"
#include "core/thread_pool.h"
#include "corpus/reader.h"
#include "text/utf8.h"
#include "text/words.h"
#include "tokenizer/tokenizer.h"

namespace nlm::tokenizer {

namespace {

// Per tokenizer: the tokenizer, and whether it puts the word-start marker in itself.
struct Tokenizers {
  std::vector<Tokenizer> toks;
  std::vector<uint8_t> own_word_start;
  size_t size() const { return toks.size(); }
};

// One document's figures under every tokenizer.
struct DocResult {
  std::string lang, id;
  std::vector<LangStats> per_tok;
};

// Parallel documents: id -> lang -> tokens per tokenizer.
using ParallelTokens = std::unordered_map<std::string, std::map<std::string, std::vector<uint64_t>>>;

// SentencePiece-style tokenizers put the word-start marker in themselves (Prepend / Metaspace);
// byte-level ones need the real leading space to see a word start.
bool adds_word_start(const Tokenizer& t) {
  for (auto& n : t.normalizers)
    if (n.kind == NormalizerStep::Prepend) return true;
  for (auto& p : t.pre_tokenizers)
    if (p.kind == PreTokenizerStep::Metaspace && p.prepend_scheme != "never") return true;
  return false;
}

// Step 1: load every tokenizer, in the order given (the report's columns).
Tokenizers load_tokenizers(const StatsOptions& o, StatsReport& report) {
  if (o.tokenizers.empty()) opt::fail("tokenizers", "is empty", "name at least one tokenizer.json or folder");
  Tokenizers t;
  for (auto& path : o.tokenizers) {
    t.toks.push_back(Tokenizer::load(path));
    t.own_word_start.push_back(adds_word_start(t.toks.back()));
    report.tokenizers.push_back(path);
  }
  return t;
}

// Step 2: one document under every tokenizer: bytes, characters, ICU words, tokens, byte-fallback
// and unknown tokens, and the words that take 2+ tokens when encoded alone.
void measure_document(const corpus::Document& d, const Tokenizers& t, const StatsOptions& o,
                      text::WordSegmenter& seg, DocResult& r) {
  r.lang = !o.lang.empty() ? o.lang : d.string_field(o.lang_field).value_or(o.default_lang);
  r.id = d.id;
  r.per_tok.assign(t.size(), {});
  thread_local std::vector<text::WordSpan> words;
  seg.segment(d.text, text::AsciiWordRule::Uax29, words);
  std::vector<uint32_t> ids;
  for (size_t k = 0; k < t.size(); ++k) {
    LangStats& s = r.per_tok[k];
    s.docs = 1;
    s.bytes = d.text.size();
    s.chars = text::utf8_length(d.text);
    s.words = words.size();
    ids.clear();
    t.toks[k].encode_into(d.text, false, ids);
    s.tokens = ids.size();
    for (uint32_t id : ids) {
      s.byte_fallback += t.toks[k].is_byte_fallback(id);
      s.unknown += t.toks[k].is_unknown(id);
    }
    for (auto& w : words) {
      bool space = !t.own_word_start[k] && w.begin > 0 && d.text[w.begin - 1] == ' ';
      std::string word = (space ? " " : "") + d.text.substr(w.begin, w.size);
      ids.clear();
      t.toks[k].encode_into(word, false, ids);
      s.continued_words += ids.size() > 1;
    }
  }
}

// Step 3: add one document's figures to its language, and its tokens to the parallel table.
void add_to_report(const DocResult& r, const StatsOptions& o, StatsReport& report, ParallelTokens& parallel) {
  const size_t T = r.per_tok.size();
  auto& dst = report.langs[r.lang];
  dst.resize(T);
  for (size_t t = 0; t < T; ++t) {
    const LangStats& s = r.per_tok[t];
    LangStats& a = dst[t];
    a.docs += s.docs;
    a.bytes += s.bytes;
    a.chars += s.chars;
    a.words += s.words;
    a.tokens += s.tokens;
    a.continued_words += s.continued_words;
    a.byte_fallback += s.byte_fallback;
    a.unknown += s.unknown;
  }
  if (!o.reference_lang.empty() && !r.id.empty()) {
    auto& v = parallel[r.id][r.lang];
    v.resize(T);
    for (size_t t = 0; t < T; ++t) v[t] += r.per_tok[t].tokens;
  }
}

// Step 4: read the files in batches, measure each batch on the thread pool and add it in input
// order (so the figures do not depend on the thread count). Returns the documents measured.
uint64_t measure_files(const std::vector<std::string>& files, const StatsOptions& o, const Tokenizers& t,
                       StatsReport& report, ParallelTokens& parallel) {
  ThreadPool pool(thread_count());
  std::vector<text::WordSegmenter> segs(pool.size());
  corpus::Diagnostics diag(o.read.max_reported, o.read.strict);
  uint64_t seen = 0;
  const size_t kBatch = 512;
  std::vector<corpus::Document> batch(kBatch);
  std::vector<DocResult> results(kBatch);
  for (auto& f : files) {
    corpus::DocumentReader reader(f, o.read, &diag);
    bool done = false;
    while (!done) {
      size_t n = 0;
      while (n < kBatch && (o.max_docs == 0 || seen + n < o.max_docs) && reader.next(batch[n])) ++n;
      if (n < kBatch) done = true;
      if (n == 0) break;
      pool.parallel_for_worker(n, [&](size_t i, int worker) { measure_document(batch[i], t, o, segs[worker], results[i]); });
      for (size_t i = 0; i < n; ++i) add_to_report(results[i], o, report, parallel);
      seen += n;
    }
  }
  return seen;
}

// Step 5: the reference language must be one of the corpus languages.
void require_reference_language(const StatsOptions& o, const StatsReport& report) {
  if (report.langs.count(o.reference_lang)) return;
  std::string langs;
  for (auto& [lang, v] : report.langs) langs += (langs.empty() ? "" : ", ") + lang;
  opt::fail("reference", "names language '" + o.reference_lang + "', which has no documents",
            "use one of the corpus languages: " + langs);
}

// Step 6: parity per language and tokenizer: its tokens over the reference language's tokens,
// summed over the documents present in both.
void add_parity(const std::string& reference, const ParallelTokens& parallel, StatsReport& report) {
  // lang -> (tokens, reference tokens) per tokenizer over ids present in both.
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> acc;
  const size_t T = report.tokenizers.size();
  for (auto& [id, by_lang] : parallel) {
    auto ref = by_lang.find(reference);
    if (ref == by_lang.end()) continue;
    for (auto& [lang, v] : by_lang) {
      auto& a = acc[lang];
      a.resize(T);
      for (size_t t = 0; t < T; ++t) {
        a[t].first += v[t];
        a[t].second += ref->second[t];
      }
    }
  }
  for (auto& [lang, a] : acc)
    for (size_t t = 0; t < T; ++t)
      if (a[t].second) report.langs[lang][t].parity = double(a[t].first) / a[t].second;
}

}  // namespace

void declare(opt::Schema& s, StatsOptions& o) {
  s.add("tokenizers", o.tokenizers, "tokenizer.json or folder; repeat to compare side by side").flag("-t,--tokenizer");
  s.add("lang", o.lang, "Treat every document as this language (default: the lang field)");
  s.add("lang_field", o.lang_field, "JSON field with the document language");
  s.add("default_lang", o.default_lang, "Language of documents without the lang field");
  s.add("reference", o.reference_lang,
        "Reference language for parity over parallel documents (same id across languages)");
  s.add("max_docs", o.max_docs, "Stop after this many documents (0 = all)");
  s.check([&o] {
    if (o.tokenizers.empty()) opt::fail("tokenizers", "is empty", "name at least one tokenizer.json or folder");
  });
}

StatsReport tokenizer_stats(const std::vector<std::string>& files, const StatsOptions& o) {
  StatsReport report;
  Tokenizers toks = load_tokenizers(o, report);
  ParallelTokens parallel;
  const uint64_t seen = measure_files(files, o, toks, report, parallel);
  if (seen == 0)
    runtime_error("no documents in the input", files.size() == 1 ? files[0] : std::to_string(files.size()) + " files",
                  "check the paths and the format / text_field read options");
  if (!o.reference_lang.empty()) {
    require_reference_language(o, report);
    add_parity(o.reference_lang, parallel, report);
  }
  return report;
}

std::string StatsReport::to_json() const {
  std::string s = "{\"tokenizers\":[";
  for (size_t t = 0; t < tokenizers.size(); ++t) s += (t ? "," : "") + json_quote(tokenizers[t]);
  s += "],\"languages\":{";
  bool first = true;
  char buf[512];
  for (auto& [lang, v] : langs) {
    s += (first ? "" : ",") + json_quote(lang) + ":[";
    first = false;
    for (size_t t = 0; t < v.size(); ++t) {
      const LangStats& x = v[t];
      std::snprintf(buf, sizeof buf,
                    "%s{\"docs\":%llu,\"bytes\":%llu,\"words\":%llu,\"tokens\":%llu,\"fertility\":%.4f,"
                    "\"bytes_per_token\":%.4f,\"chars_per_token\":%.4f,\"continued_words\":%.4f,"
                    "\"byte_fallback_rate\":%.6f,\"unknown_rate\":%.6f,\"parity\":",
                    t ? "," : "", (unsigned long long)x.docs, (unsigned long long)x.bytes,
                    (unsigned long long)x.words, (unsigned long long)x.tokens, x.fertility(), x.bytes_per_token(),
                    x.chars_per_token(), x.continued(), x.tokens ? double(x.byte_fallback) / x.tokens : 0.0,
                    x.tokens ? double(x.unknown) / x.tokens : 0.0);
      s += buf;
      s += x.parity < 0 ? "null}" : std::to_string(x.parity) + "}";
    }
    s += "]";
  }
  return s + "}}\n";
}

std::string StatsReport::to_table() const {
  std::string s;
  for (size_t t = 0; t < tokenizers.size(); ++t) s += "[" + std::to_string(t) + "] " + tokenizers[t] + "\n";
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-8s %3s %8s %10s %9s %8s %8s %9s %9s %8s %7s\n", "lang", "tok", "docs", "tokens",
                "fertility", "bytes/t", "chars/t", "continued", "bytefall", "unknown", "parity");
  s += buf;
  for (auto& [lang, v] : langs)
    for (size_t t = 0; t < v.size(); ++t) {
      const LangStats& x = v[t];
      char parity_buf[32] = "-";
      if (x.parity >= 0) std::snprintf(parity_buf, sizeof parity_buf, "%.3f", x.parity);  // rounded, not cut
      const std::string parity = parity_buf;
      std::snprintf(buf, sizeof buf, "%-8s %3zu %8llu %10llu %9.3f %8.3f %8.3f %8.1f%% %8.3f%% %7.3f%% %7s\n",
                    lang.c_str(), t, (unsigned long long)x.docs, (unsigned long long)x.tokens, x.fertility(),
                    x.bytes_per_token(), x.chars_per_token(), 100 * x.continued(),
                    x.tokens ? 100.0 * x.byte_fallback / x.tokens : 0.0, x.tokens ? 100.0 * x.unknown / x.tokens : 0.0,
                    parity.c_str());
      s += buf;
    }
  return s;
}

}  // namespace nlm::tokenizer
