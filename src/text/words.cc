// ICU BreakIterator over a UText that reads the UTF-8 bytes in place; the rule status of each
// segment tells words (number/letter/kana/ideo) from spaces and punctuation. Pure-ASCII text takes
// a scalar path that follows the same rules for ASCII (UAX #29: letters and digits joined by
// MidLetter/MidNum characters), because ICU costs ~10x more per byte and most web text is ASCII.
#include "text/words.h"

#include <unicode/brkiter.h>
#include <unicode/utext.h>

#include <mutex>

#include "core/error.h"

namespace nlm::text {

namespace {
std::unique_ptr<icu::BreakIterator> make_word_iterator() {
  static std::once_flag once;
  static std::unique_ptr<icu::BreakIterator> prototype;
  static UErrorCode proto_status = U_ZERO_ERROR;
  std::call_once(once, [] {
    prototype.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), proto_status));
  });
  if (U_FAILURE(proto_status) || !prototype)
    runtime_error("ICU word break iterator unavailable", u_errorName(proto_status),
                  "check the libicu installation (icu data)");
  return std::unique_ptr<icu::BreakIterator>(prototype->clone());
}

bool is_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}
inline bool alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
inline bool digit(unsigned char c) { return c >= '0' && c <= '9'; }
// ICU's word rules count '@' as a letter (so e-mail addresses stay one word).
inline bool letter(unsigned char c) { return alpha(c) || c == '@'; }
inline bool alnum(unsigned char c) { return letter(c) || digit(c) || c == '_'; }

// UAX #29 for ASCII: a word is a run of letters/digits/underscore; ' and . join two letters
// (don't, e.g); . , ; ' join two digits (3.14, 1,000); '.' and '\'' also join a letter and a digit
// pair of the same class only, so "end.Next" stays one word as ICU does (MidNumLet between
// letters).
void segment_ascii(std::string_view s, std::vector<WordSpan>& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    if (!alnum(p[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    bool any_alpha = false;
    for (;;) {
      while (i < n && alnum(p[i])) any_alpha |= letter(p[i++]);
      if (i + 1 < n) {
        unsigned char m = p[i], a = p[i - 1], b = p[i + 1];
        bool letters = letter(a) && letter(b) && (m == '\'' || m == '.');
        bool digits = digit(a) && digit(b) && (m == '.' || m == ',' || m == ';' || m == '\'');
        if (letters || digits) {
          ++i;
          continue;
        }
      }
      break;
    }
    out.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(i - start),
                   any_alpha ? WordKind::Letter : WordKind::Number});
  }
}
}  // namespace

struct WordSegmenter::Impl {
  std::unique_ptr<icu::BreakIterator> it = make_word_iterator();
  UText* ut = nullptr;
  ~Impl() {
    if (ut) utext_close(ut);
  }
};

WordSegmenter::WordSegmenter() : impl_(std::make_unique<Impl>()) {}
WordSegmenter::~WordSegmenter() = default;

void WordSegmenter::segment(std::string_view text, std::vector<WordSpan>& out) {
  out.clear();
  if (text.size() > UINT32_MAX) text = text.substr(0, UINT32_MAX);
  if (is_ascii(text)) {
    segment_ascii(text, out);
    return;
  }
  UErrorCode status = U_ZERO_ERROR;
  impl_->ut = utext_openUTF8(impl_->ut, text.data(), static_cast<int64_t>(text.size()), &status);
  if (U_FAILURE(status)) return;
  impl_->it->setText(impl_->ut, status);
  if (U_FAILURE(status)) return;
  int32_t start = impl_->it->first();
  for (int32_t end = impl_->it->next(); end != icu::BreakIterator::DONE;
       start = end, end = impl_->it->next()) {
    int32_t rule = impl_->it->getRuleStatus();
    if (rule < UBRK_WORD_NONE_LIMIT) continue;
    WordKind kind = rule < UBRK_WORD_NUMBER_LIMIT   ? WordKind::Number
                    : rule < UBRK_WORD_LETTER_LIMIT ? WordKind::Letter
                    : rule < UBRK_WORD_KANA_LIMIT   ? WordKind::Kana
                                                    : WordKind::Ideo;
    out.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(end - start), kind});
  }
}

}  // namespace nlm::text
