// Parsing of the keep policy named on the command line or in a pipeline file.
#include "curate/dedup/options.h"

#include "core/error.h"
#include "core/options.h"
#include "curate/dedup/decontam.h"
#include "curate/dedup/minhash.h"
#include "curate/dedup/segments.h"

namespace nlm::dedup {

KeepPolicy parse_keep_policy(const std::string& s) {
  KeepPolicy p;
  if (s == "first") return p;
  if (s == "longest") {
    p.kind = KeepKind::Longest;
    return p;
  }
  if (s.rfind("field:", 0) == 0 && s.size() > 6) {
    p.kind = KeepKind::Field;
    p.field = s.substr(6);
    return p;
  }
  opt::fail("keep", "must be first, longest or field:NAME, got " + echoed(s));
}

std::string keep_policy_name(const KeepPolicy& p) {
  switch (p.kind) {
    case KeepKind::Longest: return "longest";
    case KeepKind::Field: return "field:" + p.field;
    default: return "first";
  }
}

void declare(opt::Schema& s, DedupOptions& o) {
  corpus::declare(s, o.shards);
  s.add("exact", o.exact, "Exact dedup: drop documents whose normalised text hashes like an earlier one")
      .flag("--no-exact");
  s.add("fuzzy", o.fuzzy, "MinHash + LSH near-duplicate removal").flag("--no-fuzzy");
  s.custom("preset", [] { return std::string(); },
           [&o](const std::string& name) { apply_preset(o.minhash, name); }, "fineweb|nemo",
           "Sets shingle, ngram, bands and rows: fineweb (word 5-grams, 14x8) or nemo (char 24-grams, "
           "20x13); keys given beside it win")
      .apply_first()
      .no_json();
  auto& mh = o.minhash;
  s.choice("shingle", mh.shingle, {{"word", ShingleKind::Word}, {"char", ShingleKind::Char}},
           "Shingle unit: word (ICU words, so CJK and Thai work) or char (code points)");
  s.add("ngram", mh.ngram, "Shingle length; when not given, 5 for word and 24 for char shingles").range(1, 64);
  s.add("bands", mh.bands, "LSH bands; more bands catch lower similarity").range(1, 1024);
  s.add("rows", mh.rows, "Hashes per band; more rows make the detection curve steeper").range(1, 1024);
  s.add("seed", mh.seed, "Seed of the shingle hashes and permutations");
  s.add("jaccard_check", o.jaccard_check,
        "Verify candidate pairs by exact Jaccard similarity (removes LSH false positives; costs another "
        "read of the files holding candidate pairs)");
  s.add("jaccard_threshold", o.jaccard_threshold, "Minimum Jaccard similarity of a verified pair").range(0, 1);
  s.custom("keep", [&o] { return keep_policy_name(o.keep); },
           [&o](const std::string& v) { o.keep = parse_keep_policy(v); }, "first|longest|field:NAME",
           "Which document of a cluster stays: the first, the longest, or the highest value of a numeric field");
  s.add("cluster_size_field", o.cluster_size_field, "Field added to kept documents: the size of their cluster");
  s.size("memory", o.memory, "Sort buffer budget; beyond it keys spill to disk (e.g. 512M, 4G)");
  s.add("report_examples", o.report_examples, "Largest clusters the report lists with an excerpt").min(0);
  s.add("force", o.force, "Redo even when the output is up to date").no_yaml().no_json();
  s.check([&mh] {
    if (mh.bands * mh.rows > 4096) opt::fail("bands", "times rows must be at most 4096, got " + std::to_string(mh.hashes()));
  });
  // A char shingle is a code point, not a word: without an explicit length it takes NeMo's 24.
  s.derive([&s, &mh] {
    if (!s.given("ngram")) mh.ngram = mh.shingle == ShingleKind::Char ? 24 : 5;
  });
}

void declare(opt::Schema& s, SegmentDedupOptions& o) {
  corpus::declare(s, o.shards);
  s.choice("unit", o.unit, {{"line", SegmentUnit::Line}, {"paragraph", SegmentUnit::Paragraph}},
           "Segment unit: line, or paragraph (blank-line separated)");
  s.add("max_repeats", o.max_docs,
        "A segment in more than this many documents is removed from all but the first")
      .min(1);
  s.add("min_segment_bytes", o.min_segment_bytes, "Shorter segments are never removed");
  s.add("min_doc_bytes", o.min_doc_bytes, "Drop documents left with less text (0 keeps them all)");
  s.size("memory", o.memory, "Sort buffer budget; beyond it hashes spill to disk (e.g. 512M, 4G)");
  s.add("report_examples", o.report_examples, "Most repeated segments the report lists").min(0);
  s.add("force", o.force, "Redo even when the output is up to date").no_yaml().no_json();
}

void declare(opt::Schema& s, DecontamOptions& o) {
  corpus::declare(s, o.shards);
  s.add("benchmarks", o.benchmarks, "Benchmark JSONL files (one test item a line)").flag("-b,--benchmark");
  s.add("fields", o.fields, "Item members to check (default: every string in the item)");
  s.add("item_id_field", o.item_id_field, "Item member that names it in the report");
  s.add("ngram", o.ngram, "n-gram length in words").range(1, 1000);
  s.choice("action", o.action,
           {{"remove", DecontamAction::Remove}, {"flag", DecontamAction::Flag}, {"drop", DecontamAction::Drop}},
           "remove (cut matched spans), flag (add a field) or drop (the whole document)");
  s.add("remove_chars", o.remove_chars, "Characters cut on each side of a match");
  s.add("min_piece_chars", o.min_piece_chars, "Shorter pieces left after cutting are dropped");
  s.add("max_splits", o.max_splits, "Drop a document cut into more pieces than this");
  s.add("flag_field", o.flag_field, "Field listing the matched items (action flag)");
  s.add("force", o.force, "Redo even when the output is up to date").no_yaml().no_json();
  s.check([&o] {
    if (o.benchmarks.empty()) opt::fail("benchmarks", "is required", "name at least one benchmark JSONL file");
  });
}

}  // namespace nlm::dedup
