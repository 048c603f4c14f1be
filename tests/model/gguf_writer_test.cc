// The GGUF v3 container both ways: the writer's bytes (header, metadata, tensor infos, alignment)
// read back by the library reader and checked by hand at fixed offsets; the Q8_0/Q4_0 block
// encoders against hand-computed blocks and their error bounds; and bad input: writer misuse and
// every truncation or corruption of a file give an nlm::Error, never a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/error.h"
#include "model/gguf_blocks.h"
#include "model/gguf_reader.h"
#include "model/gguf_writer.h"
#include "tensor/dtype.h"
#include "test_util.h"

namespace nlm::testing {
namespace {

using namespace model::gguf;

std::vector<float> ramp(int64_t n, float scale) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = scale * std::sin(0.37f * static_cast<float>(i) + 0.1f);
  return v;
}

Writer::Producer rows_of(std::vector<float> v, int64_t cols, TensorType t) {
  return [v = std::move(v), cols, t](std::string& out) {
    for (size_t r = 0; r < v.size(); r += static_cast<size_t>(cols)) encode_row(v.data() + r, cols, t, out);
  };
}

void write_sample(const std::string& path) {
  Writer w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 3);
  w.set_i32("test.i32", -5);
  w.set_u64("test.u64", 1ull << 40);
  w.set_f32("test.f32", 0.25f);
  w.set_bool("test.bool", true);
  w.set_strings("test.strings", {"a", "", "Ġb ċ"});
  w.set_i32s("test.i32s", {1, -2, 3});
  w.set_f32s("test.f32s", {0.5f, -1.5f});
  w.add_tensor("f32", TensorType::F32, {5}, rows_of(ramp(5, 1), 5, TensorType::F32));
  w.add_tensor("f16", TensorType::F16, {3, 2}, rows_of(ramp(6, 1), 3, TensorType::F16));
  w.add_tensor("bf16", TensorType::BF16, {3, 2}, rows_of(ramp(6, 1), 3, TensorType::BF16));
  w.add_tensor("q8", TensorType::Q8_0, {64, 3}, rows_of(ramp(192, 2), 64, TensorType::Q8_0));
  w.add_tensor("q4", TensorType::Q4_0, {32, 2}, rows_of(ramp(64, 2), 32, TensorType::Q4_0));
  w.write(path);
}

template <class T>
T at(const std::string& bytes, size_t offset) {
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof(T));
  return v;
}

TEST(GgufWriter, HeaderBytesAreGgufV3WithCounts) {
  TempDir dir;
  write_sample(dir.file("m.gguf"));
  std::string b = read_text(dir.file("m.gguf"));
  EXPECT_EQ(b.substr(0, 4), "GGUF");
  EXPECT_EQ(at<uint32_t>(b, 4), 3u);
  EXPECT_EQ(at<uint64_t>(b, 8), 5u);    // tensors
  EXPECT_EQ(at<uint64_t>(b, 16), 10u);  // general.alignment + 9 keys
  // The first pair is general.alignment = 32 (U32).
  EXPECT_EQ(at<uint64_t>(b, 24), 17u);
  EXPECT_EQ(b.substr(32, 17), "general.alignment");
  EXPECT_EQ(at<uint32_t>(b, 49), static_cast<uint32_t>(ValueType::U32));
  EXPECT_EQ(at<uint32_t>(b, 53), 32u);
  EXPECT_EQ(b.size() % 32, 0u);  // the last tensor is padded too
}

TEST(GgufWriter, RoundTripsThroughTheReader) {
  TempDir dir;
  write_sample(dir.file("m.gguf"));
  Reader r(dir.file("m.gguf"));
  EXPECT_EQ(r.version(), 3u);
  EXPECT_EQ(r.alignment(), 32u);
  EXPECT_EQ(r.get_string("general.architecture"), "llama");
  EXPECT_EQ(r.get_int("llama.block_count"), 3);
  EXPECT_EQ(r.find("llama.block_count")->type, ValueType::U32);
  EXPECT_EQ(r.get_int("test.i32"), -5);
  EXPECT_EQ(r.get_int("test.u64"), int64_t(1) << 40);
  EXPECT_EQ(r.get_real("test.f32"), 0.25);
  EXPECT_TRUE(r.get_bool("test.bool"));
  EXPECT_EQ(r.find("test.strings")->texts, (std::vector<std::string>{"a", "", "Ġb ċ"}));
  EXPECT_EQ(r.find("test.i32s")->numbers, (std::vector<double>{1, -2, 3}));
  EXPECT_EQ(r.find("test.f32s")->numbers, (std::vector<double>{0.5, -1.5}));
  EXPECT_EQ(r.find("absent"), nullptr);
  EXPECT_THROW(r.get_string("llama.block_count"), Error);

  ASSERT_EQ(r.tensors().size(), 5u);
  for (auto& t : r.tensors()) EXPECT_EQ(t.offset % 32, 0u) << t.name;
  EXPECT_EQ(r.find_tensor("q8")->dims, (std::vector<int64_t>{64, 3}));
  EXPECT_EQ(r.find_tensor("q8")->bytes, 3u * 2 * 34);
  EXPECT_EQ(r.find_tensor("q4")->bytes, 2u * 18);
  EXPECT_EQ(r.read_f32(*r.find_tensor("f32")), ramp(5, 1));  // exact
  auto f16 = r.read_f32(*r.find_tensor("f16"));
  auto bf16 = r.read_f32(*r.find_tensor("bf16"));
  auto q8 = r.read_f32(*r.find_tensor("q8"));
  auto q4 = r.read_f32(*r.find_tensor("q4"));
  auto want6 = ramp(6, 1), want192 = ramp(192, 2), want64 = ramp(64, 2);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(f16[i], tensor::f16_to_f32(tensor::f32_to_f16(want6[i])));
    EXPECT_EQ(bf16[i], tensor::bf16_to_f32(tensor::f32_to_bf16(want6[i])));
  }
  // Q8_0: half a step of max|x|/127 plus the fp16 rounding of the scale (127 · 2^-11 of a step);
  // Q4_0: one step of 2/8.
  for (size_t i = 0; i < 192; ++i) EXPECT_NEAR(q8[i], want192[i], 2.0 / 127 * 0.57) << i;
  for (size_t i = 0; i < 64; ++i) EXPECT_NEAR(q4[i], want64[i], 2.0 / 8 * 1.01) << i;
}

TEST(GgufBlocks, Q8_0MatchesAHandComputedBlock) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);  // max |x| = 16
  std::string out;
  encode_row(x.data(), 32, TensorType::Q8_0, out);
  ASSERT_EQ(out.size(), 34u);
  const float d = 16.0f / 127.0f;
  EXPECT_EQ(at<uint16_t>(out, 0), tensor::f32_to_f16(d));
  for (int j = 0; j < 32; ++j)
    EXPECT_EQ(static_cast<int8_t>(out[2 + j]), static_cast<int8_t>(std::lround(x[j] / d))) << j;
  EXPECT_EQ(static_cast<int8_t>(out[2]), -127);  // the extreme maps to the end of the range
}

TEST(GgufBlocks, Q4_0MatchesAHandComputedBlock) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);  // the largest magnitude is -16
  std::string out;
  encode_row(x.data(), 32, TensorType::Q4_0, out);
  ASSERT_EQ(out.size(), 18u);
  EXPECT_EQ(tensor::f16_to_f32(at<uint16_t>(out, 0)), 2.0f);  // d = -16 / -8
  // q = min(15, trunc(x/2 + 8.5)); byte j holds x[j] low and x[j+16] high: x = -16 -> 0, 0 -> 8.
  EXPECT_EQ(static_cast<uint8_t>(out[2]), 0 | (8 << 4));
  EXPECT_EQ(static_cast<uint8_t>(out[2 + 15]), 8 | (15 << 4));  // x = -1 -> trunc(8.0) = 8; 15 -> 16 -> 15
  std::vector<float> back(32);
  decode_row(reinterpret_cast<const uint8_t*>(out.data()), 32, TensorType::Q4_0, back.data());
  EXPECT_EQ(back[0], -16.0f);
  EXPECT_EQ(back[16], 0.0f);
}

TEST(GgufBlocks, ZeroBlocksAndRandomErrorBounds) {
  std::vector<float> zero(64, 0.0f), back(64);
  for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
    std::string out;
    encode_row(zero.data(), 64, t, out);
    decode_row(reinterpret_cast<const uint8_t*>(out.data()), 64, t, back.data());
    for (float v : back) EXPECT_EQ(v, 0.0f);
  }
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0, 1);
  std::vector<float> x(32 * 50);
  for (float& v : x) v = n(rng);
  for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
    std::string out;
    encode_row(x.data(), static_cast<int64_t>(x.size()), t, out);
    std::vector<float> y(x.size());
    decode_row(reinterpret_cast<const uint8_t*>(out.data()), static_cast<int64_t>(x.size()), t, y.data());
    for (size_t b = 0; b < x.size(); b += 32) {
      float amax = 0;
      for (size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b + j]));
      const float step = t == TensorType::Q8_0 ? amax / 127 : amax / 8;
      for (size_t j = 0; j < 32; ++j) ASSERT_LE(std::fabs(x[b + j] - y[b + j]), step * 1.01f) << b + j;
    }
  }
  // Blocks so small that 1/d overflows (subnormal weights) decode to zeros, not garbage.
  std::vector<float> tiny(32, 1e-41f);
  tiny[3] = -2e-41f;
  for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
    std::string out;
    encode_row(tiny.data(), 32, t, out);
    std::vector<float> y(32);
    decode_row(reinterpret_cast<const uint8_t*>(out.data()), 32, t, y.data());
    for (float v : y) EXPECT_EQ(v, 0.0f);
  }
  std::string out;
  EXPECT_THROW(encode_row(x.data(), 33, TensorType::Q8_0, out), Error);
}

TEST(GgufWriter, RejectsMisuse) {
  Writer w;
  EXPECT_THROW(w.set_u32("general.alignment", 64), Error);  // set by the constructor
  w.set_string("k", "v");
  EXPECT_THROW(w.set_u32("k", 1), Error);
  EXPECT_THROW(w.add_tensor("", TensorType::F32, {1}, [](std::string&) {}), Error);
  EXPECT_THROW(w.add_tensor(std::string(64, 'x'), TensorType::F32, {1}, [](std::string&) {}), Error);
  EXPECT_THROW(w.add_tensor("t", TensorType::F32, {}, [](std::string&) {}), Error);
  EXPECT_THROW(w.add_tensor("t", TensorType::F32, {1, 1, 1, 1, 1}, [](std::string&) {}), Error);
  EXPECT_THROW(w.add_tensor("t", TensorType::F32, {0}, [](std::string&) {}), Error);
  EXPECT_THROW(w.add_tensor("t", TensorType::Q8_0, {48}, [](std::string&) {}), Error);
  EXPECT_THROW(Writer(24), Error);
  w.add_tensor("t", TensorType::F32, {2}, [](std::string& out) { out = "abc"; });  // 3 bytes, not 8
  EXPECT_THROW(w.add_tensor("t", TensorType::F32, {2}, [](std::string&) {}), Error);
  TempDir dir;
  EXPECT_THROW(w.write(dir.file("bad.gguf")), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.gguf")));  // nothing torn is published
}

// A file written independently of the library: fuzz/make_seeds.py packs it with Python's struct
// (every scalar type, string and int arrays, F32/F16/Q8_0/Q4_0 tensors).
TEST(GgufReader, ReadsTheFuzzSeedWrittenByPython) {
  if (std::system("python3 --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 is not installed";
  TempDir dir;
  std::string cmd = std::string("python3 ") + NATIVELM_SOURCE_DIR + "/fuzz/make_seeds.py " + dir.path() + " >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  Reader r(dir.file("fuzz_gguf/llama_like.gguf"));
  EXPECT_EQ(r.get_string("general.architecture"), "llama");
  EXPECT_EQ(r.get_int("t.u8"), 7);
  EXPECT_EQ(r.get_int("t.i8"), -1);
  EXPECT_EQ(r.get_int("t.i16"), -9);
  EXPECT_EQ(r.get_int("t.i64"), -5);
  EXPECT_EQ(r.get_int("t.u64"), int64_t(1) << 40);
  EXPECT_EQ(r.get_real("t.f64"), 2.5);
  EXPECT_TRUE(r.get_bool("t.bool"));
  EXPECT_EQ(r.find("tokenizer.ggml.tokens")->texts, (std::vector<std::string>{"a", "\u0120b", "<|end|>"}));
  EXPECT_EQ(r.find("tokenizer.ggml.token_type")->numbers, (std::vector<double>{1, 1, 3}));
  EXPECT_EQ(r.read_f32(*r.find_tensor("norm.weight")), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(r.read_f32(*r.find_tensor("f16")), (std::vector<float>{1, 2, -1, 0}));
  auto q8 = r.read_f32(*r.find_tensor("q8"));  // d = 1, q = 0..31
  for (int j = 0; j < 32; ++j) EXPECT_EQ(q8[j], static_cast<float>(j));
  auto q4 = r.read_f32(*r.find_tensor("q4"));  // d = 0.5, byte j = j: low nibble j, high nibble 0
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(q4[j], 0.5f * static_cast<float>(j - 8));
    EXPECT_EQ(q4[j + 16], -4.0f);
  }
  Reader empty(dir.file("fuzz_gguf/empty.gguf"));
  EXPECT_TRUE(empty.tensors().empty());
}

TEST(GgufReader, EveryTruncationIsACleanError) {
  TempDir dir;
  write_sample(dir.file("m.gguf"));
  const std::string whole = read_text(dir.file("m.gguf"));
  for (size_t n = 0; n < whole.size(); n += (n < 400 ? 1 : 37)) {
    write_text(dir.file("t.gguf"), whole.substr(0, n));
    EXPECT_THROW(Reader{dir.file("t.gguf")}, Error) << n;
  }
  EXPECT_THROW(Reader{dir.file("absent.gguf")}, Error);
}

TEST(GgufReader, CorruptFieldsAreCleanErrors) {
  TempDir dir;
  write_sample(dir.file("m.gguf"));
  const std::string whole = read_text(dir.file("m.gguf"));
  auto expect_error = [&](size_t offset, const std::string& bytes, const std::string& what) {
    std::string b = whole;
    b.replace(offset, bytes.size(), bytes);
    write_text(dir.file("c.gguf"), b);
    try {
      Reader r(dir.file("c.gguf"));
      ADD_FAILURE() << "no error for " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  auto u32 = [](uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); };
  auto u64 = [](uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); };
  expect_error(0, "GGUG", "no 'GGUF' magic");
  expect_error(4, u32(7), "unsupported version 7");
  expect_error(8, u64(1ull << 60), "tensors cannot fit");
  expect_error(16, u64(1ull << 62), "metadata pairs cannot fit");
  expect_error(24, u64(1ull << 50), "truncated");     // key length past the end
  expect_error(49, u32(99), "unknown value type 99");  // general.alignment's type
  expect_error(53, u32(24), "power of two");           // general.alignment's value
}

// A small mutation fuzzer over the sample file: random bytes changed, the result either reads
// (and every tensor decodes) or is an nlm::Error; anything else (another exception, a crash, a
// sanitizer report under scripts/sanitize.sh) fails. fuzz/fuzz_gguf.cc goes further with libFuzzer.
TEST(GgufReader, RandomCorruptionsReadOrFailCleanly) {
  TempDir dir;
  write_sample(dir.file("m.gguf"));
  const std::string whole = read_text(dir.file("m.gguf"));
  std::mt19937 rng(11);
  int read_ok = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    std::string b = whole;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      // Mostly the header and metadata, where the lengths and counts live.
      size_t at = rng() % 4 ? rng() % std::min<size_t>(b.size(), 400) : rng() % b.size();
      b[at] = static_cast<char>(rng() % 3 ? rng() : (rng() % 2 ? 0xff : 0x00));
    }
    write_text(dir.file("f.gguf"), b);
    try {
      Reader r(dir.file("f.gguf"));
      for (auto& t : r.tensors()) {
        if (known_tensor_type(t.type)) {
          ASSERT_EQ(r.read_f32(t).size(), static_cast<size_t>(t.elements()));
        }
      }
      ++read_ok;
    } catch (const Error&) {
    }
  }
  EXPECT_GT(read_ok, 0);  // some mutations only touch values, and those files still read
}

}  // namespace
}  // namespace nlm::testing
