// The registry of documented option sets: one entry per declare() function.
#include "pipeline/option_tables.h"

#include "core/options.h"
#include "corpus/read_options.h"
#include "corpus/writer.h"
#include "curate/dedup/decontam.h"
#include "curate/dedup/options.h"
#include "curate/dedup/segments.h"
#include "data/tokenize_shards.h"
#include "tokenizer/encode_lines.h"
#include "tokenizer/publish.h"
#include "tokenizer/stats.h"

namespace nlm::pipeline {

namespace {

// The table of T's declaration over a default-constructed T.
template <class T>
std::function<std::string()> table_of() {
  return [] {
    T defaults;
    opt::Schema schema("");
    declare(schema, defaults);
    return schema.markdown();
  };
}

}  // namespace

const std::vector<OptionTable>& option_tables() {
  static const std::vector<OptionTable> tables = {
      {"read", "docs/corpus.md", table_of<corpus::ReadOptions>()},
      {"dedup", "docs/dedup.md", table_of<dedup::DedupOptions>()},
      {"dedup-lines", "docs/dedup.md", table_of<dedup::SegmentDedupOptions>()},
      {"decontam", "docs/dedup.md", table_of<dedup::DecontamOptions>()},
      {"tokenizer-train", "docs/tokenizer.md", table_of<tokenizer::TrainTokenizerOptions>()},
      {"tokenizer-extend", "docs/tokenizer.md", table_of<tokenizer::ExtendTokenizerOptions>()},
      {"tokenizer-stats", "docs/tokenizer.md", table_of<tokenizer::StatsOptions>()},
      {"tokenizer-encode", "docs/tokenizer.md", table_of<tokenizer::EncodeOptions>()},
      {"tokenizer-decode", "docs/tokenizer.md", table_of<tokenizer::DecodeOptions>()},
      {"tokenize", "docs/tokenizer.md", table_of<data::TokenizeOptions>()},
  };
  return tables;
}

}  // namespace nlm::pipeline
