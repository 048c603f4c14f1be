// Per-document accumulation, parallel merge over files, and JSON/table rendering of CorpusStats.
#include "corpus/stats.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/options.h"
#include "core/progress.h"
#include "core/runtime.h"
#include "core/thread_pool.h"
#include "corpus/inputs.h"
#include "corpus/reader.h"
#include "text/utf8.h"

namespace nlm::corpus {

void CorpusStats::add(const Document& doc) {
  ++docs;
  bytes += doc.text.size();
  uint64_t n = text::utf8_length(doc.text);
  chars += n;
  if (doc.text.empty()) {
    ++empty_docs;
  } else {
    const char* p = doc.text.data();
    const char* end = p + doc.text.size();
    uint64_t nl = 0;
    while ((p = static_cast<const char*>(std::memchr(p, '\n', end - p)))) {
      ++nl;
      ++p;
    }
    lines += nl + (doc.text.back() == '\n' ? 0 : 1);
  }
  min_chars = std::min(min_chars, n);
  max_chars = std::max(max_chars, n);
  size_t b = static_cast<size_t>(std::upper_bound(kEdges.begin(), kEdges.end(), n) - kEdges.begin()) - 1;
  ++histogram[b];
  scripts.add(doc.text);
}

void CorpusStats::merge(const CorpusStats& o) {
  docs += o.docs;
  bytes += o.bytes;
  chars += o.chars;
  lines += o.lines;
  empty_docs += o.empty_docs;
  min_chars = std::min(min_chars, o.min_chars);
  max_chars = std::max(max_chars, o.max_chars);
  for (size_t i = 0; i < histogram.size(); ++i) histogram[i] += o.histogram[i];
  scripts.merge(o.scripts);
  read.merge(o.read);
  for (const auto& [lang, t] : o.languages) {
    languages[lang].docs += t.docs;
    languages[lang].bytes += t.bytes;
  }
  for (const auto& [name, n] : o.source_counts) source_counts[name] += n;
  if (lid.empty()) lid = o.lid;
}

namespace {
std::string bucket_label(size_t i) {
  auto k = [](uint64_t v) {
    if (v >= 1048576) return std::to_string(v / 1048576) + "Mi";
    if (v >= 1024) return std::to_string(v / 1024) + "Ki";
    return std::to_string(v);
  };
  if (i + 1 < CorpusStats::kEdges.size())
    return k(CorpusStats::kEdges[i]) + "-" + k(CorpusStats::kEdges[i + 1] - 1);
  return k(CorpusStats::kEdges[i]) + "+";
}
}  // namespace

std::vector<std::pair<std::string, CorpusStats::LangTally>> CorpusStats::sorted_languages() const {
  std::vector<std::pair<std::string, LangTally>> v(languages.begin(), languages.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second.docs > b.second.docs; });
  return v;
}

std::string CorpusStats::to_json() const {
  using nlohmann::json;
  json j;
  j["documents"] = docs;
  j["bytes"] = bytes;
  j["characters"] = chars;
  j["lines"] = lines;
  j["empty_documents"] = empty_docs;
  j["chars_per_doc"] = {{"min", docs ? min_chars : 0},
                        {"max", max_chars},
                        {"mean", docs ? static_cast<double>(chars) / static_cast<double>(docs) : 0.0}};
  json h = json::array();
  for (size_t i = 0; i < histogram.size(); ++i)
    h.push_back({{"chars", bucket_label(i)}, {"min", kEdges[i]}, {"documents", histogram[i]}});
  j["length_histogram"] = h;
  json s = json::object();
  for (const auto& [name, count] : scripts.sorted()) s[name] = count;
  j["scripts"] = s;
  j["input"] = {{"files", read.files},
                {"raw_bytes", read.raw_bytes},
                {"malformed", {{"bad_json", read.bad_json},
                               {"missing_text", read.missing_text},
                               {"wrong_type", read.wrong_type},
                               {"truncated_files", read.truncated_files},
                               {"total_skipped", read.skipped()}}},
                {"invalid_utf8_documents", read.invalid_utf8_docs},
                {"utf8_replacements", read.utf8_replacements}};
  if (!source_counts.empty()) {
    json c = json::object();
    for (const auto& [name, n] : source_counts) c[name] = n;
    j["input"]["sources"] = c;
  }
  if (!lid.empty()) {
    json l = json::object();
    for (const auto& [lang, t] : sorted_languages()) l[lang] = {{"documents", t.docs}, {"bytes", t.bytes}};
    j["languages"] = {{"identifier", lid}, {"counts", l}};
  }
  return j.dump(2) + "\n";
}

std::string CorpusStats::to_table() const {
  std::string out;
  char buf[256];
  auto row = [&](const char* name, const std::string& value) {
    std::snprintf(buf, sizeof buf, "  %-24s %s\n", name, value.c_str());
    out += buf;
  };
  auto num = [](uint64_t v) {
    std::string digits = std::to_string(v), s;
    for (size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0) s.push_back(',');
      s.push_back(digits[i]);
    }
    return s;
  };
  out += "corpus\n";
  row("files", num(read.files));
  row("documents", num(docs));
  row("bytes", num(bytes) + " (" + human_bytes(static_cast<double>(bytes)) + ")");
  row("characters", num(chars));
  row("lines", num(lines));
  row("empty documents", num(empty_docs));
  if (docs) {
    std::snprintf(buf, sizeof buf, "min %s, mean %.1f, max %s", num(min_chars).c_str(),
                  static_cast<double>(chars) / static_cast<double>(docs), num(max_chars).c_str());
    row("chars per document", buf);
  }
  out += "length histogram (chars per document)\n";
  uint64_t peak = 1;
  for (auto c : histogram) peak = std::max(peak, c);
  for (size_t i = 0; i < histogram.size(); ++i) {
    if (!histogram[i]) continue;
    int bar = static_cast<int>(40.0 * static_cast<double>(histogram[i]) / static_cast<double>(peak) + 0.5);
    std::snprintf(buf, sizeof buf, "  %-14s %12s  %s\n", bucket_label(i).c_str(), num(histogram[i]).c_str(),
                  std::string(static_cast<size_t>(std::max(bar, 1)), '#').c_str());
    out += buf;
  }
  out += "scripts (characters)\n";
  for (const auto& [name, count] : scripts.sorted()) {
    std::snprintf(buf, sizeof buf, "  %-24s %14s  %5.1f%%\n", name.c_str(), num(count).c_str(),
                  chars ? 100.0 * static_cast<double>(count) / static_cast<double>(chars) : 0.0);
    out += buf;
  }
  if (!lid.empty()) {
    out += "languages (" + lid + ": documents, bytes)\n";
    for (const auto& [lang, t] : sorted_languages()) {
      std::snprintf(buf, sizeof buf, "  %-10s %12s  %5.1f%%  %16s  %5.1f%%\n", lang.c_str(), num(t.docs).c_str(),
                    docs ? 100.0 * static_cast<double>(t.docs) / static_cast<double>(docs) : 0.0,
                    num(t.bytes).c_str(), bytes ? 100.0 * static_cast<double>(t.bytes) / static_cast<double>(bytes) : 0.0);
      out += buf;
    }
  }
  out += "skipped input\n";
  row("bad JSON", num(read.bad_json));
  row("missing text field", num(read.missing_text));
  row("text not a string", num(read.wrong_type));
  row("truncated/corrupt files", num(read.truncated_files));
  row("invalid UTF-8 (repaired)", num(read.invalid_utf8_docs) + " documents, " +
                                      num(read.utf8_replacements) + " replacements");
  if (!source_counts.empty()) {
    out += "archive records\n";
    for (const auto& [name, n] : source_counts) row(name.c_str(), num(n));
  }
  return out;
}

}  // namespace nlm::corpus
