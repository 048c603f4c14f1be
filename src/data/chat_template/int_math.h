// Integer arithmetic for templates. Python's ints never overflow and nativelm's are 64-bit, so a
// result outside int64 (9223372036854775807 + 1, -(-2**63), 2 ** 64, int(1e300)) is a template
// error naming the line instead of undefined behaviour.
#pragma once
#include <cstdint>

namespace nlm::data::chat_template {

int64_t int_add(int64_t a, int64_t b, int line);
int64_t int_sub(int64_t a, int64_t b, int line);
int64_t int_mul(int64_t a, int64_t b, int line);
int64_t int_neg(int64_t a, int line);
// a ** b for b >= 0, in at most 63 multiplications (1 ** 10**18 used to loop 10**18 times).
int64_t int_pow(int64_t a, int64_t b, int line);
// Python's // and % (rounding toward negative infinity); b must not be zero.
int64_t int_floor_div(int64_t a, int64_t b, int line);
int64_t int_mod(int64_t a, int64_t b, int line);
// int(d) for a finite double: truncated toward zero; an error when it does not fit.
int64_t int_of_double(double d, int line);

}  // namespace nlm::data::chat_template
