// Scalar conversions between tensor element types (see dtype.h).
#include "tensor/dtype.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "core/error.h"

namespace nlm::tensor {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::BF16: return 2;
    case DType::F16: return 2;
    case DType::I32: return 4;
    case DType::I8: return 1;
    case DType::U8: return 1;
    case DType::F8_E4M3: return 1;
  }
  return 0;
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F64: return "F64";
    case DType::BF16: return "BF16";
    case DType::F16: return "F16";
    case DType::I32: return "I32";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::F8_E4M3: return "F8_E4M3";
  }
  return "?";
}

bool parse_dtype(std::string_view name, DType& out) {
  for (DType t : {DType::F32, DType::F64, DType::BF16, DType::F16, DType::I32, DType::I8, DType::U8, DType::F8_E4M3})
    if (dtype_name(t) == name) {
      out = t;
      return true;
    }
  return false;
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mant = x & 0x7fffffu;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xff);
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0));
  int32_t e = exp - 127 + 15;
  if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (e <= 0) {                                                    // subnormal or zero
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) ++half;  // may carry into exponent: fine
  return static_cast<uint16_t>(half);
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400u));
      x = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

uint8_t f32_to_e4m3(float f) {
  if (std::isnan(f)) return 0x7F;
  const uint8_t sign = std::signbit(f) ? 0x80 : 0x00;
  float a = std::fabs(f);
  if (a >= 448.0f) return sign | 0x7E;  // saturate (±inf too): 1.75·2^8
  // Subnormals (exponent field 0) are multiples of 2^-9; below 2^-6 the spacing stays 2^-9.
  int e;
  std::frexp(a, &e);  // a = m·2^e, m in [0.5, 1): the leading bit is 2^(e-1)
  const int exp = std::max(e - 1, -6);  // the binade's exponent, subnormals share -6
  const float step = std::ldexp(1.0f, exp - 3);  // 3 mantissa bits
  float q = std::nearbyint(a / step) * step;   // round to nearest even (default rounding mode)
  if (q == 0) return sign;
  std::frexp(q, &e);  // rounding may carry into the next binade
  const int qe = std::max(e - 1, -6);
  const uint32_t field = q < std::ldexp(1.0f, -6) ? 0u : static_cast<uint32_t>(qe + 7);
  const uint32_t mant = field == 0 ? static_cast<uint32_t>(q / std::ldexp(1.0f, -9))
                                   : static_cast<uint32_t>(q / std::ldexp(1.0f, qe - 3)) - 8u;
  return static_cast<uint8_t>(sign | (field << 3) | mant);
}

float e4m3_to_f32(uint8_t b) {
  const uint32_t field = (b >> 3) & 0xF, mant = b & 7;
  if (field == 0xF && mant == 7) return std::numeric_limits<float>::quiet_NaN();
  const float v = field == 0 ? std::ldexp(float(mant), -9) : std::ldexp(float(8 + mant), int(field) - 10);
  return b & 0x80 ? -v : v;
}

namespace {
// Element i of a buffer that need not be aligned for its type: safetensors only aligns its data
// section, so a tensor after an odd-sized one starts at any byte (memcpy, not a typed read, which
// would be undefined behaviour and is caught by UBSan).
template <class T>
T get(const void* p, size_t i) {
  T v;
  std::memcpy(&v, static_cast<const unsigned char*>(p) + i * sizeof(T), sizeof(T));
  return v;
}
template <class T>
void put(void* p, size_t i, T v) {
  std::memcpy(static_cast<unsigned char*>(p) + i * sizeof(T), &v, sizeof(T));
}

double load(const void* p, DType t, size_t i) {
  switch (t) {
    case DType::F32: return get<float>(p, i);
    case DType::F64: return get<double>(p, i);
    case DType::BF16: return bf16_to_f32(get<uint16_t>(p, i));
    case DType::F16: return f16_to_f32(get<uint16_t>(p, i));
    case DType::F8_E4M3: return e4m3_to_f32(get<uint8_t>(p, i));
    case DType::I32:
    case DType::I8:
    case DType::U8: break;
  }
  return 0;
}
void store(void* p, DType t, size_t i, double v) {
  switch (t) {
    case DType::F32: put(p, i, static_cast<float>(v)); break;
    case DType::F64: put(p, i, v); break;
    case DType::BF16: put(p, i, f32_to_bf16(static_cast<float>(v))); break;
    case DType::F16: put(p, i, f32_to_f16(static_cast<float>(v))); break;
    case DType::F8_E4M3: put(p, i, f32_to_e4m3(static_cast<float>(v))); break;
    case DType::I32:
    case DType::I8:
    case DType::U8: break;
  }
}
}  // namespace

void convert(const void* src, DType src_type, void* dst, DType dst_type, size_t n) {
  if (src_type == dst_type) {
    std::memcpy(dst, src, n * dtype_size(src_type));
    return;
  }
  auto integer = [](DType t) { return t == DType::I32 || t == DType::I8 || t == DType::U8; };
  if (integer(src_type) || integer(dst_type))
    runtime_error("cannot convert between " + std::string(dtype_name(src_type)) + " and " +
                      std::string(dtype_name(dst_type)) + " (integer types convert only to themselves)",
                  "tensor::convert");
  for (size_t i = 0; i < n; ++i) store(dst, dst_type, i, load(src, src_type, i));
}

}  // namespace nlm::tensor
