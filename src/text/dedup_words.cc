// ICU-backed normalisation and word break, with ASCII fast paths so English-like text never
// pays for ICU. Chunks are whitespace-delimited, so an edit in one chunk changes only its words.
#include "text/dedup_words.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>

#include "core/error.h"
#include "text/words.h"

namespace nlm::text {
namespace {

inline bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
inline bool is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}
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

// Non-ASCII chunks go through the curation word segmenter, which is ICU's word break over the
// UTF-8 bytes (word-like segments only) with ICU's own results on ASCII stretches.
struct DedupWordSplitter::Impl {
  WordSegmenter segmenter;
  std::vector<WordSpan> spans;
};

DedupWordSplitter::DedupWordSplitter() : impl_(std::make_unique<Impl>()) {}

DedupWordSplitter::~DedupWordSplitter() = default;

void DedupWordSplitter::split(std::string_view s, std::vector<std::string_view>& out) {
  out.clear();
  size_t i = 0, n = s.size();
  while (i < n) {
    while (i < n && is_space(static_cast<unsigned char>(s[i]))) ++i;
    size_t end = i;
    while (end < n && !is_space(static_cast<unsigned char>(s[end]))) ++end;
    std::string_view chunk = s.substr(i, end - i);
    if (all_ascii(chunk)) {
      for (size_t j = 0; j < chunk.size();) {
        while (j < chunk.size() && !is_alnum(static_cast<unsigned char>(chunk[j]))) ++j;
        size_t k = j;
        while (k < chunk.size() && is_alnum(static_cast<unsigned char>(chunk[k]))) ++k;
        if (k > j) out.push_back(chunk.substr(j, k - j));
        j = k;
      }
    } else if (!chunk.empty()) {
      impl_->segmenter.segment(chunk, impl_->spans);
      for (const WordSpan& w : impl_->spans) out.push_back(chunk.substr(w.begin, w.size));
    }
    i = end;
  }
}

}  // namespace nlm::text
