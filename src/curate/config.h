// The curate config: one YAML mapping, read the same way from a `nativelm curate --config` file
// and from a pipeline's `curate:` stage, so every key works in both places:
//
//   steps:                       # order matters; each step at most once
//     - normalize: {unicode_form: NFKC, opencc: s2hk}
//     - lid: {languages: [zh, yue], min_score: 0.5}
//     - gopher_quality           # a bare name keeps the defaults
//     - fineweb: {short_line_length: 20}   # filter values set here apply to every profile
//     - pii: {custom: ["STAFF_ID=S-\\d{6}"]}
//   profiles:                    # per-language thresholds for the filter steps
//     yue: {base: zh, gopher_quality: {min_stop_words: 3}}
//   html: {length_low: 50}       # HTML extraction of WARC responses (html_extract.h)
//   extension: .jsonl.zst        # and every other YAML key of declare(Schema&, CurateOptions&)
//
// Each step's mapping goes through that step's declare() and opt::apply_yaml, so unknown keys and
// bad values are user errors naming the key and line: "curate.steps.lid.min_score must be between
// 0 and 1, got 2 (pipeline.yaml:7)".
#pragma once
#include <string>
#include <vector>

#include "core/options_yaml.h"
#include "curate/curate.h"

namespace nlm::curate {

// The keys of a curate mapping read here rather than by CurateOptions' schema: the step chain
// with per-step options, the per-language profiles and the HTML extraction options.
const std::vector<std::string>& chain_keys();

// Applies `steps`, `profiles` and `html` of the mapping `node` to `chain` (other keys are left to
// the schema). A node that is not a mapping applies nothing.
void apply_chain_yaml(ChainConfig& chain, const YAML::Node& node, const opt::YamlSource& src);

// A whole curate mapping: the chain keys, then every YAML key of `schema` (declared over
// `options`); unknown keys are errors. Does not resolve the schema.
void apply_config(opt::Schema& schema, CurateOptions& options, const YAML::Node& node, const opt::YamlSource& src);
void apply_config_text(opt::Schema& schema, CurateOptions& options, const std::string& yaml,
                       const opt::YamlSource& src);
// Reads and applies a config file; a missing file or bad YAML is a usage error. Returns how the
// file names each key, for errors found later (cross-field checks).
opt::Namer load_config_file(opt::Schema& schema, CurateOptions& options, const std::string& path);

}  // namespace nlm::curate
