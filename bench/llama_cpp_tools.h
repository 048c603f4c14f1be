// Runs llama.cpp's command-line tools for the benchmarks that compare against it (bench_decode,
// bench_quant): llama-bench's prompt and decode rates, llama-perplexity's final estimate and
// llama-quantize. Each returns 0 / false and says why on stderr when the tool fails, so a
// benchmark prints what it could measure.
#pragma once
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nlm::bench {

// llama-bench's rates for the prompt (n_prompt, 0) and decode (0, n_gen) rows, from its JSON: the
// median of its per-repetition samples_ts (avg_ts when a build lacks them).
struct LlamaBenchFigures {
  double pp = 0, tg = 0;
};
inline LlamaBenchFigures llama_bench(const std::string& bin, const std::string& gguf, int threads, int reps,
                                     int n_prompt = 512, int n_gen = 128) {
  const std::string out = gguf + ".bench.json";
  const std::string cmd = bin + " -m " + gguf + " -p " + std::to_string(n_prompt) + " -n " + std::to_string(n_gen) +
                          " -t " + std::to_string(threads) + " -r " + std::to_string(reps) + " -o json > " + out +
                          " 2>/dev/null";
  LlamaBenchFigures f;
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "llama-bench failed: %s\n", cmd.c_str());
    return f;
  }
  std::ifstream in(out);
  auto rows = nlohmann::json::parse(in, nullptr, false);
  if (!rows.is_array()) return f;
  auto rate = [](const nlohmann::json& r) {
    std::vector<double> v;
    if (r.contains("samples_ts") && r["samples_ts"].is_array())
      for (const auto& x : r["samples_ts"]) v.push_back(x.get<double>());
    if (v.empty()) return r.value("avg_ts", 0.0);
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  for (const auto& r : rows) {
    if (r.value("n_prompt", 0) == n_prompt && r.value("n_gen", 0) == 0) f.pp = rate(r);
    if (r.value("n_prompt", 0) == 0 && r.value("n_gen", 0) == n_gen) f.tg = rate(r);
  }
  return f;
}

// llama-perplexity's perplexity over the first `chunks` chunks of n_ctx tokens of text_file (F32
// KV cache). It prints a running estimate after each chunk ("[k]PPL,") and then "Final estimate",
// from a background logging thread that on a busy machine often loses the last lines before the
// process exits (exit status 0, the tail missing). So it runs one chunk more than asked and reads
// the running estimate after chunk `chunks`, which is the same figure; a run without it is
// repeated, up to four times. The text needs (chunks + 1)·n_ctx tokens.
inline double llama_perplexity(const std::string& bin, const std::string& gguf, const std::string& text_file, int n_ctx,
                               int chunks, int threads) {
  const std::string log = gguf + ".ppl.log";
  const std::string cmd = bin + " -m " + gguf + " -f " + text_file + " -c " + std::to_string(n_ctx) + " -b " +
                          std::to_string(n_ctx) + " --chunks " + std::to_string(chunks + 1) + " -t " +
                          std::to_string(threads) + " -ctk f32 -ctv f32 > " + log + " 2>&1";
  const std::regex running("\\[" + std::to_string(chunks) + "\\]([0-9.]+)");
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (std::system(cmd.c_str()) != 0) break;
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    const std::string out = text.str();
    std::smatch m;
    if (std::regex_search(out, m, running)) return std::stod(m[1]);
  }
  std::fprintf(stderr, "llama-perplexity gave no estimate: %s (see %s)\n", cmd.c_str(), log.c_str());
  return 0;
}

// llama-quantize in -> out as `type` (Q4_K_M, Q8_0, ...) on `threads` threads.
inline bool llama_quantize(const std::string& bin, const std::string& in, const std::string& out, const std::string& type,
                           int threads) {
  const std::string cmd = bin + " " + in + " " + out + " " + type + " " + std::to_string(threads) + " > " + out +
                          ".log 2>&1";
  if (std::system(cmd.c_str()) == 0) return true;
  std::fprintf(stderr, "llama-quantize failed: %s (see %s.log)\n", cmd.c_str(), out.c_str());
  return false;
}

}  // namespace nlm::bench
