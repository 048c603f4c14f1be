// The constants of the GGUF v3 container that llama.cpp reads (ggml's docs/gguf.md): the magic
// and version, the metadata value types, and the ggml tensor types nativelm writes with their
// block geometry. Shared by the writer, the reader and the exporter so each number lives once.
#pragma once
#include <cstdint>
#include <string_view>

namespace nlm::model::gguf {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
inline constexpr uint32_t kVersion = 3;
inline constexpr uint32_t kDefaultAlignment = 32;  // general.alignment when absent
inline constexpr uint32_t kQuantizationVersion = 2;  // general.quantization_version of the block types

// Metadata value types (gguf_type).
enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
  String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};
// Bytes of one scalar of type t (0 for String and Array, which have a variable size).
size_t value_size(ValueType t);
bool valid_value_type(uint32_t t);

// ggml tensor types written here (ggml_type). Others are read as opaque (is_known false).
enum class TensorType : uint32_t { F32 = 0, F16 = 1, Q4_0 = 2, Q5_0 = 6, Q8_0 = 8, Q4_K = 12, Q6_K = 14, BF16 = 30 };
bool known_tensor_type(uint32_t t);
std::string_view tensor_type_name(TensorType t);  // "F32", "Q8_0", ...
// Elements per block (1 for float types, 32 for Q4_0/Q5_0/Q8_0, 256 for the K-quant super-blocks
// Q4_K/Q6_K) and bytes per block.
int64_t block_elements(TensorType t);
int64_t block_bytes(TensorType t);
// Bytes of a row of n elements; n must be a multiple of block_elements(t).
uint64_t row_bytes(TensorType t, int64_t n);

// llama_ftype values for general.file_type ("mostly" the type of the 2-D weights).
enum class FileType : uint32_t {
  AllF32 = 0, MostlyF16 = 1, MostlyQ4_0 = 2, MostlyQ8_0 = 7, MostlyQ4_K_M = 15, MostlyBF16 = 32
};

// tokenizer.ggml.token_type values (llama_token_type).
enum class TokenType : int32_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

}  // namespace nlm::model::gguf
