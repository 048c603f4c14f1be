// Our model.safetensors read by an independent reader: /usr/bin/python3 with the standard
// library only (struct + json), following the safetensors spec: 8-byte little-endian header
// length, a JSON header of {dtype, shape, data_offsets} (plus optional "__metadata__" of
// strings), the header padded with spaces to a multiple of 8 bytes, and tensor data laid out
// back to back from offset 0 to the end of the file. The script checks the layout and prints the
// decoded values of every tensor at a few indices; the test compares them with the model.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "model/hf_checkpoint.h"
#include "model/safetensors_py_reader.h"
#include "model_helpers.h"
#include "test_util.h"

namespace nlm::testing {
namespace {

using tensor::DType;

std::string shape_text(const model::Param& p) {
  std::string s;
  for (int64_t d : p.value.shape()) s += (s.empty() ? "" : ",") + std::to_string(d);
  return s;
}

TEST(SafetensorsPython, StdlibReaderAgreesWithWhatWeWrote) {
  if (!std::filesystem::exists(kPython)) GTEST_SKIP() << kPython << " is not installed";
  TempDir dir;
  auto cfg = tiny_config(false);
  cfg.attention_bias = true;  // 1-D bias tensors besides the 2-D matrices and norms
  model::Llama m(cfg, tensor::backend_for("cpu"));
  m.init_random(11);
  for (DType dt : {DType::F32, DType::BF16, DType::F16}) {
    const std::string name = std::string(tensor::dtype_name(dt));
    model::save_hf_model(dir.file(name), m, {dt, 0});
    auto py = read_with_python(dir, dir.file(name + "/model.safetensors"));
    ASSERT_EQ(py.size(), m.params().size()) << name;
    for (auto& p : m.params()) {
      SCOPED_TRACE(name + " " + p.name);
      auto it = py.find(p.name);
      ASSERT_NE(it, py.end());
      const PyTensor& t = it->second;
      EXPECT_EQ(t.dtype, name);
      EXPECT_EQ(t.shape, shape_text(p));
      ASSERT_EQ(t.numel, p.value.numel());
      ASSERT_GE(t.values.size(), 2u);
      std::vector<float> host(static_cast<size_t>(p.value.numel()));
      p.value.backend().download(p.value, host.data(), DType::F32);
      for (auto [i, v] : t.values) {
        float f = host[static_cast<size_t>(i)];
        double want = dt == DType::F32    ? double(f)
                      : dt == DType::BF16 ? double(tensor::bf16_to_f32(tensor::f32_to_bf16(f)))
                                          : double(tensor::f16_to_f32(tensor::f32_to_f16(f)));
        EXPECT_EQ(v, want) << "index " << i;
      }
    }
  }
  // A model whose weights moved: the reader sees the new value, so the comparison can fail.
  auto& w = m.params()[1];
  std::vector<float> host(static_cast<size_t>(w.value.numel()));
  w.value.backend().download(w.value, host.data(), DType::F32);
  host[0] = 0.625f;
  w.value.backend().upload(w.value, host.data(), DType::F32);
  model::save_hf_model(dir.file("moved"), m);
  auto py = read_with_python(dir, dir.file("moved/model.safetensors"));
  EXPECT_EQ(py[w.name].values.at(0), 0.625);
}

TEST(SafetensorsPython, ReaderRejectsABrokenLayout) {
  if (!std::filesystem::exists(kPython)) GTEST_SKIP() << kPython << " is not installed";
  TempDir dir;
  model::Llama m(tiny_config(true), tensor::backend_for("cpu"));
  m.init_random(12);
  model::save_hf_model(dir.file("m"), m);
  // Cut the last tensor short: the independent reader must notice.
  std::string bytes = read_text(dir.file("m/model.safetensors"));
  write_text(dir.file("cut.safetensors"), bytes.substr(0, bytes.size() - 4));
  write_text(dir.file("reader.py"), kReader);
  std::string cmd = std::string(kPython) + " " + dir.file("reader.py") + " " + dir.file("cut.safetensors") +
                    " >/dev/null 2>" + dir.file("err");
  EXPECT_NE(std::system(cmd.c_str()), 0);
  EXPECT_NE(read_text(dir.file("err")).find("AssertionError"), std::string::npos) << read_text(dir.file("err"));
}

}  // namespace
}  // namespace nlm::testing
