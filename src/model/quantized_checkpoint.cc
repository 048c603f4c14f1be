// Reading quantised HF folders (see quantized_checkpoint.h).
#include "model/quantized_checkpoint.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "core/json_ints.h"
#include "model/hf_checkpoint.h"
#include "model/llama.h"
#include "tensor/dtype.h"
#include "tensor/quantize.h"

namespace nlm::model {

using nlohmann::json;
using tensor::DType;

QuantizationInfo read_quantization_info(const std::string& dir) {
  const std::string path = dir + "/config.json";
  QuantizationInfo q;
  if (!std::filesystem::exists(path)) return q;
  const std::string text = read_file(path);
  check_json_depth(text, path);
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("quantization_config")) return q;
  const json& c = j["quantization_config"];
  if (!c.is_object() || !c.contains("nativelm") || !c["nativelm"].is_object()) {
    const std::string method = c.is_object() && c.contains("quant_method") ? c["quant_method"].dump() : "unknown";
    usage_error("the model is quantised by another tool (quant_method " + method + ")", path,
                "nativelm loads the folders 'nativelm quantize' writes; start from the unquantised model");
  }
  const json& n = c["nativelm"];
  if (n.contains("format") && n["format"].is_string()) q.format = n["format"].get<std::string>();
  if (n.contains("group_size") && !n["group_size"].is_null())
    q.group_size = json_int(n["group_size"], "quantization_config.nativelm.group_size", path);
  q.awq = n.contains("awq") && n["awq"].is_boolean() && n["awq"].get<bool>();
  if (q.format != "int8" && q.format != "int4" && q.format != "fp8")
    usage_error("quantization_config names an unknown format '" + q.format + "'", path, "use int8, int4 or fp8");
  return q;
}

bool is_quantized_entry(const SafetensorsEntry& e) {
  return e.dtype == DType::I8 || e.dtype == DType::U8 || e.dtype == DType::F8_E4M3;
}

namespace {

// The fp32 values of "<base>.<suffix>" (a usage error naming the file when absent or not F32).
std::vector<float> scale_of(const SafetensorsReader& r, const std::string& weight_name, const std::string& suffix) {
  const std::string name = weight_name.substr(0, weight_name.size() - 7) + "." + suffix;  // "...weight" → "...weight_scale"
  const SafetensorsEntry* e = r.find(name);
  if (!e || e->dtype != DType::F32)
    usage_error("quantised tensor '" + weight_name + "' has no F32 '" + name + "'", r.path(),
                "quantise the model again with nativelm quantize");
  std::vector<float> v(static_cast<size_t>(tensor::shape_numel(e->shape)));
  tensor::convert(r.data(*e), DType::F32, v.data(), DType::F32, v.size());
  return v;
}

[[noreturn]] void bad_shape(const SafetensorsReader& r, const SafetensorsEntry& e, const std::string& what) {
  usage_error("quantised tensor '" + e.name + "' (" + std::string(tensor::dtype_name(e.dtype)) + " " +
                  tensor::shape_string(e.shape) + "): " + what,
              r.path(), "use the config.json that came with these weights");
}

}  // namespace

tensor::cpu::PackedMatrix packed_weight(const SafetensorsReader& r, const SafetensorsEntry& e, const tensor::Shape& want) {
  using tensor::cpu::PackedMatrix;
  if (want.size() != 2 || !e.name.ends_with(".weight")) bad_shape(r, e, "only linear weights are stored quantised");
  const int64_t rows = want[0], cols = want[1];
  const uint8_t* data = r.data(e);
  switch (e.dtype) {
    case DType::I8: {
      if (e.shape != want) bad_shape(r, e, "the model needs " + tensor::shape_string(want));
      const auto s = scale_of(r, e.name, "weight_scale");
      if (int64_t(s.size()) != rows) bad_shape(r, e, "weight_scale needs one value per row");
      return PackedMatrix::from_int8(reinterpret_cast<const int8_t*>(data), s.data(), rows, cols);
    }
    case DType::U8: {
      if (e.shape != tensor::Shape{rows, cols / 2} || cols % 2)
        bad_shape(r, e, "int4 needs [" + std::to_string(rows) + ", " + std::to_string(cols / 2) + "] bytes");
      const auto s = scale_of(r, e.name, "weight_scale");
      if (s.empty() || int64_t(s.size()) % rows || cols % (int64_t(s.size()) / rows))
        bad_shape(r, e, "weight_scale needs [rows, cols/group_size] values");
      const int64_t group = cols / (int64_t(s.size()) / rows);
      std::vector<int8_t> q(static_cast<size_t>(rows * cols));
      tensor::unpack_int4(data, rows * cols, q.data());
      return PackedMatrix::from_int4(q.data(), s.data(), rows, cols, group);
    }
    case DType::F8_E4M3: {
      if (e.shape != want) bad_shape(r, e, "the model needs " + tensor::shape_string(want));
      const auto s = scale_of(r, e.name, "weight_scale");
      if (s.size() != 1) bad_shape(r, e, "weight_scale must be one value (per-tensor FP8)");
      std::vector<float> rs(static_cast<size_t>(rows), s[0]);
      return PackedMatrix::from_fp8(data, rs.data(), rows, cols);
    }
    default:
      bad_shape(r, e, "not a quantised dtype");
  }
}

void dequantize_weight(const SafetensorsReader& r, const SafetensorsEntry& e, const tensor::Shape& want, float* out) {
  const auto p = packed_weight(r, e, want);
  for (int64_t row = 0; row < p.rows; ++row) p.row(row, out + row * p.cols);
}

std::shared_ptr<const PackedLinears> load_packed_linears(const std::string& dir, const Llama& model) {
  std::map<std::string, tensor::Shape> shapes;
  for (const Param& p : model.params()) shapes[p.name] = p.value.shape();
  auto out = std::make_shared<PackedLinears>();
  for (const std::string& f : hf_weight_files(dir)) {
    SafetensorsReader r(f);
    for (const SafetensorsEntry& e : r.entries()) {
      if (!is_quantized_entry(e)) continue;
      auto it = shapes.find(e.name);
      if (it == shapes.end()) bad_shape(r, e, "the model has no such parameter");
      (*out)[e.name] = packed_weight(r, e, it->second);
    }
  }
  if (out->empty()) return nullptr;
  return out;
}

}  // namespace nlm::model
