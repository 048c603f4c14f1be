// What each `nativelm quantize` format costs and buys on a small model trained on real Thai text
// (gettext catalogues): weight size, bits per byte on held-out text against the fp32 model, and
// greedy decode tokens/s through the inference engine against fp32. The model (d=256, FFN 768,
// 4 layers, 4 heads of 64, a 2000-token BPE) is trained here for `steps` AdamW steps; the text
// comes from msgunfmt over /usr/share/locale/th (or any UTF-8 text file given).
//   bench_quantize [text=<Thai catalogues>, "" for them] [steps=150]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "compress/quantize.h"
#include "harness.h"
#include "model/hf_checkpoint.h"
#include "model/llama.h"
#include "tensor/backend.h"
#include "tokenizer/trainer.h"
#include "train/adamw.h"

namespace {

using namespace nlm;

std::string thai_catalogues(const std::string& scratch) {
  const std::string out = scratch + "/thai.txt";
  const std::string cmd = "for f in /usr/share/locale/th/LC_MESSAGES/*.mo; do msgunfmt \"$f\" 2>/dev/null; done | "
                          "sed -n 's/^msgstr \"\\(.*\\)\"$/\\1/p' | sed 's/\\\\n/ /g' | grep -v '^$' > " + out;
  if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "msgunfmt failed\n");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string scratch = (std::filesystem::temp_directory_path() / "nativelm-bench-quantize").string();
  std::filesystem::remove_all(scratch);
  std::filesystem::create_directories(scratch);
  const std::string text = argc > 1 && argv[1][0] ? argv[1] : thai_catalogues(scratch);
  const int steps = argc > 2 ? std::atoi(argv[2]) : 150;

  // Paragraphs of 6 lines; 85 % train, the rest calibrates (and its last tenth is held out).
  std::ifstream in(text);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) lines.push_back(l);
  if (lines.size() < 200) {
    std::fprintf(stderr, "need at least 200 lines of text in %s\n", text.c_str());
    return 1;
  }
  const size_t cut = lines.size() * 85 / 100;
  {
    std::ofstream tr(scratch + "/train.txt"), ca(scratch + "/calib.txt");
    for (size_t i = 0; i < lines.size(); ++i) {
      std::ofstream& o = i < cut ? tr : ca;
      o << lines[i] << (i % 6 == 5 ? "\n\n" : " ");
    }
  }
  tokenizer::TrainOptions to;
  to.vocab_size = 2000;
  to.special_tokens = {"<|begin_of_text|>"};
  auto tok = tokenizer::train_bpe({scratch + "/train.txt"}, to);
  model::ModelConfig c;
  c.vocab_size = tok.vocab_size();
  c.hidden_size = 256;
  c.intermediate_size = 768;
  c.num_hidden_layers = 4;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 4;
  c.max_position_embeddings = 256;
  c.tie_word_embeddings = false;
  c.bos_token_id = c.eos_token_id = tok.token_id("<|begin_of_text|>");
  model::Llama m(c, tensor::backend_for("cpu"));
  m.init_random(1);
  std::vector<int32_t> ids;
  {
    std::ifstream t(scratch + "/train.txt");
    std::string all((std::istreambuf_iterator<char>(t)), {});
    for (uint32_t id : tok.encode(all)) ids.push_back(static_cast<int32_t>(id));
  }
  train::AdamW opt(m, {});
  std::mt19937 rng(2);
  const int B = 8, T = 128;
  double loss = 0;
  const double t0 = bench::now_seconds();
  for (int s = 0; s < steps; ++s) {
    model::Batch b;
    b.B = B;
    b.T = T;
    for (int r = 0; r < B; ++r) {
      const size_t at = rng() % (ids.size() - T - 1);
      b.inputs.insert(b.inputs.end(), ids.begin() + long(at), ids.begin() + long(at + T));
      b.targets.insert(b.targets.end(), ids.begin() + long(at + 1), ids.begin() + long(at + T + 1));
    }
    b.set_default_positions();
    m.zero_grad();
    loss = m.forward(b);
    m.backward();
    opt.step(3e-3);
  }
  std::printf("trained %d steps on %zu Thai tokens in %.0f s, final loss %.3f\n", steps, ids.size(),
              bench::now_seconds() - t0, loss);
  const std::string model_dir = scratch + "/model";
  model::save_hf_model(model_dir, m);
  tok.save(model_dir);

  std::printf("%-9s %10s %7s %9s %9s %9s %9s %9s\n", "format", "bytes", "ratio", "bpb f32", "bpb q", "delta",
              "tok/s f32", "tok/s q");
  for (std::string fmt : {"int8", "int4", "int4+awq", "fp8"}) {
    compress::QuantizeOptions o;
    o.calibration = {scratch + "/calib.txt"};
    o.format = fmt.substr(0, 4);
    o.awq = fmt == "int4+awq";
    o.output = scratch + "/" + fmt;
    o.seq_len = 256;
    o.bench_tokens = 128;
    auto r = compress::quantize_model(model_dir, o);
    std::printf("%-9s %10llu %7.3f %9.4f %9.4f %+9.4f %9.0f %9.0f\n", fmt.c_str(),
                static_cast<unsigned long long>(r.quantized_bytes), double(r.quantized_bytes) / double(r.f32_bytes),
                r.bpb_f32, r.bpb_quantized, r.bpb_quantized - r.bpb_f32, r.tok_s_f32, r.tok_s_quantized);
    std::printf("BENCH quantize_%s_bpb_delta %.4f bits/byte\n", fmt.c_str(), r.bpb_quantized - r.bpb_f32);
    std::printf("BENCH quantize_%s_decode_ratio %.3f x_f32\n", fmt.c_str(), r.tok_s_quantized / std::max(1e-9, r.tok_s_f32));
    if (r.awq_error_plain > 0)
      std::printf("  AWQ relative output error %.5f (plain int4 %.5f)\n", r.awq_error, r.awq_error_plain);
  }
  return 0;
}
