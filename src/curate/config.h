// The curate config file (YAML, read with yaml-cpp; later pipeline files embed the same mapping):
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
//
// Unknown keys and values of the wrong type are user errors naming the key and the file.
#pragma once
#include <string>

#include "curate/chain.h"

namespace nlm::curate {

// Applies the YAML text to `config` (starting from its current values).
void apply_config_yaml(const std::string& yaml, ChainConfig& config, const std::string& where);
// Reads and applies a config file; throws a usage nlm::Error if it is missing or invalid.
void load_config_file(const std::string& path, ChainConfig& config);

}  // namespace nlm::curate
