// Decontamination: benchmark items become a hash table of word n-grams; every training document
// is scanned with the same tokenisation and its matches are cut out, flagged or dropped.
#include "curate/dedup/decontam.h"

#include "core/options.h"
#include "curate/dedup/options.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/atomic_file.h"
#include "core/compressed_stream.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/json_escape.h"
#include "core/line_reader.h"
#include "core/manifest.h"
#include "core/progress.h"
#include "core/stage_output.h"
#include "corpus/inputs.h"
#include "corpus/reader.h"
#include "curate/dedup/shingles.h"
#include "text/dedup_normalize.h"
#include "text/utf8.h"
#include "text/words.h"

namespace nlm::dedup {
namespace {

using NgramTable = std::unordered_map<uint64_t, uint32_t>;  // n-gram hash -> first item

// Word tokens of a text with their case-folded hashes; views point into the original text.
struct Tokens {
  std::vector<std::string_view> words;
  std::vector<uint64_t> hashes;
};

// Dedup's word rule (AsciiWordRule::AlnumRuns), so benchmark and training n-grams match across
// punctuation variants as dedup shingles do.
void tokenize(std::string_view text, text::WordSegmenter& splitter, std::string& buf, Tokens& t) {
  splitter.segment(text, text::AsciiWordRule::AlnumRuns, t.words);
  t.hashes.resize(t.words.size());
  for (size_t i = 0; i < t.words.size(); ++i) {
    text::dedup_normalize(t.words[i], buf);
    t.hashes[i] = hash64(buf, 0xDEC0);
  }
}

void collect_strings(const nlohmann::json& j, std::vector<std::string>& out) {
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
  } else if (j.is_array() || j.is_object()) {
    for (const auto& v : j) collect_strings(v, out);
  }
}

// Moves `pos` left (dir < 0) or right by up to `chars` code points of UTF-8 text.
size_t step_chars(std::string_view s, size_t pos, uint64_t chars, int dir) {
  for (uint64_t k = 0; k < chars; ++k) {
    if (dir < 0) {
      if (pos == 0) break;
      do --pos;
      while (pos > 0 && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80);
    } else {
      if (pos >= s.size()) break;
      do ++pos;
      while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80);
    }
  }
  return pos;
}

size_t count_chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string options_json(const DecontamOptions& o) {
  return opt::with_member(opt::json_of(o), "read", opt::json_of(o.read));
}

}  // namespace

DecontamAction parse_decontam_action(const std::string& s) {
  if (s == "remove") return DecontamAction::Remove;
  if (s == "flag") return DecontamAction::Flag;
  if (s == "drop") return DecontamAction::Drop;
  opt::fail("action", "must be remove, flag or drop, got " + echoed(s));
}

std::string DecontamResult::to_json() const {
  nlohmann::json items_json = nlohmann::json::array();
  for (auto& [name, docs] : matched_items) items_json.push_back({{"item", name}, {"documents", docs}});
  return nlohmann::json{{"benchmark_items", items}, {"benchmark_ngrams", item_ngrams},
                        {"bad_benchmark_lines", bad_items}, {"documents_in", docs_in},
                        {"documents_out", docs_out}, {"documents_matched", docs_matched},
                        {"documents_dropped", docs_dropped}, {"documents_cut", docs_cut},
                        {"bytes_in", bytes_in}, {"bytes_out", bytes_out}, {"bytes_removed", bytes_removed},
                        {"matched_items", items_json}, {"skipped_records", read.skipped()},
                        {"seconds", seconds},
                        {"throughput_mb_per_s", seconds > 0 ? static_cast<double>(bytes_in) / 1e6 / seconds : 0.0}}
      .dump(2);
}

std::string DecontamResult::summary() const {
  if (up_to_date) return "decontam: output is up to date (same inputs and options); use --force to redo";
  return "decontam: " + std::to_string(docs_matched) + " of " + std::to_string(docs_in) + " documents matched " +
         std::to_string(matched_items.size()) + " of " + std::to_string(items) + " benchmark items; cut " +
         std::to_string(docs_cut) + ", dropped " + std::to_string(docs_dropped) + " (" +
         human_bytes(static_cast<double>(bytes_removed)) + " removed); skipped " + std::to_string(read.skipped()) +
         " malformed records";
}

namespace {

void check_options(const DecontamOptions& options) {
  if (options.benchmarks.empty()) usage_error("no benchmark files given", "--benchmark", "name the test-set JSONL files");
  if (options.ngram < 1 || options.ngram > 64) usage_error("n-gram length must be 1..64", "--ngram");
  for (const auto& b : options.benchmarks)
    if (!std::filesystem::is_regular_file(b)) usage_error("benchmark file not found", b, "check the --benchmark path");
}

// The benchmark n-gram tables and what one training document does against them: one method per
// step, in the order run_decontam calls them.
class Decontaminator {
 public:
  Decontaminator(const DecontamOptions& options, DecontamResult& result)
      : options_(options), result_(result), n_(static_cast<size_t>(options.ngram)) {}

  // Benchmark n-grams; items shorter than n words go to a table of their own length.
  void load_benchmarks() {
    for (const auto& path : options_.benchmarks) {
      auto in = InputStream::open(path);
      LineReader lines(*in);
      std::string_view line;
      while (lines.next(line)) {
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
          ++result_.bad_items;
          continue;
        }
        add_item(j, path, lines.line_number());
      }
    }
    result_.items = item_names_.size();
    for (auto& [w, t] : tables_) result_.item_ngrams += t.size();
    item_docs_.assign(item_names_.size(), 0);
  }

  // Looks for benchmark n-grams in `doc` and applies the action; false when the document is dropped.
  bool process(corpus::Document& doc) {
    find_matches(doc.text);
    if (items_.empty()) return true;
    ++result_.docs_matched;
    std::sort(items_.begin(), items_.end());
    items_.erase(std::unique(items_.begin(), items_.end()), items_.end());
    for (uint32_t it : items_) ++item_docs_[it];
    switch (options_.action) {
      case DecontamAction::Drop:
        ++result_.docs_dropped;
        result_.bytes_removed += doc.text.size();
        return false;
      case DecontamAction::Flag:
        flag(doc);
        return true;
      default:
        return cut(doc);
    }
  }

  // The names of the items whose n-grams occur in `text`, each once.
  std::vector<std::string> matched_names(const std::string& text) {
    find_matches(text);
    std::sort(items_.begin(), items_.end());
    items_.erase(std::unique(items_.begin(), items_.end()), items_.end());
    std::vector<std::string> names;
    for (uint32_t it : items_) names.push_back(item_names_[it]);
    return names;
  }

  // Matched benchmark items, most matched documents first.
  void report_matched_items() {
    for (size_t i = 0; i < item_docs_.size(); ++i)
      if (item_docs_[i]) result_.matched_items.emplace_back(item_names_[i], item_docs_[i]);
    std::stable_sort(result_.matched_items.begin(), result_.matched_items.end(),
                     [](auto& a, auto& b) { return a.second > b.second; });
  }

 private:
  // One benchmark item (a JSON object): its strings' n-grams go to the tables.
  void add_item(const nlohmann::json& j, const std::string& path, uint64_t line_number) {
    std::vector<std::string> strings;
    if (options_.fields.empty()) {
      collect_strings(j, strings);
    } else {
      for (const auto& f : options_.fields)
        if (j.contains(f)) collect_strings(j[f], strings);
    }
    std::string name = path + ":" + std::to_string(line_number);
    if (j.contains(options_.item_id_field)) {
      const auto& id = j[options_.item_id_field];
      name = id.is_string() ? id.get<std::string>() : id.dump();
    }
    const auto item = static_cast<uint32_t>(item_names_.size());
    item_names_.push_back(name);
    for (auto& s : strings) {
      text::utf8_repair_inplace(s);
      tokenize(s, splitter_, buf_, tok_);
      if (tok_.hashes.empty()) continue;
      size_t width = std::min(n_, tok_.hashes.size());
      auto& table = tables_[width];
      for (size_t i = 0; i + width <= tok_.hashes.size(); ++i)
        table.emplace(combine_word_hashes(tok_.hashes.data() + i, width), item);
    }
  }

  // The items whose n-grams occur in `text` (with repeats), and the byte spans they cover.
  void find_matches(const std::string& text) {
    tokenize(text, splitter_, buf_, tok_);
    spans_.clear();
    items_.clear();
    for (auto& [width, table] : tables_) {
      for (size_t i = 0; i + width <= tok_.hashes.size(); ++i) {
        auto it = table.find(combine_word_hashes(tok_.hashes.data() + i, width));
        if (it == table.end()) continue;
        items_.push_back(it->second);
        size_t b = static_cast<size_t>(tok_.words[i].data() - text.data());
        size_t e = static_cast<size_t>(tok_.words[i + width - 1].data() + tok_.words[i + width - 1].size() - text.data());
        spans_.emplace_back(b, e);
      }
    }
  }

  // Names the matched items in the flag field.
  void flag(corpus::Document& doc) const {
    std::string arr = "[";
    for (size_t k = 0; k < items_.size(); ++k) {
      if (k) arr += ",";
      append_json_string(arr, item_names_[items_[k]]);
    }
    doc.set_field(options_.flag_field, arr + "]");
  }

  // Widens and merges the matched spans and keeps what lies between them; false when nothing
  // worth keeping is left (too many pieces, or all too short).
  bool cut(corpus::Document& doc) {
    for (auto& [b, e] : spans_) {
      b = step_chars(doc.text, b, options_.remove_chars, -1);
      e = step_chars(doc.text, e, options_.remove_chars, +1);
    }
    std::sort(spans_.begin(), spans_.end());
    std::vector<std::pair<size_t, size_t>> merged;
    for (auto s : spans_) {
      if (!merged.empty() && s.first <= merged.back().second) merged.back().second = std::max(merged.back().second, s.second);
      else merged.push_back(s);
    }
    std::vector<std::string_view> pieces;
    size_t pos = 0;
    for (auto [b, e] : merged) {
      if (b > pos) pieces.push_back(std::string_view(doc.text).substr(pos, b - pos));
      pos = e;
    }
    if (pos < doc.text.size()) pieces.push_back(std::string_view(doc.text).substr(pos));
    out_.clear();
    if (pieces.size() <= options_.max_splits) {
      for (auto p : pieces) {
        if (count_chars(p) < options_.min_piece_chars) continue;
        if (!out_.empty()) out_ += "\n\n";
        out_.append(p);
      }
    }
    result_.bytes_removed += doc.text.size() - std::min(doc.text.size(), out_.size());
    if (out_.empty()) {
      ++result_.docs_dropped;
      return false;
    }
    ++result_.docs_cut;
    doc.text.swap(out_);
    return true;
  }

  const DecontamOptions& options_;
  DecontamResult& result_;
  const size_t n_;
  std::map<size_t, NgramTable> tables_;  // by n-gram width
  std::vector<std::string> item_names_;
  std::vector<uint64_t> item_docs_;      // matched documents per item
  text::WordSegmenter splitter_;
  std::string buf_, out_;
  Tokens tok_;
  std::vector<std::pair<size_t, size_t>> spans_;
  std::vector<uint32_t> items_;
};

}  // namespace

struct DecontamIndex::Impl {
  explicit Impl(const DecontamOptions& o) : options(o), matcher(options, result) {}
  DecontamOptions options;
  DecontamResult result;
  Decontaminator matcher;
};

DecontamIndex::DecontamIndex(const DecontamOptions& options) {
  check_options(options);
  impl_ = std::make_unique<Impl>(options);
  impl_->matcher.load_benchmarks();
}

DecontamIndex::~DecontamIndex() = default;

std::vector<std::string> DecontamIndex::matches(const std::string& text) { return impl_->matcher.matched_names(text); }

uint64_t DecontamIndex::items() const { return impl_->result.items; }

DecontamResult run_decontam(const std::vector<std::string>& files, const DecontamOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  DecontamResult result;
  check_options(options);
  std::vector<std::string> inputs = files;
  inputs.insert(inputs.end(), options.benchmarks.begin(), options.benchmarks.end());
  Manifest manifest = plan_stage("decontam", options_json(options), inputs);
  result.up_to_date = finished_stage(options.shards.dir, manifest, options.force).has_value();
  if (result.up_to_date) return result;

  Decontaminator decontam(options, result);
  decontam.load_benchmarks();
  corpus::ShardWriter writer(options.shards);
  {
    Progress progress("decontam", corpus::total_size(files));
    corpus::Diagnostics diag(options.read.max_reported, options.read.strict);
    corpus::Document doc;
    for (const auto& file : files) {
      corpus::DocumentReader reader(file, options.read, &diag);
      uint64_t last = 0;
      while (reader.next(doc)) {
        progress.add(1, reader.raw_bytes_read() - last);
        last = reader.raw_bytes_read();
        ++result.docs_in;
        result.bytes_in += doc.text.size();
        if (!decontam.process(doc)) continue;
        ++result.docs_out;
        result.bytes_out += doc.text.size();
        writer.write(doc);
      }
      result.read.merge(reader.stats());
    }
    progress.finish();
  }
  decontam.report_matched_items();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  manifest.outputs = writer.close();
  const std::string report = result.to_json();
  publish_stage(options.shards.dir, std::move(manifest), result.seconds, report, report + "\n");
  return result;
}

}  // namespace nlm::dedup
