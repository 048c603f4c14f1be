// Overflow-checked int64 arithmetic with Python's semantics (see int_math.h).
#include "data/chat_template/int_math.h"

#include <cmath>
#include <limits>

#include "data/chat_template/lexer.h"

namespace nlm::data::chat_template {

namespace {
[[noreturn]] void overflow(int line) {
  template_error(line, "integer result outside 64 bits (Python's ints are unbounded, nativelm's are not)");
}
}  // namespace

int64_t int_add(int64_t a, int64_t b, int line) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) overflow(line);
  return r;
}

int64_t int_sub(int64_t a, int64_t b, int line) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) overflow(line);
  return r;
}

int64_t int_mul(int64_t a, int64_t b, int line) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) overflow(line);
  return r;
}

int64_t int_neg(int64_t a, int line) { return int_sub(0, a, line); }

int64_t int_pow(int64_t a, int64_t b, int line) {
  if (a == 0) return b == 0 ? 1 : 0;
  if (a == 1) return 1;
  if (a == -1) return b % 2 ? -1 : 1;
  if (b >= 64) overflow(line);  // |a| >= 2: 2 ** 63 already overflows
  int64_t result = 1;
  for (int64_t k = 0; k < b; ++k) result = int_mul(result, a, line);
  return result;
}

int64_t int_floor_div(int64_t a, int64_t b, int line) {
  if (a == std::numeric_limits<int64_t>::min() && b == -1) overflow(line);
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t int_mod(int64_t a, int64_t b, int) {
  if (b == -1) return 0;  // INT64_MIN % -1 would trap
  int64_t m = a % b;
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

int64_t int_of_double(double d, int line) {
  double t = std::trunc(d);
  // 2^63 is exact as a double; every double in [-2^63, 2^63) converts.
  if (!(t >= -9223372036854775808.0 && t < 9223372036854775808.0)) overflow(line);
  return static_cast<int64_t>(t);
}

}  // namespace nlm::data::chat_template
