// Tokenizer benchmark: trains nativelm and HF tokenizers (npm, Rust) on the same >= 200 MB Debian
// text corpus at vocab 30,000 (the Node binding's train() ignores trainer options), and reports
// wall time, peak memory and their ratios; then compression (bytes/token) of both on a sample,
// single-core encode throughput of both, and SentencePiece (spm_train) vs nativelm's
// sentencepiece mode on a 20 MB slice where spm_train is installed.
// Usage: bench_tokenizer [CORPUS.txt]  (default: builds bench-data/tokenizer_corpus.txt here)
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_paths.h"
#include "core/runtime.h"
#include "harness.h"
#include "tokenizer/split_rules.h"
#include "tokenizer/tokenizer.h"

namespace {

using namespace nlm;

const std::string kSrc = NATIVELM_SOURCE_DIR;

bool exists(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0;
}

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Run {
  double seconds = -1, peak_mb = -1;
  std::string out;
};

// Runs a shell command under /usr/bin/time; returns wall seconds and peak RSS.
Run timed(const std::string& cmd) {
  std::string tf = "bench-data/.time", of = "bench-data/.out";
  std::string full = "/usr/bin/time -f '%e %M' -o " + tf + " sh -c '" + cmd + "' > " + of + " 2>&1";
  Run r;
  int rc = std::system(full.c_str());
  r.out = slurp(of);
  if (rc != 0) {
    std::fprintf(stderr, "command failed (%d): %s\n%s\n", rc, cmd.c_str(), r.out.c_str());
    return r;
  }
  std::istringstream in(slurp(tf));
  double kb = 0;
  in >> r.seconds >> kb;
  r.peak_mb = kb / 1024.0;
  return r;
}

double field(const std::string& text, const std::string& key) {
  size_t p = text.find(key);
  return p == std::string::npos ? -1 : std::atof(text.c_str() + p + key.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::system("mkdir -p bench-data");
  std::string corpus = argc > 1 ? argv[1] : "bench-data/tokenizer_corpus.txt";
  if (!exists(corpus)) {
    std::string cmd = "bash " + kSrc + "/bench/make_tokenizer_corpus.sh " + corpus + " 220";
    if (std::system(cmd.c_str()) != 0) return 1;
  }
  std::string text = slurp(corpus);
  std::printf("corpus %s: %.1f MB\n", corpus.c_str(), text.size() / 1e6);
  // Encode sample: 20 MB of whole lines from the middle of the corpus.
  size_t a = text.size() / 2, b = std::min(text.size(), a + (20u << 20));
  a = text.find('\n', a) + 1;
  b = text.rfind('\n', b) + 1;
  std::string sample = text.substr(a, b - a);
  text.clear();
  text.shrink_to_fit();
  std::ofstream("bench-data/encode_sample.txt", std::ios::binary) << sample;

  const bool have_hf = exists(kSrc + "/node_modules/tokenizers") && std::system("node --version >/dev/null 2>&1") == 0;
  const std::string bin = NATIVELM_BIN;
  const std::string regex(tokenizer::split_rule_regex(tokenizer::SplitRule::Llama3));

  Run ours = timed(bin + " --quiet tokenizer train " + corpus +
                   " --format text --text-mode line --vocab-size 30000 --min-frequency 1 --special \"<|endoftext|>\" -o bench-data/tok-nlm");
  bench::report_value("train_nativelm_seconds", ours.seconds, "s");
  bench::report_value("train_nativelm_peak_rss", ours.peak_mb, "MB");
  Run hf;
  if (have_hf) {
    // timed() wraps the command in single quotes too, so pass the regex through a file.
    std::ofstream("bench-data/regex.txt") << regex;
    hf = timed("node " + kSrc + "/bench/tokenizer_hf_train.js " + corpus +
               " bench-data/tok-hf.json \"$(cat bench-data/regex.txt)\"");
    bench::report_value("train_hf_seconds", hf.seconds, "s");
    bench::report_value("train_hf_peak_rss", hf.peak_mb, "MB");
    if (ours.seconds > 0 && hf.seconds > 0) {
      bench::report_value("train_speedup_vs_hf", hf.seconds / ours.seconds, "x");
      bench::report_value("train_peak_rss_ratio_nlm_over_hf", ours.peak_mb / hf.peak_mb, "x");
    }
  } else {
    std::printf("HF tokenizers (npm) not installed: run scripts/install-deps.sh for the comparison\n");
  }

  // Compression and single-core encode throughput.
  std::vector<std::string> lines;
  {
    std::istringstream in(sample);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  auto tok = tokenizer::Tokenizer::load("bench-data/tok-nlm");
  std::vector<uint32_t> ids;
  uint64_t ntok = 0;
  auto s = bench::time_runs(
      [&] {
        ntok = 0;
        for (auto& l : lines) {
          ids.clear();
          tok.encode_into(l, false, ids);
          ntok += ids.size();
        }
      },
      3, 1);
  bench::report_rate("encode_nativelm_1thread", sample.size() / 1e6, s, "MB/s");
  bench::report_value("bytes_per_token_nativelm", double(sample.size()) / ntok, "B/tok");
  if (have_hf && exists("bench-data/tok-hf.json")) {
    auto hft = tokenizer::Tokenizer::load("bench-data/tok-hf.json");
    uint64_t hf_tok = 0;
    for (auto& l : lines) {
      ids.clear();
      hft.encode_into(l, false, ids);
      hf_tok += ids.size();
    }
    bench::report_value("vocab_hf", hft.vocab_size(), "tokens");
    bench::report_value("bytes_per_token_hf", double(sample.size()) / hf_tok, "B/tok");
    bench::report_value("compression_diff_pct_nlm_vs_hf", 100.0 * (double(hf_tok) / ntok - 1.0), "%");
    std::vector<double> secs;
    for (int i = 0; i < 3; ++i) {
      Run e = timed("RAYON_NUM_THREADS=1 node " + kSrc + "/bench/tokenizer_hf_encode.js bench-data/tok-hf.json bench-data/encode_sample.txt");
      secs.push_back(field(e.out, "hf_encode_seconds "));
    }
    std::sort(secs.begin(), secs.end());
    bench::report_value("encode_hf_1thread", sample.size() / 1e6 / secs[1], "MB/s");
    bench::report_value("encode_speedup_vs_hf", secs[1] / s.median, "x");
  }

  // SentencePiece BPE on a 20 MB slice (the sample), same vocab, vs nativelm's sentencepiece mode.
  if (std::system("command -v spm_train >/dev/null 2>&1") == 0) {
    Run spm = timed("spm_train --input=bench-data/encode_sample.txt --model_prefix=bench-data/spm --vocab_size=8000 "
                    "--model_type=bpe --byte_fallback --character_coverage=0.9995 --max_sentence_length=100000 "
                    "--num_threads=" + std::to_string(thread_count()));
    Run nsp = timed(bin + " --quiet tokenizer train bench-data/encode_sample.txt --format text --text-mode line "
                    "--mode sentencepiece --vocab-size 8000 -o bench-data/tok-nlm-sp");
    bench::report_value("train_spm_20MB_8k_seconds", spm.seconds, "s");
    bench::report_value("train_spm_20MB_8k_peak_rss", spm.peak_mb, "MB");
    bench::report_value("train_nativelm_sp_20MB_8k_seconds", nsp.seconds, "s");
    bench::report_value("train_nativelm_sp_20MB_8k_peak_rss", nsp.peak_mb, "MB");
  } else {
    std::printf("spm_train not installed (Debian package sentencepiece): SentencePiece figures skipped\n");
  }
  return 0;
}
