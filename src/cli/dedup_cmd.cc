// `nativelm dedup`: exact and MinHash/LSH near-duplicate removal (flags map onto
// dedup::DedupOptions, documented in src/curate/dedup/options.h and docs/dedup.md).
#include <memory>

#include "cli/command.h"
#include "cli/read_flags.h"
#include "core/error.h"
#include "corpus/inputs.h"
#include "curate/dedup/dedup.h"
#include "curate/dedup/segments.h"

namespace {

using namespace nlm;

// "512M", "2G", "1500000" → bytes.
uint64_t parse_bytes(const std::string& s) {
  size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(s, &pos);
  } catch (...) {
    usage_error("bad size '" + s + "'", "--memory", "use a number with an optional K, M or G suffix");
  }
  std::string unit = s.substr(pos);
  double mult = unit.empty() ? 1 : unit == "K" || unit == "k" ? 1024.0 : unit == "M" || unit == "m" ? 1048576.0
                : unit == "G" || unit == "g" ? 1073741824.0 : -1;
  if (mult < 0 || v <= 0) usage_error("bad size '" + s + "'", "--memory", "use a number with an optional K, M or G suffix");
  return static_cast<uint64_t>(v * mult);
}

void add_shard_flags(CLI::App& sub, corpus::ShardOptions& shards) {
  sub.add_option("-o,--output", shards.dir, "Output folder (shards, manifest.json, report.json)")->required();
  sub.add_option("--max-docs", shards.max_docs, "Documents per output shard (0 = no cap)")->capture_default_str();
  sub.add_option("--max-bytes", shards.max_bytes, "Uncompressed bytes per output shard (0 = no cap)")
      ->capture_default_str();
  sub.add_option("--extension", shards.extension, "Output shard extension (picks the codec)")->capture_default_str();
}

void setup_lines(CLI::App& root, cli::Actions& actions) {
  struct Opts {
    std::vector<std::string> inputs;
    cli::ReadFlags read;
    dedup::SegmentDedupOptions seg;
    std::string unit = "line", memory = "1G";
  };
  auto o = std::make_shared<Opts>();
  auto* sub = root.add_subcommand(
      "dedup-lines", "Remove lines or paragraphs repeated across documents (C4 / datatrove style)");
  sub->add_option("inputs", o->inputs, "Files, folders or globs (JSONL or text; .gz/.zst/.bz2 ok)")->required();
  add_shard_flags(*sub, o->seg.shards);
  sub->add_option("--unit", o->unit, "line or paragraph (blank-line separated)")->capture_default_str();
  sub->add_option("--max-repeats", o->seg.max_docs,
                  "A segment in more than this many documents is removed from all but the first")
      ->capture_default_str();
  sub->add_option("--min-segment-bytes", o->seg.min_segment_bytes, "Shorter segments are never removed")
      ->capture_default_str();
  sub->add_option("--min-doc-bytes", o->seg.min_doc_bytes, "Drop documents left with less text")->capture_default_str();
  sub->add_option("--memory", o->memory, "Sort buffer budget; beyond it hashes spill to disk")->capture_default_str();
  sub->add_flag("--force", o->seg.force, "Redo even when the output is up to date");
  cli::add_read_flags(*sub, o->read);
  actions[sub] = [o] {
    auto& s = o->seg;
    s.read = o->read.resolve();
    s.shards.write.text_field = s.read.text_field;
    s.shards.write.id_field = s.read.id_field;
    if (o->unit == "line") s.unit = dedup::SegmentUnit::Line;
    else if (o->unit == "paragraph") s.unit = dedup::SegmentUnit::Paragraph;
    else usage_error("unknown unit '" + o->unit + "'", "--unit", "use line or paragraph");
    s.memory = parse_bytes(o->memory);
    auto result = dedup::run_segment_dedup(corpus::expand_inputs(o->inputs), s);
    std::printf("%s\n", result.summary().c_str());
    return 0;
  };
}

void setup(CLI::App& root, cli::Actions& actions) {
  struct Opts {
    std::vector<std::string> inputs;
    cli::ReadFlags read;
    dedup::DedupOptions dedup;
    std::string keep = "first", shingle = "word", preset, memory = "1G";
    int ngram = 0;
    bool no_exact = false, no_fuzzy = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = root.add_subcommand("dedup", "Remove exact and near-duplicate documents (MinHash + LSH)");
  sub->add_option("inputs", o->inputs, "Files, folders or globs (JSONL or text; .gz/.zst/.bz2 ok)")->required();
  add_shard_flags(*sub, o->dedup.shards);
  sub->add_flag("--no-exact", o->no_exact, "Skip exact (normalised-text hash) dedup");
  sub->add_flag("--no-fuzzy", o->no_fuzzy, "Skip MinHash near-duplicate dedup");
  sub->add_option("--preset", o->preset, "fineweb (word 5-grams, 14x8) or nemo (char 24-grams, 20x13)");
  sub->add_option("--shingle", o->shingle, "Shingle unit: word (ICU words) or char (code points)")->capture_default_str();
  sub->add_option("--ngram", o->ngram, "Shingle length (default 5 for word, 24 for char)");
  sub->add_option("--bands", o->dedup.minhash.bands, "LSH bands")->capture_default_str();
  sub->add_option("--rows", o->dedup.minhash.rows, "Rows (hashes) per band")->capture_default_str();
  sub->add_option("--seed", o->dedup.minhash.seed, "Hash seed")->capture_default_str();
  sub->add_flag("--jaccard-check", o->dedup.jaccard_check, "Verify candidate pairs by exact Jaccard similarity");
  sub->add_option("--jaccard-threshold", o->dedup.jaccard_threshold, "Minimum Jaccard similarity of a verified pair")
      ->capture_default_str();
  sub->add_option("--keep", o->keep, "Which document of a cluster stays: first, longest, field:NAME")->capture_default_str();
  sub->add_option("--cluster-size-field", o->dedup.cluster_size_field, "Field added to kept documents")
      ->capture_default_str();
  sub->add_option("--memory", o->memory, "Sort buffer budget; beyond it keys spill to disk (e.g. 512M, 4G)")
      ->capture_default_str();
  sub->add_flag("--force", o->dedup.force, "Redo even when the output is up to date");
  cli::add_read_flags(*sub, o->read);
  actions[sub] = [o] {
    auto& d = o->dedup;
    d.read = o->read.resolve();
    d.shards.write.text_field = d.read.text_field;
    d.shards.write.id_field = d.read.id_field;
    d.exact = !o->no_exact;
    d.fuzzy = !o->no_fuzzy;
    if (!o->preset.empty()) dedup::apply_preset(d.minhash, o->preset);
    if (o->preset.empty() || o->shingle != "word") {
      if (o->shingle == "word") d.minhash.shingle = dedup::ShingleKind::Word;
      else if (o->shingle == "char") d.minhash.shingle = dedup::ShingleKind::Char;
      else usage_error("unknown shingle unit '" + o->shingle + "'", "--shingle", "use word or char");
      if (o->preset.empty()) d.minhash.ngram = d.minhash.shingle == dedup::ShingleKind::Char ? 24 : 5;
    }
    if (o->ngram > 0) d.minhash.ngram = o->ngram;
    d.keep = dedup::parse_keep_policy(o->keep);
    d.memory = parse_bytes(o->memory);
    auto result = dedup::run_dedup(corpus::expand_inputs(o->inputs), d);
    if (result.rank == 0) std::printf("%s\n", result.summary().c_str());
    return 0;
  };
  setup_lines(root, actions);
}

}  // namespace

NLM_REGISTER_COMMAND(30, setup);
