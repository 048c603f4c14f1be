// The K-quant block encodings (Q4_K, Q6_K, and the Q5_0 fallback) and the Q4_K_M type mix, without
// llama.cpp: decoders checked on hand-built blocks (the bit layout), encoders on exact and random
// blocks (round trip within the documented error bounds), and the per-tensor choice of the mix on
// model shapes whose rows are whole super-blocks, whole 32-blocks only, or neither. The comparison
// with llama-quantize's own bytes is in gguf_llama_tools_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/error.h"
#include "gguf_fixture.h"
#include "model/gguf_blocks.h"
#include "model/gguf_mix.h"
#include "model/gguf_reader.h"
#include "tensor/dtype.h"

namespace nlm::testing {
namespace {

using model::gguf::decode_row;
using model::gguf::encode_row;
using model::gguf::TensorType;

std::vector<float> decoded(const std::string& bytes, int64_t n, TensorType t) {
  std::vector<float> y(static_cast<size_t>(n));
  decode_row(reinterpret_cast<const uint8_t*>(bytes.data()), n, t, y.data());
  return y;
}

void put16(std::string& s, size_t at, uint16_t v) {
  s[at] = static_cast<char>(v & 0xff);
  s[at + 1] = static_cast<char>(v >> 8);
}

TEST(GgufKQuants, BlockGeometry) {
  EXPECT_EQ(model::gguf::block_elements(TensorType::Q4_K), 256);
  EXPECT_EQ(model::gguf::block_bytes(TensorType::Q4_K), 144);  // 4.5 bits per weight
  EXPECT_EQ(model::gguf::block_elements(TensorType::Q6_K), 256);
  EXPECT_EQ(model::gguf::block_bytes(TensorType::Q6_K), 210);  // 6.5625 bits per weight
  EXPECT_EQ(model::gguf::block_elements(TensorType::Q5_0), 32);
  EXPECT_EQ(model::gguf::block_bytes(TensorType::Q5_0), 22);  // 5.5 bits per weight
  for (uint32_t t : {6u, 12u, 14u}) EXPECT_TRUE(model::gguf::known_tensor_type(t)) << t;
  EXPECT_FALSE(model::gguf::known_tensor_type(13));  // Q5_K: not written here
  std::string out;
  std::vector<float> x(300);
  EXPECT_THROW(encode_row(x.data(), 300, TensorType::Q4_K, out), Error);  // not whole super-blocks
  EXPECT_THROW(encode_row(x.data(), 48, TensorType::Q5_0, out), Error);
}

// Q4_K: d = 2, dmin = 0.5; sub-block j has scale j+1 and min 2j (the 6-bit pairs of j >= 4 split
// into a low nibble byte and the top bits of bytes 0..7); byte l of each 32-byte group holds
// element l of the even sub-block (low nibble) and element l of the odd one (high nibble).
TEST(GgufKQuants, Q4_KDecodesAHandBuiltBlock) {
  std::string b(144, '\0');
  put16(b, 0, tensor::f32_to_f16(2.0f));
  put16(b, 2, tensor::f32_to_f16(0.5f));
  uint8_t sc[8], mn[8];
  for (int j = 0; j < 8; ++j) sc[j] = static_cast<uint8_t>(j + 1 + (j >= 4 ? 40 : 0)), mn[j] = static_cast<uint8_t>(2 * j + (j >= 6 ? 33 : 0));
  auto* s = reinterpret_cast<uint8_t*>(b.data() + 4);
  for (int j = 0; j < 4; ++j) s[j] = sc[j], s[j + 4] = mn[j];
  for (int j = 4; j < 8; ++j) {
    s[j + 4] = static_cast<uint8_t>((sc[j] & 0xF) | ((mn[j] & 0xF) << 4));
    s[j - 4] |= static_cast<uint8_t>((sc[j] >> 4) << 6);
    s[j] |= static_cast<uint8_t>((mn[j] >> 4) << 6);
  }
  for (int g = 0; g < 4; ++g)
    for (int l = 0; l < 32; ++l) b[16 + 32 * g + l] = static_cast<char>((l % 16) | ((15 - l % 16) << 4));
  std::vector<float> y = decoded(b, 256, TensorType::Q4_K);
  for (int j = 0; j < 8; ++j)
    for (int l = 0; l < 32; ++l) {
      const int q = j % 2 == 0 ? l % 16 : 15 - l % 16;
      EXPECT_EQ(y[32 * j + l], 2.0f * sc[j] * q - 0.5f * mn[j]) << j << " " << l;
    }
}

// Q6_K: ql (128 bytes), qh (64), 16 int8 scales, d. In each half of 128 elements, byte l of ql
// holds elements l (low nibble) and l+64 (high), byte l+32 elements l+32 and l+96, and qh's byte l
// their top two bits in bit pairs 0, 2, 4, 6.
TEST(GgufKQuants, Q6_KDecodesAHandBuiltBlock) {
  std::string b(210, '\0');
  put16(b, 208, tensor::f32_to_f16(0.25f));
  for (int g = 0; g < 16; ++g) b[192 + g] = static_cast<char>(static_cast<int8_t>(g % 2 ? -(g + 1) : g + 1));
  auto level = [](int i) { return (i * 7 + 3) % 64; };  // every 6-bit value, scattered
  auto* ql = reinterpret_cast<uint8_t*>(b.data());
  auto* qh = reinterpret_cast<uint8_t*>(b.data() + 128);
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {
      const int base = 128 * h;
      const int q1 = level(base + l), q2 = level(base + l + 32), q3 = level(base + l + 64), q4 = level(base + l + 96);
      ql[64 * h + l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
      ql[64 * h + l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
      qh[32 * h + l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
    }
  std::vector<float> y = decoded(b, 256, TensorType::Q6_K);
  for (int i = 0; i < 256; ++i) {
    const int g = i / 16;
    const float scale = static_cast<float>(g % 2 ? -(g + 1) : g + 1);
    EXPECT_EQ(y[i], 0.25f * scale * static_cast<float>(level(i) - 32)) << i;
  }
}

TEST(GgufKQuants, Q5_0MatchesAHandComputedBlock) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);  // the largest magnitude is -16
  std::string out;
  encode_row(x.data(), 32, TensorType::Q5_0, out);
  ASSERT_EQ(out.size(), 22u);
  // d = -16 / -16 = 1, q = min(31, trunc(x + 16.5)) = x + 16: the block is exact.
  EXPECT_EQ(tensor::f16_to_f32(static_cast<uint16_t>(static_cast<uint8_t>(out[0]) | (static_cast<uint8_t>(out[1]) << 8))), 1.0f);
  uint32_t qh;
  std::memcpy(&qh, out.data() + 2, 4);
  EXPECT_EQ(qh, 0xffff0000u);  // q >= 16 exactly for the upper half
  EXPECT_EQ(static_cast<uint8_t>(out[6]), 0 | (0 << 4));  // q 0 and 16: low nibbles 0
  EXPECT_EQ(decoded(out, 32, TensorType::Q5_0), x);
}

// A Q4_K block whose sub-blocks are exactly 16 levels of 0.5 (min 0) keeps its levels: the first
// candidate scale fits with zero error and no other beats it; only the fp16 rounding of d remains.
TEST(GgufKQuants, Q4_KKeepsAnExactGridAndPacksNibbles) {
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[i] = 0.5f * static_cast<float>(i % 16);
  std::string out;
  encode_row(x.data(), 256, TensorType::Q4_K, out);
  ASSERT_EQ(out.size(), 144u);
  EXPECT_EQ(static_cast<uint8_t>(out[2]) | static_cast<uint8_t>(out[3]), 0);  // dmin = 0
  for (int l = 0; l < 32; ++l) EXPECT_EQ(static_cast<uint8_t>(out[16 + l]), (l % 16) | ((l % 16) << 4)) << l;
  std::vector<float> y = decoded(out, 256, TensorType::Q4_K);
  for (int i = 0; i < 256; ++i) EXPECT_NEAR(y[i], x[i], 7.5 * 1e-3) << i;
}

// Round trip on Gaussian rows, with a few outliers: the error bounds docs/export.md states.
TEST(GgufKQuants, RandomRowsRoundTripWithinBounds) {
  std::mt19937 rng(11);
  std::normal_distribution<float> n(0, 1);
  std::vector<float> x(256 * 40);
  for (float& v : x) v = n(rng);
  for (size_t i = 0; i < x.size(); i += 97) x[i] *= 6;
  struct Case { TensorType t; int group; double max_step, rms; };
  // max |x - y| within `max_step` of the group's range / levels; rms error relative to rms(x).
  // Q6_K's group scale is itself an int8 multiple of the super-block's d, so a group much smaller
  // than the block's largest one loses up to half of a step more (1.21 steps measured).
  for (Case c : {Case{TensorType::Q4_K, 32, 1.0, 0.12}, Case{TensorType::Q6_K, 16, 1.5, 0.03},
                 Case{TensorType::Q5_0, 32, 1.01, 0.08}}) {
    std::string out;
    encode_row(x.data(), static_cast<int64_t>(x.size()), c.t, out);
    ASSERT_EQ(out.size(), model::gguf::row_bytes(c.t, static_cast<int64_t>(x.size())));
    std::vector<float> y = decoded(out, static_cast<int64_t>(x.size()), c.t);
    double se = 0, sx = 0;
    for (size_t g = 0; g < x.size(); g += static_cast<size_t>(c.group)) {
      float lo = x[g], hi = x[g], amax = 0;
      for (int j = 0; j < c.group; ++j) {
        lo = std::min(lo, x[g + j]), hi = std::max(hi, x[g + j]), amax = std::max(amax, std::fabs(x[g + j]));
        se += double(x[g + j] - y[g + j]) * (x[g + j] - y[g + j]);
        sx += double(x[g + j]) * x[g + j];
      }
      // one level: Q4_K spreads 16 levels over [min(lo, 0), hi]; Q6_K and Q5_0 have amax/32, amax/16
      const double step = c.t == TensorType::Q4_K ? (hi - std::min(lo, 0.0f)) / 15 : c.t == TensorType::Q6_K ? amax / 32 : amax / 16;
      for (int j = 0; j < c.group; ++j) ASSERT_LE(std::fabs(x[g + j] - y[g + j]), c.max_step * step) << int(c.t) << " " << g + j;
    }
    const double rel = std::sqrt(se / sx);
    std::printf("[ figures  ] %s: rms error / rms = %.4f\n", std::string(model::gguf::tensor_type_name(c.t)).c_str(), rel);
    EXPECT_LE(rel, c.rms);
  }
}

TEST(GgufKQuants, ZeroAndSubnormalBlocksDecodeToZeros) {
  std::vector<float> zero(256, 0.0f), tiny(256, 1e-41f);
  tiny[5] = -3e-41f;
  for (TensorType t : {TensorType::Q4_K, TensorType::Q6_K, TensorType::Q5_0})
    for (auto* v : {&zero, &tiny}) {
      std::string out;
      encode_row(v->data(), 256, t, out);
      for (float y : decoded(out, 256, t)) ASSERT_EQ(y, 0.0f) << int(t);
    }
}

// ---- the Q4_K_M mix ------------------------------------------------------------------------

std::vector<std::string> mix_of(const model::ModelConfig& c, std::vector<std::string>* notes = nullptr) {
  std::vector<std::string> n;
  auto plan = model::gguf_tensor_plan(c, true);
  auto types = model::gguf_tensor_types(plan, model::GgufOutType::Q4_K_M, c.num_hidden_layers, notes ? *notes : n);
  std::vector<std::string> out;
  for (size_t i = 0; i < plan.size(); ++i) out.push_back(plan[i].name + " " + std::string(model::gguf::tensor_type_name(types[i])));
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

TEST(GgufQ4KM, MoreBitsLayersFollowLlamaCpp) {
  // llama.cpp's Q4_K_M on 32 layers: 0-3, 28-31 and every third from 6 (i - 4 = 2 mod 3).
  std::vector<int> got;
  for (int i = 0; i < 32; ++i)
    if (model::q4_k_m_more_bits(i, 32)) got.push_back(i);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}));
  EXPECT_TRUE(model::q4_k_m_more_bits(0, 1));
  EXPECT_FALSE(model::q4_k_m_more_bits(0, 2));
  EXPECT_TRUE(model::q4_k_m_more_bits(1, 2));
}

TEST(GgufQ4KM, WholeSuperBlocks) {
  auto c = gguf_test_config(400, 256, 8);
  c.intermediate_size = 512;
  c.num_attention_heads = 4, c.num_key_value_heads = 2, c.head_dim = 64;
  std::vector<std::string> notes;
  auto m = mix_of(c, &notes);
  EXPECT_TRUE(notes.empty());
  EXPECT_TRUE(has(m, "token_embd.weight Q4_K"));
  EXPECT_TRUE(has(m, "output.weight Q6_K"));
  EXPECT_TRUE(has(m, "output_norm.weight F32"));
  for (int l = 0; l < 8; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    const std::string more = (l == 0 || l == 3 || l == 6 || l == 7) ? "Q6_K" : "Q4_K";
    EXPECT_TRUE(has(m, b + "attn_v.weight " + more)) << l;
    EXPECT_TRUE(has(m, b + "ffn_down.weight " + more)) << l;
    for (const char* t : {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"})
      EXPECT_TRUE(has(m, b + t + ".weight Q4_K")) << b << t;
    EXPECT_TRUE(has(m, b + "attn_norm.weight F32"));
  }
  c.tie_word_embeddings = true;  // the shared matrix produces the logits: Q6_K
  EXPECT_TRUE(has(mix_of(c), "token_embd.weight Q6_K"));
}

TEST(GgufQ4KM, FallbacksForRowsThatAreNotSuperBlocks) {
  // hidden 64: nothing is a whole super-block; Q4_K -> Q5_0, Q6_K -> Q8_0, logits Q8_0.
  std::vector<std::string> notes;
  auto m = mix_of(gguf_test_config(400, 64, 2), &notes);
  EXPECT_TRUE(has(m, "token_embd.weight Q5_0"));
  EXPECT_TRUE(has(m, "output.weight Q8_0"));
  EXPECT_TRUE(has(m, "blk.0.attn_v.weight Q5_0"));
  EXPECT_TRUE(has(m, "blk.1.attn_v.weight Q8_0"));  // use_more_bits(1, 2)
  EXPECT_TRUE(has(m, "blk.1.ffn_down.weight Q8_0"));
  EXPECT_EQ(notes.size(), 2u);  // Q4_K -> Q5_0 and Q6_K -> Q8_0
  for (auto& n : notes) EXPECT_NE(n.find("as llama-quantize does"), std::string::npos) << n;
  // hidden 48, SwiGLU 72: not even 32-blocks -> F16 (the export never fails on a shape).
  notes.clear();
  m = mix_of(gguf_test_config(400, 48, 2), &notes);
  EXPECT_TRUE(has(m, "token_embd.weight F16"));
  EXPECT_TRUE(has(m, "output.weight F16"));
  EXPECT_TRUE(has(m, "blk.0.ffn_down.weight F16"));
  EXPECT_TRUE(has(m, "blk.0.attn_output.weight Q5_0"));  // its rows are the 64 q columns
  EXPECT_FALSE(notes.empty());
}

TEST(GgufQ4KM, ExportWritesTheMixAndFileType15) {
  TempDir dir;
  auto tok = gguf_test_tokenizer(dir.path());
  for (int64_t hidden : {64, 48}) {
    const std::string model_dir = dir.file("m" + std::to_string(hidden));
    save_gguf_test_model(model_dir, gguf_test_config(tok.vocab_size(), hidden), tok);
    model::ExportGgufOptions o;
    o.output = dir.file("q" + std::to_string(hidden) + ".gguf");
    o.type = model::GgufOutType::Q4_K_M;
    auto res = model::export_gguf(model_dir, o);
    EXPECT_FALSE(res.notes.empty());
    model::gguf::Reader r(o.output);
    EXPECT_EQ(r.get_int("general.file_type"), 15);
    const auto f32 = export_gguf_file(model_dir, dir.file("f" + std::to_string(hidden) + ".gguf"), model::GgufOutType::F32);
    model::gguf::Reader ref(f32);
    for (auto& t : r.tensors()) {  // every tensor decodes to its F32 value within its type's rounding
      auto got = r.read_f32(t), want = ref.read_f32(*ref.find_tensor(t.name));
      ASSERT_EQ(got.size(), want.size());
      float amax = 0, err = 0;
      for (size_t i = 0; i < got.size(); ++i) amax = std::max(amax, std::fabs(want[i])), err = std::max(err, std::fabs(got[i] - want[i]));
      EXPECT_LE(err, amax / 15) << t.name;
    }
  }
}

}  // namespace
}  // namespace nlm::testing
