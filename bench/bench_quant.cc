// GGUF quantisation against llama.cpp's own, in one run: for each storage format (F32, F16, Q8_0,
// Q4_0, Q4_K_M) the file `nativelm export gguf --type` writes and the file llama-quantize makes
// from nativelm's F32 export of the same model, side by side: file size, time to write it,
// perplexity and bits per byte on held-out text (llama-perplexity on both files, 8 chunks of 128
// tokens, F32 KV cache), decode tokens/s (llama-bench tg128 on both files), how many tensors hold
// identical bytes, and nativelm's own decode engine (model::Decoder) at tg128 where it has the
// format: F32, its int8 weights for the Q8_0 row, and its int4 weights (groups of 128, where the
// widths allow) for the Q4_0 row; the Q4_K_M row is llama.cpp running both files.
// Models: "tiny" (vocab 512, d=256, 4 layers: every matrix a whole number of Q4_K super-blocks),
// and bench_inference_model.h's ~10M (d=320: Q4_K_M falls back to Q5_0/Q8_0 there, as
// llama-quantize does) and ~110M (d=768) Llamas, random weights; or MODEL_DIR, a trained HF model
// folder, whose perplexities mean more (random weights spread the logits little, so every format
// scores near the vocabulary size).
//   bench_quant [sizes=tiny,10m,110m] [reps=3] [threads=2]
// LLAMA_CPP_BIN: the folder with llama-quantize, llama-perplexity and llama-bench (default
// build-peers/llama.cpp/build/bin, which scripts/build-llama-cpp.sh builds). HELDOUT: the text
// (default the Irish proverbs of Debian's fortunes-ga, /usr/share/games/fortunes/ga/proverbs).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_paths.h"
#include "bench_inference_model.h"
#include "harness.h"
#include "llama_cpp_tools.h"
#include "model/decoder.h"
#include "model/gguf_reader.h"
#include "tensor/cpu/cpu_backend.h"

namespace {

using namespace nlm;
namespace fs = std::filesystem;

struct Format {
  const char* name;       // row label
  model::GgufOutType ours;
  const char* llama;      // llama-quantize's type name ("" = the F32 export itself)
};
const Format kFormats[] = {{"F32", model::GgufOutType::F32, ""},
                           {"F16", model::GgufOutType::F16, "F16"},
                           {"Q8_0", model::GgufOutType::Q8_0, "Q8_0"},
                           {"Q4_0", model::GgufOutType::Q4_0, "Q4_0"},
                           {"Q4_K_M", model::GgufOutType::Q4_K_M, "Q4_K_M"}};

struct Side {
  std::string file;
  double mib = 0, write_s = 0, ppl = 0, bpb = 0, tg = 0;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Tensors of a and b with the same name, type and bytes, out of a's.
std::string same_tensors(const std::string& a, const std::string& b) {
  model::gguf::Reader x(a), y(b);
  int same = 0;
  for (const auto& t : x.tensors()) {
    const auto* u = y.find_tensor(t.name);
    same += u && u->type == t.type && u->bytes == t.bytes && std::memcmp(x.data(t), y.data(*u), t.bytes) == 0;
  }
  return std::to_string(same) + "/" + std::to_string(x.tensors().size());
}

double nativelm_tg128(const model::Llama& m, tensor::cpu::WeightFormat fmt, int threads, int reps) {
  model::Decoder d(m, {fmt, threads, 1, 256, 128});
  return bench::tg128(d, reps);
}

model::ModelConfig tiny_config() {
  model::ModelConfig c = bench::inference_config("10m");
  c.vocab_size = 512, c.hidden_size = 256, c.intermediate_size = 768, c.num_hidden_layers = 4;
  c.num_attention_heads = 4, c.num_key_value_heads = 4;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string sizes = argc > 1 ? argv[1] : "tiny,10m,110m";
  const int reps = argc > 2 ? std::atoi(argv[2]) : 3;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const char* bin_env = std::getenv("LLAMA_CPP_BIN");
  const std::string bin = bin_env && *bin_env ? bin_env : std::string(NATIVELM_SOURCE_DIR) + "/build-peers/llama.cpp/build/bin";
  for (const char* tool : {"llama-quantize", "llama-perplexity", "llama-bench"})
    if (!fs::exists(bin + "/" + tool)) {
      std::fprintf(stderr, "bench_quant: %s/%s not found (scripts/build-llama-cpp.sh, or set LLAMA_CPP_BIN)\n", bin.c_str(), tool);
      return 2;
    }
  const char* heldout_env = std::getenv("HELDOUT");
  const std::string heldout = heldout_env && *heldout_env ? heldout_env : "/usr/share/games/fortunes/ga/proverbs";
  const std::string text = read_file(heldout);
  if (text.size() < 2000) {
    std::fprintf(stderr, "bench_quant: %s is missing or too short for 8 chunks (set HELDOUT)\n", heldout.c_str());
    return 2;
  }
  const char* model_env = std::getenv("MODEL_DIR");
  const std::string scratch = (fs::temp_directory_path() / "nativelm_bench_quant").string();
  fs::create_directories(scratch);
  const tokenizer::Tokenizer small_tok = bench::small_tokenizer(scratch);
  const int n_ctx = 128, chunks = 8;
  std::printf("bench_quant: llama.cpp tools in %s; held-out text %s (%zu bytes); %d threads\n", bin.c_str(),
              heldout.c_str(), text.size(), threads);

  std::stringstream list(model_env && *model_env ? std::string("MODEL_DIR") : sizes);
  std::string size;
  while (std::getline(list, size, ',')) {
    const std::string work = scratch + "/" + size;  // the GGUF files
    fs::create_directories(work);
    std::string dir = work;                         // the HF model folder
    if (model_env && *model_env) {
      dir = model_env;
    } else {
      const model::ModelConfig cfg = size == "tiny" ? tiny_config() : bench::inference_config(size);
      model::Llama m(cfg, tensor::cpu_backend());
      m.init_random(1);
      bench::save_model_folder(dir, m, small_tok);
    }
    auto m = model::load_hf_model(dir, tensor::cpu_backend());
    const auto tok = tokenizer::Tokenizer::load(dir + "/tokenizer.json");
    const double tokens = static_cast<double>(tok.encode(text, true).size());
    const double bytes_per_token = static_cast<double>(text.size()) / tokens;
    std::printf("\nmodel %s: %.1fM parameters, %.0f tokens of held-out text (%.2f bytes/token)\n", size.c_str(),
                double(m->config().parameter_count()) / 1e6, tokens, bytes_per_token);
    if (tokens < n_ctx * chunks) std::printf("  (text shorter than %d tokens: llama-perplexity scores fewer chunks)\n", n_ctx * chunks);

    Side ours_f32;
    std::printf("%-7s | %9s %9s | %7s %7s | %9s %9s | %7s %7s | %8s %8s | %9s | %s\n", "format", "MiB nlm", "MiB llama",
                "write s", "quant s", "PPL nlm", "PPL llama", "bpb nlm", "bpb lla", "tg nlm", "tg llama", "tg engine",
                "same tensors");
    for (const Format& f : kFormats) {
      Side a, b;
      a.file = work + "/nlm-" + f.name + ".gguf";
      double t0 = bench::now_seconds();
      model::ExportGgufOptions eo;
      eo.output = a.file;
      eo.type = f.ours;
      model::export_gguf(dir, eo);
      a.write_s = bench::now_seconds() - t0;
      if (*f.llama == 0) {
        ours_f32 = a;
      } else {
        b.file = work + "/llama-" + f.name + ".gguf";
        t0 = bench::now_seconds();
        if (!bench::llama_quantize(bin + "/llama-quantize", ours_f32.file, b.file, f.llama, 1)) continue;
        b.write_s = bench::now_seconds() - t0;
      }
      auto measure = [&](Side& s) {
        s.mib = double(fs::file_size(s.file)) / (1 << 20);
        s.ppl = bench::llama_perplexity(bin + "/llama-perplexity", s.file, heldout, n_ctx, chunks, threads);
        s.bpb = s.ppl > 0 ? std::log2(s.ppl) / bytes_per_token : 0;
      };
      measure(a);
      if (*f.llama == 0) b = a;
      else measure(b);
      // Decode rates alternate between the two files, one llama-bench repetition each, so load
      // from other jobs on the machine falls on both alike; the medians are reported.
      std::vector<double> ta, tb;
      for (int r = 0; r < reps; ++r) {
        ta.push_back(bench::llama_bench(bin + "/llama-bench", a.file, threads, 1, 0, 128).tg);
        if (*f.llama) tb.push_back(bench::llama_bench(bin + "/llama-bench", b.file, threads, 1, 0, 128).tg);
      }
      a.tg = bench::sample_of(ta).median;
      b.tg = *f.llama ? bench::sample_of(tb).median : a.tg;
      double engine = 0;
      if (f.ours == model::GgufOutType::F32) engine = nativelm_tg128(*m, tensor::cpu::WeightFormat::F32, threads, reps);
      if (f.ours == model::GgufOutType::Q8_0) engine = nativelm_tg128(*m, tensor::cpu::WeightFormat::Q8, threads, reps);
      // int4 in groups of 128 needs every matrix's rows (hidden, intermediate, heads) in whole groups.
      const model::ModelConfig& mc = m->config();
      if (f.ours == model::GgufOutType::Q4_0 && mc.hidden_size % 128 == 0 && mc.intermediate_size % 128 == 0 &&
          (mc.num_attention_heads * mc.hs()) % 128 == 0)
        engine = nativelm_tg128(*m, tensor::cpu::WeightFormat::Q4, threads, reps);
      char engine_s[32] = "-";
      if (engine > 0) std::snprintf(engine_s, sizeof engine_s, "%.1f", engine);
      std::printf("%-7s | %9.2f %9.2f | %7.2f %7.2f | %9.3f %9.3f | %7.4f %7.4f | %8.1f %8.1f | %9s | %s\n", f.name, a.mib,
                  b.mib, a.write_s, b.write_s, a.ppl, b.ppl, a.bpb, b.bpb, a.tg, b.tg, engine_s,
                  *f.llama ? same_tensors(a.file, b.file).c_str() : "(same file)");
      const std::string name = "quant/" + size + "/" + f.name;
      bench::report_value(name + " size ratio nlm/llama", a.mib / b.mib, "x");
      if (a.ppl > 0 && b.ppl > 0) bench::report_value(name + " PPL ratio nlm/llama", a.ppl / b.ppl, "x");
      if (a.tg > 0 && b.tg > 0) bench::report_value(name + " tg128 ratio nlm/llama", a.tg / b.tg, "x");
      if (engine > 0 && b.tg > 0) bench::report_value(name + " tg128 engine/llama.cpp", engine / b.tg, "x");
    }
    if (model_env && *model_env) break;
  }
  return 0;
}
