// Inference speed of model::Decoder against llama.cpp on the same weights, in one run:
// decode tokens/s at batch 1 (tg128: 128 tokens from an empty context) and prompt tokens/s
// (pp512), for a ~10M and a ~100M-parameter Llama, F32 and int8 (llama.cpp: F32 and Q8_0), on
// 1 and 2 threads — the figures `llama-bench -p 512 -n 128` prints. The two alternate, one
// repetition each, and the medians of `reps` are compared. Also the training model's
// KV-cache path (Llama::decode) at tg128, the path `generate` used before the Decoder.
// The models have random weights (speed does not depend on them); each is saved as an HF folder
// with a small byte-level tokenizer and exported to GGUF with `nativelm export gguf`'s code, and
// llama-bench runs on that file. Without llama-bench only nativelm's figures print.
//   bench_decode [reps=3] [sizes=10m,100m] [threads=1,2]
// LLAMA_BENCH=path/to/llama-bench (scripts/build-llama-cpp.sh prints its folder).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "core/runtime.h"
#include "bench_inference_model.h"
#include "harness.h"
#include "llama_cpp_tools.h"
#include "model/decoder.h"
#include "model/gguf_export.h"
#include "model/hf_checkpoint.h"
#include "model/llama.h"
#include "tensor/cpu/cpu_backend.h"
#include "tokenizer/trainer.h"

namespace {

using namespace nlm;
using tensor::cpu::WeightFormat;

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> v;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) v.push_back(std::atoi(item.c_str()));
  return v;
}

double pp512(model::Decoder& d, int reps) {
  std::vector<int32_t> ids(512);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(3 + (i * 7919) % (d.vocab_size() - 3));
  std::vector<float> z(static_cast<size_t>(d.vocab_size()));
  std::vector<double> rates;
  for (int r = 0; r <= reps; ++r) {
    d.truncate(0, 0);
    const double t0 = bench::now_seconds();
    d.prefill(0, ids.data(), 512, z.data());
    if (r > 0) rates.push_back(512 / (bench::now_seconds() - t0));
  }
  return bench::sample_of(rates).median;
}

double old_tg128(model::Llama& m) {
  m.reset_cache(160);
  int32_t tok = 1;
  const double t0 = bench::now_seconds();
  for (int i = 0; i < 128; ++i) {
    auto z = m.decode({tok});
    tok = static_cast<int32_t>(std::max_element(z.begin(), z.end()) - z.begin());
  }
  return 128 / (bench::now_seconds() - t0);
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 3;
  std::string sizes = argc > 2 ? argv[2] : "10m,100m";
  const std::vector<int> thread_list = parse_list(argc > 3 ? argv[3] : "1,2");
  const char* lb = std::getenv("LLAMA_BENCH");
  const std::string llama = lb ? lb : "";
  const std::string scratch = (std::filesystem::temp_directory_path() / "nativelm_bench_decode").string();
  std::filesystem::create_directories(scratch);

  const tokenizer::Tokenizer tok = bench::small_tokenizer(scratch);

  std::printf("bench_decode: kernels %s, llama.cpp %s\n", tensor::cpu::packed_linear_isa(),
              llama.empty() ? "not given (set LLAMA_BENCH)" : llama.c_str());
  std::stringstream list(sizes);
  std::string size;
  while (std::getline(list, size, ',')) {
    const model::ModelConfig cfg = bench::inference_config(size);
    auto& be = static_cast<tensor::CpuBackend&>(tensor::cpu_backend());
    be.set_threads(1);
    model::Llama m(cfg, be);
    m.init_random(1);
    std::printf("model %s: %.1fM parameters\n", size.c_str(), double(cfg.parameter_count()) / 1e6);
    std::string f32_gguf, q8_gguf;
    if (!llama.empty()) {
      const std::string dir = scratch + "/" + size;
      bench::save_model_folder(dir, m, tok);
      f32_gguf = bench::export_gguf_file(dir, model::GgufOutType::F32, "f32");
      q8_gguf = bench::export_gguf_file(dir, model::GgufOutType::Q8_0, "q8_0");
    }
    if (size == "10m") bench::report_value("decode/" + size + "/llama_decode_old/t1 tg128", old_tg128(m), "tokens/s");
    for (int threads : thread_list) {
      for (auto fmt : {WeightFormat::F32, WeightFormat::Q8}) {
        model::Decoder d(m, {fmt, threads, 1, 1024, 512});
        const std::string name = "decode/" + size + "/" + tensor::cpu::weight_format_name(fmt) + "/t" +
                                 std::to_string(threads);
        // nativelm and llama-bench alternate, one repetition each (each with its warm-up run), so
        // load that comes and goes on the machine falls on both alike; medians are reported.
        std::vector<double> tgs, pps, ltgs, lpps;
        for (int r = 0; r < reps; ++r) {
          tgs.push_back(bench::tg128(d, 1));
          pps.push_back(pp512(d, 1));
          if (llama.empty()) continue;
          const auto one = bench::llama_bench(llama, fmt == WeightFormat::F32 ? f32_gguf : q8_gguf, threads, 1);
          ltgs.push_back(one.tg);
          lpps.push_back(one.pp);
        }
        const double tg = bench::sample_of(tgs).median, pp = bench::sample_of(pps).median;
        bench::report_value(name + " tg128", tg, "tokens/s");
        bench::report_value(name + " pp512", pp, "tokens/s");
        if (llama.empty()) continue;
        bench::LlamaBenchFigures f;
        f.tg = bench::sample_of(ltgs).median;
        f.pp = bench::sample_of(lpps).median;
        const std::string lname = std::string("llama.cpp ") + (fmt == WeightFormat::F32 ? "F32" : "Q8_0");
        bench::report_value(name + " tg128 " + lname, f.tg, "tokens/s");
        bench::report_value(name + " pp512 " + lname, f.pp, "tokens/s");
        if (f.tg > 0) bench::report_value(name + " tg128 ratio", tg / f.tg, "x");
        if (f.pp > 0) bench::report_value(name + " pp512 ratio", pp / f.pp, "x");
      }
      model::Decoder b16(m, {WeightFormat::BF16, threads, 1, 1024, 512});
      const std::string name = "decode/" + size + "/bf16/t" + std::to_string(threads);
      bench::report_value(name + " tg128", bench::tg128(b16, reps), "tokens/s");
      bench::report_value(name + " pp512", pp512(b16, reps), "tokens/s");
    }
  }
  return 0;
}
