// ICU-backed normalisation and word break, with ASCII fast paths so English-like text never
// pays for ICU. Chunks are whitespace-delimited, so an edit in one chunk changes only its words.
#include "text/dedup_words.h"

#include <unicode/brkiter.h>
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/ubrk.h>
#include <unicode/utext.h>

#include "core/error.h"

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

struct DedupWordSplitter::Impl {
  std::unique_ptr<icu::BreakIterator> brk;
  UText* text = nullptr;
  ~Impl() {
    if (text) utext_close(text);
  }
};

DedupWordSplitter::DedupWordSplitter() : impl_(std::make_unique<Impl>()) {
  UErrorCode status = U_ZERO_ERROR;
  impl_->brk.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
  if (U_FAILURE(status) || !impl_->brk) runtime_error("cannot create the ICU word break iterator", "libicu");
}

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
      UErrorCode status = U_ZERO_ERROR;
      impl_->text = utext_openUTF8(impl_->text, chunk.data(), static_cast<int64_t>(chunk.size()), &status);
      if (U_FAILURE(status)) runtime_error("ICU could not open text for word break", "libicu");
      impl_->brk->setText(impl_->text, status);
      int32_t start = impl_->brk->first();
      for (int32_t stop = impl_->brk->next(); stop != icu::BreakIterator::DONE;
           start = stop, stop = impl_->brk->next()) {
        if (impl_->brk->getRuleStatus() >= UBRK_WORD_NONE_LIMIT)
          out.push_back(chunk.substr(static_cast<size_t>(start), static_cast<size_t>(stop - start)));
      }
    }
    i = end;
  }
}

}  // namespace nlm::text
