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
#include "model_helpers.h"
#include "test_util.h"

namespace nlm::testing {
namespace {

using tensor::DType;

constexpr const char* kPython = "/usr/bin/python3";

// Prints "T name dtype d0,d1 numel" and "V name index value.hex()" lines; exits non-zero (with
// the reason on stderr) when the file breaks the spec.
constexpr const char* kReader = R"PY(
import json, math, struct, sys
path = sys.argv[1]
data = open(path, "rb").read()
assert len(data) >= 8, "file shorter than the length prefix"
(n,) = struct.unpack("<Q", data[:8])
assert 8 + n <= len(data), "header length beyond the end of the file"
raw = data[8:8 + n]
assert (8 + n) % 8 == 0, "header not padded to a multiple of 8 bytes"
text = raw.decode("utf-8")
assert text.startswith("{"), "header does not start with '{'"
body = text.rstrip(" ")
assert len(text) - len(body) < 8, "more padding than needed"
header = json.loads(body)
meta = header.pop("__metadata__", {})
assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()), "metadata must be strings"
sizes = {"F32": 4, "BF16": 2, "F16": 2, "F64": 8, "I32": 4}
fmt = {"F32": "<f", "F16": "<e", "F64": "<d", "I32": "<i"}
payload = data[8 + n:]
spans = []
for name, e in header.items():
    assert set(e) == {"dtype", "shape", "data_offsets"}, name + ": unexpected keys"
    numel = math.prod(e["shape"])
    b, end = e["data_offsets"]
    assert end - b == numel * sizes[e["dtype"]], name + ": size does not match dtype and shape"
    assert 0 <= b <= end <= len(payload), name + ": data beyond the end of the file"
    spans.append((b, end, name))
    def value(i):
        off = b + i * sizes[e["dtype"]]
        if e["dtype"] == "BF16":
            (h,) = struct.unpack("<H", payload[off:off + 2])
            return struct.unpack("<f", struct.pack("<I", h << 16))[0]
        return struct.unpack(fmt[e["dtype"]], payload[off:off + sizes[e["dtype"]]])[0]
    print("T", name, e["dtype"], ",".join(map(str, e["shape"])), numel)
    for i in sorted({0, 1, numel // 2, numel - 1}):
        if 0 <= i < numel:
            print("V", name, i, float(value(i)).hex())
spans.sort()
pos = 0
for b, end, name in spans:
    assert b == pos, name + ": data not contiguous (gap or overlap)"
    pos = end
assert pos == len(payload), "data section does not end at the end of the file"
)PY";

struct PyTensor {
  std::string dtype, shape;
  int64_t numel = 0;
  std::map<int64_t, double> values;
};

std::map<std::string, PyTensor> read_with_python(const TempDir& dir, const std::string& file) {
  write_text(dir.file("reader.py"), kReader);
  std::string cmd = std::string(kPython) + " " + dir.file("reader.py") + " " + file + " >" + dir.file("py.out") +
                    " 2>" + dir.file("py.err");
  int status = std::system(cmd.c_str());
  EXPECT_EQ(status, 0) << read_text(dir.file("py.err"));
  std::map<std::string, PyTensor> out;
  std::istringstream in(read_text(dir.file("py.out")));
  std::string kind, name;
  while (in >> kind >> name) {
    auto& t = out[name];
    if (kind == "T") {
      in >> t.dtype >> t.shape >> t.numel;
    } else {
      int64_t i;
      std::string hex;
      in >> i >> hex;
      t.values[i] = std::strtod(hex.c_str(), nullptr);
    }
  }
  return out;
}

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
