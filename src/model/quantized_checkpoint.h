// Quantised HF folders as `nativelm quantize` writes them (docs/compress.md): a linear's
// "<name>.weight" stored as I8 (int8 per output row), U8 (int4 two to a byte, groups along the
// row) or F8_E4M3 (one scale per tensor), beside "<name>.weight_scale" (F32) and, for FP8,
// "<name>.input_scale"; config.json carries a quantization_config. Two readers: the training
// model gets the linears dequantised to fp32 (eval ppl, fine-tuning), the inference engine gets
// them packed as stored, with no second rounding.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "model/safetensors.h"
#include "tensor/cpu/packed_linear.h"

namespace nlm::model {

// What config.json's quantization_config says; format is "" for a model that is not quantised.
// A quantization_config nativelm did not write (another tool's) is a usage error naming it.
struct QuantizationInfo {
  std::string format;      // "int8", "int4" or "fp8"
  int64_t group_size = 0;  // int4: columns per scale
  bool awq = false;        // int4: scales searched AWQ-style and folded into the norms
};
QuantizationInfo read_quantization_info(const std::string& dir);

// Whether an entry holds a quantised weight (I8, U8 or F8_E4M3).
bool is_quantized_entry(const SafetensorsEntry& e);

// A quantised "<name>.weight" entry of `reader` as fp32 [rows, cols] (the model's shape `want`).
// A usage error naming the file when the scale is missing or its shape does not fit.
void dequantize_weight(const SafetensorsReader& reader, const SafetensorsEntry& e, const tensor::Shape& want,
                       float* out);

// The packed matrix of a quantised "<name>.weight" entry (its rows and columns as the model needs).
tensor::cpu::PackedMatrix packed_weight(const SafetensorsReader& reader, const SafetensorsEntry& e,
                                        const tensor::Shape& want);

class Llama;

// Every quantised linear of a folder, packed, keyed by the parameter name ("...q_proj.weight");
// nullptr when the folder holds none (the Decoder constructor takes it). `model` (the folder
// loaded) gives each parameter's shape.
using PackedLinears = std::map<std::string, tensor::cpu::PackedMatrix>;
std::shared_ptr<const PackedLinears> load_packed_linears(const std::string& dir, const Llama& model);

}  // namespace nlm::model
