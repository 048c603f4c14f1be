// Model files as hostile input (issue 11): deep JSON nesting in config.json, tokenizer.json and
// safetensors headers, and safetensors lengths, offsets and shapes that promise more than the
// file holds, each give a clear nlm::Error — no stack overflow, no allocation sized by the lie.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "core/error.h"
#include "model/config.h"
#include "model/safetensors.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace nlm::testing {
namespace {

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// The message of the nlm::Error `f` throws; fails the test when it throws nothing.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

std::string safetensors_file(const std::string& header, uint64_t declared_length, size_t data_bytes) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((declared_length >> (8 * i)) & 0xff);
  return out + header + std::string(data_bytes, '\0');
}

TEST(HostileModelFiles, DeepJsonIsRefusedBeforeParsing) {
  const size_t depth = 1'000'000;  // enough to overflow the stack in any recursive copy or dump
  std::string config = R"({"vocab_size": 32, "hidden_size": 8, "rope_scaling": )" + nested(depth) + "}";
  EXPECT_NE(error_of([&] { model::parse_hf_config(config, "m/config.json"); }).find("deeper than 512 levels"),
            std::string::npos);
  std::string tok = R"({"model": {"type": "BPE", "vocab": {}, "merges": []}, "normalizer": )" + nested(depth) + "}";
  EXPECT_NE(error_of([&] { tokenizer::Tokenizer::from_json(tok, "m/tokenizer.json"); }).find("deeper than 512"),
            std::string::npos);
  TempDir dir;
  std::string header = R"({"__metadata__": )" + nested(depth) + "}";
  write_text(dir.file("deep.safetensors"), safetensors_file(header, header.size(), 0));
  std::string m = error_of([&] { model::SafetensorsReader r(dir.file("deep.safetensors")); });
  EXPECT_NE(m.find("header nests deeper than 512 levels"), std::string::npos) << m;
}

TEST(HostileModelFiles, SafetensorsLengthsThatLie) {
  TempDir dir;
  auto error_for = [&](const std::string& bytes) {
    write_text(dir.file("t.safetensors"), bytes);
    return error_of([&] { model::SafetensorsReader r(dir.file("t.safetensors")); });
  };
  std::string header = R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})";
  // A header length past the end of the file, and one over the 100 MB cap (the file really is
  // that long, sparse, so only the cap can refuse it).
  EXPECT_NE(error_for(safetensors_file(header, uint64_t{1} << 62, 8)).find("beyond end of file"), std::string::npos);
  {
    std::string big = safetensors_file(header, 150'000'000, 8);
    write_text(dir.file("big.safetensors"), big);
    std::filesystem::resize_file(dir.file("big.safetensors"), 8 + 150'000'000 + 16);
    std::string m = error_of([&] { model::SafetensorsReader r(dir.file("big.safetensors")); });
    EXPECT_NE(m.find("over the 100000000-byte limit"), std::string::npos) << m;
  }
  // Offsets past the data section.
  std::string far = R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 800000000000]}})";
  EXPECT_NE(error_for(safetensors_file(far, far.size(), 8)).find("outside the 8-byte data"), std::string::npos);
  // A dimension past 2^63, and a shape whose byte count (4 · 2 · (2^62 + 1) = 2^65 + 8) wraps
  // around to exactly the 8 bytes there are.
  std::string huge = R"({"w": {"dtype": "F32", "shape": [2, 9223372036854775808], "data_offsets": [0, 8]}})";
  EXPECT_NE(error_for(safetensors_file(huge, huge.size(), 8)).find("bad shape"), std::string::npos);
  std::string wrap = R"({"w": {"dtype": "F32", "shape": [2, 4611686018427387905], "data_offsets": [0, 8]}})";
  EXPECT_NE(error_for(safetensors_file(wrap, wrap.size(), 8)).find("bad shape"), std::string::npos);
  // The honest file reads.
  write_text(dir.file("ok.safetensors"), safetensors_file(header, header.size(), 8));
  model::SafetensorsReader ok(dir.file("ok.safetensors"));
  EXPECT_EQ(ok.entries().size(), 1u);
}

}  // namespace
}  // namespace nlm::testing
