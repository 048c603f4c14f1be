// Per-language tokenizer metrics over a corpus, one pass per batch of documents on the thread pool.
#include "tokenizer/stats.h"

#include <cstdio>
#include <unordered_map>

#include "core/error.h"
#include "core/json_escape.h"
#include "core/runtime.h"
#include "core/thread_pool.h"
#include "corpus/reader.h"
#include "text/utf8.h"
#include "text/words.h"
#include "tokenizer/tokenizer.h"

namespace nlm::tokenizer {

namespace {

struct DocResult {
  std::string lang, id;
  std::vector<LangStats> per_tok;
};

// SentencePiece-style tokenizers put the word-start marker in themselves (Prepend / Metaspace);
// byte-level ones need the real leading space to see a word start.
bool adds_word_start(const Tokenizer& t) {
  for (auto& n : t.normalizers)
    if (n.kind == NormalizerStep::Prepend) return true;
  for (auto& p : t.pre_tokenizers)
    if (p.kind == PreTokenizerStep::Metaspace && p.prepend_scheme != "never") return true;
  return false;
}

}  // namespace

StatsReport tokenizer_stats(const std::vector<std::string>& files, const StatsOptions& o) {
  StatsReport report;
  std::vector<Tokenizer> toks;
  for (auto& t : o.tokenizers) {
    toks.push_back(Tokenizer::load(t));
    report.tokenizers.push_back(t);
  }
  const size_t T = toks.size();
  std::vector<uint8_t> own_word_start;
  for (auto& t : toks) own_word_start.push_back(adds_word_start(t));
  ThreadPool pool(thread_count());
  std::vector<text::WordSegmenter> segs(pool.size());
  corpus::Diagnostics diag(o.read.max_reported, o.read.strict);
  // Parallel documents: id -> lang -> tokens per tokenizer.
  std::unordered_map<std::string, std::map<std::string, std::vector<uint64_t>>> parallel;
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
      pool.parallel_for_worker(n, [&](size_t i, int worker) {
        const corpus::Document& d = batch[i];
        DocResult& r = results[i];
        r.lang = o.force_lang ? o.default_lang : d.string_field(o.lang_field).value_or(o.default_lang);
        r.id = d.id;
        r.per_tok.assign(T, {});
        thread_local std::vector<text::WordSpan> words;
        segs[worker].segment(d.text, text::AsciiWordRule::Uax29, words);
        std::vector<uint32_t> ids;
        for (size_t t = 0; t < T; ++t) {
          LangStats& s = r.per_tok[t];
          s.docs = 1;
          s.bytes = d.text.size();
          s.chars = text::utf8_length(d.text);
          s.words = words.size();
          ids.clear();
          toks[t].encode_into(d.text, false, ids);
          s.tokens = ids.size();
          for (uint32_t id : ids) {
            s.byte_fallback += toks[t].is_byte_fallback(id);
            s.unknown += toks[t].is_unknown(id);
          }
          for (auto& w : words) {
            bool space = !own_word_start[t] && w.begin > 0 && d.text[w.begin - 1] == ' ';
            std::string word = (space ? " " : "") + d.text.substr(w.begin, w.size);
            ids.clear();
            toks[t].encode_into(word, false, ids);
            s.continued_words += ids.size() > 1;
          }
        }
      });
      for (size_t i = 0; i < n; ++i) {
        auto& dst = report.langs[results[i].lang];
        dst.resize(T);
        for (size_t t = 0; t < T; ++t) {
          const LangStats& s = results[i].per_tok[t];
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
        if (!o.reference_lang.empty() && !results[i].id.empty()) {
          auto& v = parallel[results[i].id][results[i].lang];
          v.resize(T);
          for (size_t t = 0; t < T; ++t) v[t] += results[i].per_tok[t].tokens;
        }
      }
      seen += n;
    }
  }
  if (seen == 0)
    runtime_error("no documents in the input", files.size() == 1 ? files[0] : std::to_string(files.size()) + " files",
                  "check the paths and --format / --text-field");
  if (!o.reference_lang.empty() && !report.langs.count(o.reference_lang)) {
    std::string langs;
    for (auto& [lang, v] : report.langs) langs += (langs.empty() ? "" : ", ") + lang;
    usage_error("no documents in reference language '" + o.reference_lang + "'", "--reference",
                "use one of the corpus languages: " + langs);
  }
  if (!o.reference_lang.empty()) {
    // lang -> (tokens, reference tokens) per tokenizer over ids present in both.
    std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> acc;
    for (auto& [id, by_lang] : parallel) {
      auto ref = by_lang.find(o.reference_lang);
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
      std::snprintf(buf, sizeof buf, "%-8s %3zu %8llu %10llu %9.3f %8.3f %8.3f %8.1f%% %8.3f%% %7.3f%% %7s\n",
                    lang.c_str(), t, (unsigned long long)x.docs, (unsigned long long)x.tokens, x.fertility(),
                    x.bytes_per_token(), x.chars_per_token(), 100 * x.continued(),
                    x.tokens ? 100.0 * x.byte_fallback / x.tokens : 0.0, x.tokens ? 100.0 * x.unknown / x.tokens : 0.0,
                    x.parity < 0 ? "-" : std::to_string(x.parity).substr(0, 5).c_str());
      s += buf;
    }
  return s;
}

}  // namespace nlm::tokenizer
