// `nativelm quantize` on a tiny model trained on Thai text: each format's folder parses as
// safetensors with the documented dtypes and scales, loads back in both the training model
// (dequantised) and the engine (packed as stored), costs a bounded amount of perplexity on the
// held-out text, and the int8 folder decodes exactly like the engine's own int8 packing of the
// fp32 model. AWQ lowers a linear's output error when a few input channels are salient. Bad
// input (an already quantised model, too little calibration text, unknown formats, group sizes
// that do not fit) is a clear usage error.
#include "compress/quantize.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "core/error.h"
#include "model/decoder.h"
#include "model/gguf_export.h"
#include "model/hf_checkpoint.h"
#include "model/quantized_checkpoint.h"
#include "model/safetensors_py_reader.h"
#include "tensor/backend.h"
#include "tensor/dtype.h"
#include "tensor/quantize.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/trainer.h"
#include "train/adamw.h"

namespace nlm::testing {
namespace {

using nlohmann::json;

// Thai paragraphs made of a few sentences in a seeded random order: text a tiny model can learn.
std::string thai_text(int paragraphs, uint32_t seed) {
  const char* s[] = {"แมวนั่งอยู่บนเสื่อ", "ฉันชอบกินข้าวเหนียวมะม่วง", "วันนี้อากาศดีมาก", "เด็กๆ ไปโรงเรียนตอนเช้า",
                     "แม่ทำอาหารในครัว", "หมากำลังวิ่งในสวน", "เราจะไปตลาดพรุ่งนี้", "ฝนตกหนักเมื่อคืนนี้"};
  std::mt19937 rng(seed);
  std::string out;
  for (int p = 0; p < paragraphs; ++p) {
    for (int k = 0; k < 3; ++k) out += std::string(s[rng() % 8]) + " ";
    out += "\n\n";
  }
  return out;
}

// A model of hidden 64, FFN 128, 4 heads of 16 (2 KV heads), trained briefly on Thai text, saved
// with its tokenizer; built once for the whole suite.
struct ThaiModel {
  TempDir dir;
  std::string model, calib;
  ThaiModel() {
    model = dir.file("thai");
    calib = dir.file("calib.txt");
    write_text(calib, thai_text(120, 1));
    tokenizer::TrainOptions to;
    to.vocab_size = 320;
    to.min_frequency = 1;
    to.special_tokens = {"<|begin_of_text|>"};
    auto tok = tokenizer::train_bpe({calib}, to);
    model::ModelConfig c;
    c.vocab_size = tok.vocab_size();
    c.hidden_size = 64;
    c.intermediate_size = 128;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.max_position_embeddings = 64;
    c.bos_token_id = c.eos_token_id = tok.token_id("<|begin_of_text|>");
    c.tie_word_embeddings = false;
    model::Llama m(c, tensor::backend_for("cpu"));
    m.init_random(3);
    std::vector<int32_t> ids;
    for (uint32_t t : tok.encode(thai_text(60, 2))) ids.push_back(static_cast<int32_t>(t));
    train::AdamW opt(m, {});
    const int B = 4, T = 48;
    std::mt19937 rng(5);
    for (int step = 0; step < 80; ++step) {
      model::Batch b;
      b.B = B;
      b.T = T;
      for (int r = 0; r < B; ++r) {
        const size_t at = rng() % (ids.size() - T - 1);
        b.inputs.insert(b.inputs.end(), ids.begin() + at, ids.begin() + at + T);
        b.targets.insert(b.targets.end(), ids.begin() + at + 1, ids.begin() + at + T + 1);
      }
      b.set_default_positions();
      m.zero_grad();
      m.forward(b);
      m.backward();
      opt.step(3e-3);
    }
    model::save_hf_model(model, m);
    tok.save(model);
  }
};

ThaiModel& thai() {
  static ThaiModel m;  // shared by the suite; its folder is removed at exit
  return m;
}

compress::QuantizeOptions options(const std::string& format, const std::string& out) {
  compress::QuantizeOptions o;
  o.calibration = {thai().calib};
  o.format = format;
  o.output = out;
  o.seq_len = 64;
  o.group_size = 64;
  o.bench_tokens = 8;
  return o;
}

// The safetensors header as the spec defines it, parsed by hand: 8-byte little-endian length,
// a JSON object, offsets contiguous from 0 to the end of the file.
json spec_header(const std::string& path) {
  const std::string bytes = read_text(path);
  EXPECT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  EXPECT_LE(8 + n, bytes.size());
  EXPECT_EQ((8 + n) % 8, 0u);  // data 8-byte aligned
  json h = json::parse(bytes.substr(8, n));
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (auto& [k, v] : h.items()) {
    if (k == "__metadata__") continue;
    spans.push_back({v["data_offsets"][0].get<uint64_t>(), v["data_offsets"][1].get<uint64_t>()});
    uint64_t numel = 1;
    for (auto& d : v["shape"]) numel *= d.get<uint64_t>();
    const std::string dt = v["dtype"];
    const uint64_t size = dt == "F32" ? 4 : (dt == "I8" || dt == "U8" || dt == "F8_E4M3") ? 1 : 0;
    EXPECT_NE(size, 0u) << dt;
    EXPECT_EQ(spans.back().second - spans.back().first, numel * size) << k;
  }
  std::sort(spans.begin(), spans.end());
  uint64_t at = 0;
  for (auto& [b, e] : spans) {
    EXPECT_EQ(b, at);
    at = e;
  }
  EXPECT_EQ(8 + n + at, bytes.size());
  return h;
}

std::vector<int32_t> greedy(model::Decoder& d, int n, std::vector<float>* all_logits) {
  std::vector<float> logits(static_cast<size_t>(d.vocab_size()));
  int32_t id = static_cast<int32_t>(d.config().bos_token_id);
  d.prefill(0, &id, 1, logits.data());
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    if (all_logits) all_logits->insert(all_logits->end(), logits.begin(), logits.end());
    id = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    out.push_back(id);
    const int32_t slot = 0;
    d.step(&slot, &id, 1, logits.data());
  }
  return out;
}

TEST(Quantize, Int8FolderParsesLoadsAndDecodesLikeTheEnginesInt8) {
  TempDir out;
  auto r = compress::quantize_model(thai().model, options("int8", out.file("q")));
  EXPECT_EQ(r.linears, 2 * 7);
  json h = spec_header(out.file("q/model.safetensors"));
  EXPECT_EQ(h["model.layers.0.self_attn.q_proj.weight"]["dtype"], "I8");
  EXPECT_EQ(h["model.layers.0.self_attn.q_proj.weight_scale"]["dtype"], "F32");
  EXPECT_EQ(h["model.layers.0.self_attn.q_proj.weight_scale"]["shape"], json::array({64, 1}));
  EXPECT_EQ(h["lm_head.weight"]["dtype"], "F32");
  EXPECT_EQ(h["model.embed_tokens.weight"]["dtype"], "F32");
  json cfg = json::parse(read_text(out.file("q/config.json")));
  EXPECT_EQ(cfg["quantization_config"]["nativelm"]["format"], "int8");
  if (std::filesystem::exists(kPython)) {  // an independent reader agrees on the stored integers
    auto py = read_with_python(out, out.file("q/model.safetensors"));
    model::SafetensorsReader reader(out.file("q/model.safetensors"));
    const auto* e = reader.find("model.layers.1.self_attn.o_proj.weight");
    const PyTensor& t = py.at(e->name);
    EXPECT_EQ(t.dtype, "I8");
    for (auto [i, v] : t.values) EXPECT_EQ(v, double(int8_t(reader.data(*e)[i]))) << i;
  }
  json report = json::parse(read_text(out.file("q/quantization_report.json")));
  EXPECT_EQ(report["format"], "int8");
  // Perplexity: the fp32 model has learned the text, and int8 costs under 0.02 bits per byte.
  ASSERT_TRUE(r.bytes_known);
  EXPECT_LT(r.bpb_f32, 2.0);
  EXPECT_LT(std::fabs(r.bpb_quantized - r.bpb_f32), 0.02) << r.summary();
  std::printf("%s", r.summary().c_str());  // the figures, in the test log
  EXPECT_LT(double(r.quantized_bytes), 0.6 * double(r.f32_bytes));  // linears at a quarter, the rest fp32
  EXPECT_GT(r.tok_s_quantized, 0);

  // The engine: the folder's stored int8 equals the engine's int8 packing of the fp32 model.
  auto& be = tensor::backend_for("cpu");
  auto f32 = model::load_hf_model(thai().model, be);
  auto q = model::load_hf_model(out.file("q"), be);
  model::DecoderOptions d;
  d.weights = tensor::cpu::WeightFormat::Q8;
  d.context = 40;
  model::Decoder a(*f32, d);
  auto linears = model::load_packed_linears(out.file("q"), *q);
  ASSERT_TRUE(linears);
  EXPECT_EQ(linears->size(), 14u);
  model::Decoder b(*q, d, linears);
  std::vector<float> la, lb;
  EXPECT_EQ(greedy(a, 30, &la), greedy(b, 30, &lb));
  EXPECT_EQ(la, lb);
}

TEST(Quantize, Int4AndAwqFoldersLoadAndCostBoundedPerplexity) {
  TempDir out;
  auto plain = compress::quantize_model(thai().model, options("int4", out.file("q4")));
  auto o = options("int4", out.file("awq"));
  o.awq = true;
  auto awq = compress::quantize_model(thai().model, o);
  json h = spec_header(out.file("q4/model.safetensors"));
  EXPECT_EQ(h["model.layers.1.mlp.down_proj.weight"]["dtype"], "U8");
  EXPECT_EQ(h["model.layers.1.mlp.down_proj.weight"]["shape"], json::array({64, 64}));  // 128 columns, 2 a byte
  EXPECT_EQ(h["model.layers.1.mlp.down_proj.weight_scale"]["shape"], json::array({64, 2}));  // groups of 64
  json cfg = json::parse(read_text(out.file("awq/config.json")));
  EXPECT_EQ(cfg["quantization_config"]["nativelm"]["awq"], true);
  EXPECT_EQ(cfg["quantization_config"]["nativelm"]["group_size"], 64);
  // int4 costs under 0.3 bits per byte here; AWQ's search never does worse than plain int4 on
  // the calibration rows (alpha 0 is plain int4).
  EXPECT_LT(plain.bpb_quantized - plain.bpb_f32, 0.3) << plain.summary();
  EXPECT_LT(awq.bpb_quantized - awq.bpb_f32, 0.3) << awq.summary();
  EXPECT_NE(plain.bpb_quantized, plain.bpb_f32);  // int4 does change the model
  std::printf("%s%s", plain.summary().c_str(), awq.summary().c_str());
  EXPECT_LE(awq.awq_error, awq.awq_error_plain);
  EXPECT_GT(awq.awq_error_plain, 0);
  EXPECT_LT(double(plain.quantized_bytes), 0.5 * double(plain.f32_bytes));

  // The engine runs the AWQ folder as stored; its logits follow the training model's (which
  // dequantises the same weights) up to the engine's int8 activation rounding.
  auto& be = tensor::backend_for("cpu");
  auto q = model::load_hf_model(out.file("awq"), be);
  model::DecoderOptions d;
  d.context = 40;
  auto linears = model::load_packed_linears(out.file("awq"), *q);
  ASSERT_TRUE(linears);
  EXPECT_EQ(linears->begin()->second.format, tensor::cpu::WeightFormat::Q4);
  model::Decoder engine(*q, d, linears);
  std::vector<float> le;
  auto ids = greedy(engine, 12, &le);
  model::Batch b;
  b.B = 1;
  b.T = 12;
  b.inputs.push_back(static_cast<int32_t>(q->config().bos_token_id));
  b.inputs.insert(b.inputs.end(), ids.begin(), ids.end() - 1);
  b.targets.assign(12, -1);
  b.set_default_positions();
  q->forward(b);
  const auto lt = q->logits();
  ASSERT_EQ(lt.size(), le.size());
  double err = 0, norm = 0;
  for (size_t i = 0; i < lt.size(); ++i) {
    err += (lt[i] - le[i]) * (lt[i] - le[i]);
    norm += double(lt[i]) * lt[i];
  }
  EXPECT_LT(std::sqrt(err / norm), 0.05);
}

TEST(Quantize, Fp8FolderHasModelOptStyleScales) {
  TempDir out;
  auto r = compress::quantize_model(thai().model, options("fp8", out.file("f8")));
  json h = spec_header(out.file("f8/model.safetensors"));
  const auto& w = h["model.layers.0.mlp.gate_proj.weight"];
  EXPECT_EQ(w["dtype"], "F8_E4M3");
  EXPECT_EQ(w["shape"], json::array({128, 64}));
  EXPECT_EQ(h["model.layers.0.mlp.gate_proj.weight_scale"]["shape"], json::array());
  EXPECT_EQ(h["model.layers.0.mlp.gate_proj.input_scale"]["dtype"], "F32");
  EXPECT_EQ(h["lm_head.weight"]["dtype"], "F32");
  json cfg = json::parse(read_text(out.file("f8/config.json")));
  EXPECT_EQ(cfg["quantization_config"]["quant_method"], "fp8");
  EXPECT_EQ(cfg["quantization_config"]["activation_scheme"], "static");
  // The scales: weight amax/448 (the largest weight encodes as 448 exactly), input amax/448 > 0.
  model::SafetensorsReader reader(out.file("f8/model.safetensors"));
  float in_scale = 0, w_scale = 0;
  std::memcpy(&in_scale, reader.data(*reader.find("model.layers.0.mlp.gate_proj.input_scale")), 4);
  std::memcpy(&w_scale, reader.data(*reader.find("model.layers.0.mlp.gate_proj.weight_scale")), 4);
  EXPECT_GT(in_scale, 0);
  EXPECT_GT(w_scale, 0);
  const auto* e = reader.find("model.layers.0.mlp.gate_proj.weight");
  uint8_t top = 0;
  for (uint64_t i = 0; i < e->end - e->begin; ++i) top = std::max<uint8_t>(top, reader.data(*e)[i] & 0x7F);
  EXPECT_EQ(top, 0x7E);  // 448
  // An independent reader (Python's standard library, the OCP E4M3 definition) sees the same.
  if (std::filesystem::exists(kPython)) {
    auto py = read_with_python(out, out.file("f8/model.safetensors"));
    const PyTensor& t = py.at("model.layers.0.mlp.gate_proj.weight");
    EXPECT_EQ(t.dtype, "F8_E4M3");
    ASSERT_GE(t.values.size(), 2u);
    for (auto [i, v] : t.values) EXPECT_EQ(v, tensor::e4m3_to_f32(reader.data(*e)[i])) << i;
    EXPECT_EQ(py.at("model.layers.0.mlp.gate_proj.input_scale").values.at(0), in_scale);
    EXPECT_EQ(py.at("model.layers.0.mlp.gate_proj.weight_scale").shape, "-");  // a scalar
  }
  EXPECT_LT(std::fabs(r.bpb_quantized - r.bpb_f32), 0.1) << r.summary();
  std::printf("%s", r.summary().c_str());
  // The engine decodes it.
  auto& be = tensor::backend_for("cpu");
  auto q = model::load_hf_model(out.file("f8"), be);
  model::DecoderOptions d;
  d.context = 20;
  model::Decoder engine(*q, d, model::load_packed_linears(out.file("f8"), *q));
  EXPECT_EQ(greedy(engine, 10, nullptr).size(), 10u);
}

// A linear whose input has a few channels 30x larger than the rest (as LLM activations do):
// AWQ's scales cut the int4 output error well below plain int4's.
TEST(Quantize, AwqReducesOutputErrorWithSalientChannels) {
  const int64_t rows = 64, cols = 256, n = 128;
  std::mt19937 rng(9);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(n * cols));
  for (auto& v : w) v = g(rng) * 0.05f;
  std::vector<double> mean(static_cast<size_t>(cols), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < cols; ++c) {
      float v = g(rng) * (c % 37 == 0 ? 30.0f : 1.0f);
      x[static_cast<size_t>(i * cols + c)] = v;
      mean[static_cast<size_t>(c)] += std::fabs(v) / double(n);
    }
  double plain = 0, best = 0;
  auto s = compress::awq_search(w, rows, cols, x, n, mean, 128, 20, &plain, &best);
  EXPECT_LT(best, 0.8 * plain) << plain << " " << best;
  EXPECT_GT(s[0], s[1]);  // the salient channel is scaled up
}

TEST(Quantize, BadInputIsAClearUsageError) {
  TempDir out;
  auto expect_usage = [](const std::function<void()>& f, const std::string& text) {
    try {
      f();
      ADD_FAILURE() << "no error; wanted " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  // Already quantised.
  compress::quantize_model(thai().model, options("int8", out.file("q")));
  expect_usage([&] { compress::quantize_model(out.file("q"), options("int8", out.file("again"))); },
               "already quantised");
  // Too little calibration text: two short paragraphs.
  write_text(out.file("small.txt"), thai_text(2, 3));
  auto o = options("int8", out.file("x"));
  o.calibration = {out.file("small.txt")};
  expect_usage([&] { compress::quantize_model(thai().model, o); }, "at least 256");
  write_text(out.file("one.txt"), "แมวนั่งอยู่บนเสื่อ");
  o.calibration = {out.file("one.txt")};
  expect_usage([&] { compress::quantize_model(thai().model, o); }, "at least 2 are needed");
  // int4 groups that do not divide the model's widths (64 and 128).
  o = options("int4", out.file("x"));
  o.group_size = 256;
  expect_usage([&] { compress::quantize_model(thai().model, o); }, "do not divide");
  // A damaged folder: a linear without its weight_scale is refused at load, naming the file.
  {
    std::filesystem::copy(out.file("q"), out.file("damaged"), std::filesystem::copy_options::recursive);
    model::SafetensorsReader r(out.file("q/model.safetensors"));
    std::vector<model::SafetensorsTensor> keep;
    for (const auto& e : r.entries())
      if (e.name != "model.layers.0.mlp.up_proj.weight_scale") keep.push_back({e.name, e.dtype, e.shape, r.data(e)});
    model::write_safetensors(out.file("damaged/model.safetensors"), keep);
    expect_usage([&] { model::load_hf_model(out.file("damaged"), tensor::backend_for("cpu")); }, "weight_scale");
  }
  // GGUF export of a quantised folder dequantises it first.
  {
    model::ExportGgufOptions eo;
    eo.type = model::GgufOutType::F32;
    eo.output = out.file("q.gguf");
    model::export_gguf(out.file("q"), eo);
    EXPECT_GT(std::filesystem::file_size(out.file("q.gguf")), 400000u);
  }
  // No model there; the output over the model.
  EXPECT_THROW(compress::quantize_model(out.file("missing"), options("int8", out.file("z"))), Error);
  expect_usage([&] { compress::quantize_model(thai().model, options("int8", thai().model)); }, "output folder");
  // Another tool's quantization_config.
  std::filesystem::create_directories(out.file("other"));
  std::filesystem::copy(thai().model, out.file("other"), std::filesystem::copy_options::recursive);
  json cfg = json::parse(read_text(out.file("other/config.json")));
  cfg["quantization_config"] = {{"quant_method", "gptq"}};
  write_text(out.file("other/config.json"), cfg.dump());
  expect_usage([&] { compress::quantize_model(out.file("other"), options("int8", out.file("y"))); }, "another tool");
}

TEST(Quantize, CliRunsAndRejectsUnknownFormatsAndGroups) {
  TempDir out;
  auto r = run_nativelm("quantize " + thai().model + " " + thai().calib + " --format int4 --group-size 96 -o " +
                            out.file("a"),
                        out.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("multiple of 64"), std::string::npos) << r.err;
  r = run_nativelm("quantize " + thai().model + " " + thai().calib + " --format int3 -o " + out.file("a"), out.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("int3"), std::string::npos) << r.err;
  r = run_nativelm("quantize " + thai().model + " " + thai().calib + " --format int8 --awq -o " + out.file("a"),
                   out.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_nativelm("quantize " + thai().model + " " + thai().calib + " --format int8 --seq-len 64 --bench-tokens 4 -o " +
                       out.file("a"),
                   out.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("bits/byte"), std::string::npos) << r.out;
  // eval ppl and generate take the quantised folder.
  r = run_nativelm("eval ppl -m " + out.file("a") + " " + thai().calib, out.path());
  EXPECT_NE(r.out.find("bits"), std::string::npos) << r.out;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_nativelm("generate -m " + out.file("a") + " แมว --max-tokens 5 --temperature 0", out.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace nlm::testing
