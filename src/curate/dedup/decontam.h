// `nativelm decontam`: remove or flag training documents that share a word n-gram with benchmark
// test items, so evaluations are not run on memorised data. NeMo defaults: 13-grams; the matched
// span plus 200 characters each side is cut out, pieces under 200 characters are dropped, and a
// document cut into more than 10 pieces is dropped whole. Words are ICU words, case folded, so
// the check works for unspaced scripts too. Benchmark n-grams are held in memory (test sets are
// small); the corpus streams through.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "corpus/read_options.h"
#include "corpus/writer.h"

namespace nlm::dedup {

enum class DecontamAction {
  Remove,  // cut matched spans (NeMo)
  Flag,    // keep the document, add a field listing the matched items
  Drop,    // drop any matching document
};
DecontamAction parse_decontam_action(const std::string& s);  // remove | flag | drop

struct DecontamOptions {
  corpus::ReadOptions read;
  corpus::ShardOptions shards;
  // Benchmark files: JSONL, one test item a line.
  std::vector<std::string> benchmarks;
  // Item members whose text is checked; empty takes every string value in the item (nested too).
  std::vector<std::string> fields;
  // Item member naming the item in the report; items without it are named file:line.
  std::string item_id_field = "id";
  // n-gram length in words. Items shorter than this are matched as a whole word sequence.
  int ngram = 13;
  DecontamAction action = DecontamAction::Remove;
  // Remove: characters cut on each side of a matched span, minimum piece length kept (shorter
  // pieces are dropped), and the most pieces a document may be cut into before it is dropped.
  uint64_t remove_chars = 200;
  uint64_t min_piece_chars = 200;
  uint64_t max_splits = 10;
  // Flag: field added to matching documents (a JSON array of item names).
  std::string flag_field = "contaminated_by";
  bool force = false;  // redo even when the manifest matches
};

struct DecontamResult {
  bool up_to_date = false;
  corpus::ReadStats read;
  uint64_t items = 0, item_ngrams = 0, bad_items = 0;
  uint64_t docs_in = 0, docs_out = 0, docs_matched = 0, docs_dropped = 0, docs_cut = 0;
  uint64_t bytes_in = 0, bytes_out = 0, bytes_removed = 0;
  // (item name, documents it matched), most matched first.
  std::vector<std::pair<std::string, uint64_t>> matched_items;
  double seconds = 0;
  std::string to_json() const;
  std::string summary() const;
};

DecontamResult run_decontam(const std::vector<std::string>& files, const DecontamOptions& options);

// The benchmark n-gram lookup alone, for stages that only ask whether a text overlaps a test item
// (synth checks each generated output). Uses options.benchmarks, fields, item_id_field and ngram.
class DecontamIndex {
 public:
  explicit DecontamIndex(const DecontamOptions& options);  // loads the benchmarks; usage errors as run_decontam
  ~DecontamIndex();
  DecontamIndex(const DecontamIndex&) = delete;
  DecontamIndex& operator=(const DecontamIndex&) = delete;
  // The names of the items sharing an n-gram with `text`, each once, in item order; empty = clean.
  std::vector<std::string> matches(const std::string& text);
  uint64_t items() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nlm::dedup
