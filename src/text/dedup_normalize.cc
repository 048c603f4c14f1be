// ICU-backed NFKC_Casefold with an ASCII fast path, so English-like text never pays for ICU.
#include "text/dedup_normalize.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>

#include "core/error.h"

namespace nlm::text {
namespace {

inline bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool all_ascii(std::string_view s) {
  unsigned char acc = 0;
  for (char c : s) acc |= static_cast<unsigned char>(c);
  return acc < 0x80;
}

// Collapses whitespace runs (ASCII whitespace and, after NFKC, U+3000 has become ' ') to one space.
void collapse_spaces(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  bool pending = false;
  for (char c : in) {
    if (is_space(static_cast<unsigned char>(c))) {
      pending = !out.empty();
      continue;
    }
    if (pending) out.push_back(' ');
    pending = false;
    out.push_back(c);
  }
}

}  // namespace

void dedup_normalize(std::string_view in, std::string& out) {
  if (all_ascii(in)) {
    collapse_spaces(in, out);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return;
  }
  UErrorCode status = U_ZERO_ERROR;
  static const icu::Normalizer2* norm = icu::Normalizer2::getNFKCCasefoldInstance(status);
  if (!norm) runtime_error("ICU NFKC_Casefold normaliser is unavailable", "libicu");
  std::string folded;
  icu::StringByteSink<std::string> sink(&folded, static_cast<int32_t>(in.size()));
  status = U_ZERO_ERROR;
  norm->normalizeUTF8(0, icu::StringPiece(in.data(), static_cast<int32_t>(in.size())), sink,
                      nullptr, status);
  if (U_FAILURE(status)) folded.assign(in);  // cannot happen on repaired UTF-8; keep the text
  collapse_spaces(folded, out);
}

}  // namespace nlm::text
