// Check-digit validators for the national ID numbers the `pii` step redacts (Spanish DNI/NIE, Hong
// Kong HKID, Chinese resident ID). A checksum is what separates an ID from an order number of the
// same shape, so each ID pattern match is kept only when its check character is right.
#include <string>

#include "curate/pii.h"

namespace nlm::curate {
namespace {
bool digit(char c) { return c >= '0' && c <= '9'; }
bool upper(char c) { return c >= 'A' && c <= 'Z'; }

// Letters, digits and check character without the separators people write (space, '-', '(', ')').
std::string compact(std::string_view raw) {
  std::string s;
  for (char c : raw)
    if (c != ' ' && c != '-' && c != '(' && c != ')') s.push_back(c);
  return s;
}
}  // namespace

bool es_id_valid(std::string_view raw) {
  std::string s = compact(raw);
  if (s.size() != 9 || !upper(s[8])) return false;
  if (s[0] == 'X' || s[0] == 'Y' || s[0] == 'Z') s[0] = static_cast<char>('0' + (s[0] - 'X'));
  long n = 0;
  for (size_t i = 0; i < 8; ++i) {
    if (!digit(s[i])) return false;
    n = n * 10 + (s[i] - '0');
  }
  return "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23] == s[8];
}

bool hkid_valid(std::string_view raw) {
  std::string s = compact(raw);
  if (s.size() != 8 && s.size() != 9) return false;
  size_t letters = s.size() - 7;
  // A one-letter HKID weighs a space (36) in the first letter's place.
  int sum = letters == 1 ? 9 * 36 : 0;
  for (size_t i = 0; i < letters; ++i) {
    if (!upper(s[i])) return false;
    sum += (letters == 1 ? 8 : 9 - static_cast<int>(i)) * (s[i] - 'A' + 10);
  }
  for (size_t i = 0; i < 6; ++i) {
    char c = s[letters + i];
    if (!digit(c)) return false;
    sum += (7 - static_cast<int>(i)) * (c - '0');
  }
  int check = (11 - sum % 11) % 11;
  char want = check == 10 ? 'A' : static_cast<char>('0' + check);
  return s.back() == want;
}

bool cn_id_valid(std::string_view s) {
  if (s.size() != 18) return false;
  static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) {
    if (!digit(s[i])) return false;
    sum += weights[i] * (s[i] - '0');
  }
  char last = s[17] == 'x' ? 'X' : s[17];
  if (last != "10X98765432"[sum % 11]) return false;
  // Digits 7-14 are the birth date, YYYYMMDD: a cheap second check against 18-digit counters.
  auto num = [&](size_t at, size_t len) { return std::stoi(std::string(s.substr(at, len))); };
  int year = num(6, 4), month = num(10, 2), day = num(12, 2);
  return year >= 1900 && year <= 2099 && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

}  // namespace nlm::curate
