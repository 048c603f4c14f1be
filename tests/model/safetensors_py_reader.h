// An independent safetensors reader for the tests: /usr/bin/python3 with the standard library
// only (struct + json), following the safetensors spec: 8-byte little-endian header length, a
// JSON header of {dtype, shape, data_offsets} (plus optional "__metadata__" of strings), the
// header padded with spaces to a multiple of 8 bytes, and tensor data laid out back to back from
// offset 0 to the end of the file. It knows the float dtypes, I32, and the quantised checkpoints'
// I8, U8 and F8_E4M3 (decoded by the OCP E4M3 definition, not by nativelm's code).
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <sstream>
#include <string>

#include "test_util.h"

namespace nlm::testing {

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
sizes = {"F32": 4, "BF16": 2, "F16": 2, "F64": 8, "I32": 4, "I8": 1, "U8": 1, "F8_E4M3": 1}
fmt = {"F32": "<f", "F16": "<e", "F64": "<d", "I32": "<i", "I8": "<b", "U8": "<B"}
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
        if e["dtype"] == "F8_E4M3":  # OCP E4M3: bias 7, no infinities, S.1111.111 is NaN
            u = payload[off]
            sign, ex, m = (-1.0 if u & 0x80 else 1.0), (u >> 3) & 15, u & 7
            if ex == 15 and m == 7:
                return math.nan
            return sign * (m / 8 * 2.0 ** -6 if ex == 0 else (1 + m / 8) * 2.0 ** (ex - 7))
        return struct.unpack(fmt[e["dtype"]], payload[off:off + sizes[e["dtype"]]])[0]
    print("T", name, e["dtype"], ",".join(map(str, e["shape"])) or "-", numel)  # "-": a scalar
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

inline std::map<std::string, PyTensor> read_with_python(const TempDir& dir, const std::string& file) {
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

}  // namespace nlm::testing
