// ICU BreakIterator over a UText that reads the UTF-8 bytes in place; the rule status of each
// segment tells words (number/letter/kana/ideo) from spaces and punctuation.
//
// ICU costs ~10x more per byte than a scalar loop, and most web text is ASCII with a few
// non-ASCII characters (curly quotes, dashes, accented names). So ASCII stretches take a scalar
// path that follows the same rules for ASCII (UAX #29: letters and digits joined by
// MidLetter/MidNum characters), and ICU only sees an "island" around each non-ASCII character.
// An island is cut at positions p where byte p-1 is ASCII whitespace and byte p is ASCII: UAX #29
// always breaks there (no rule joins whitespace to what follows, except WB3d between two spaces,
// which never makes a word), and no rule looks across such a position (the rules that look two
// characters back or ahead, WB6/7/11/12/7b/7c, need letters, digits or quotes around the middle
// character, and WB4 only attaches Extend/Format/ZWJ, which are not ASCII). So each piece
// segments alone exactly as it does in the whole text; tests compare with ICU over whole texts.
#include "text/words.h"

#include <unicode/brkiter.h>
#include <unicode/utext.h>

#include <array>
#include <cstring>
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

// ASCII classes. ICU's word rules count '@' as a letter (so e-mail addresses stay one word).
enum : uint8_t { kLetter = 1, kDigit = 2, kUnderscore = 4, kSpace = 8, kWordChar = 7 };
constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kLetter;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kLetter;
  t['@'] = kLetter;
  for (int c = '0'; c <= '9'; ++c) t[c] = kDigit;
  t['_'] = kUnderscore;
  t[' '] = t['\t'] = t['\n'] = t['\r'] = t['\f'] = t['\v'] = kSpace;
  return t;
}
constexpr std::array<uint8_t, 256> kClass = make_classes();

// Offset of the first byte >= 0x80 in p[from, to), or `to`.
size_t next_non_ascii(const unsigned char* p, size_t from, size_t to) {
  size_t i = from;
  for (; i + 8 <= to; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    if (v & 0x8080808080808080ull) break;
  }
  for (; i < to; ++i)
    if (p[i] >= 0x80) return i;
  return to;
}

// A piece boundary (see the top of the file): p[i-1] is ASCII whitespace and p[i] is ASCII.
inline bool cut_point(const unsigned char* p, size_t i) {
  return (kClass[p[i - 1]] & kSpace) && p[i] < 0x80;
}

// UAX #29 for ASCII over p[from, to): a word is a run of letters/digits/underscore; ' and . join
// two letters (don't, e.g); . , ; ' join two digits (3.14, 1,000); '.' and '\'' also join a letter
// and a digit pair of the same class only, so "end.Next" stays one word as ICU does (MidNumLet
// between letters). p[to] is never read.
void segment_ascii(const unsigned char* p, size_t from, size_t to, std::vector<WordSpan>& out) {
  size_t i = from;
  while (i < to) {
    if (!(kClass[p[i]] & kWordChar)) {
      ++i;
      continue;
    }
    size_t start = i;
    for (;;) {
      while (i < to && (kClass[p[i]] & kWordChar)) ++i;
      if (i + 1 < to) {
        unsigned char m = p[i];
        uint8_t a = kClass[p[i - 1]], b = kClass[p[i + 1]];
        bool letters = (a & b & kLetter) && (m == '\'' || m == '.');
        bool digits = (a & b & kDigit) && (m == '.' || m == ',' || m == ';' || m == '\'');
        if (letters || digits) {
          ++i;
          continue;
        }
      }
      break;
    }
    auto n = static_cast<uint32_t>(i - start);
    // ICU's rule status is that of the rule that matched last, so it depends on the last two
    // characters: a word ending in a digit, or in a digit and '_', is a number ("v1.2", "a1",
    // "1_"), any other a letter word; a lone '_' is no word at all.
    if (n == 1 && p[start] == '_') continue;
    size_t last = (p[i - 1] == '_' && n > 1) ? i - 2 : i - 1;
    WordKind kind = (kClass[p[last]] & kDigit) ? WordKind::Number : WordKind::Letter;
    out.push_back({static_cast<uint32_t>(start), n, kind, n});
  }
}

uint32_t count_chars(const unsigned char* p, size_t n) {
  uint32_t c = 0;
  for (size_t i = 0; i < n; ++i) c += (p[i] & 0xC0) != 0x80;
  return c;
}

// [A-Za-z0-9]: the word characters of AsciiWordRule::AlnumRuns.
inline bool is_alnum(unsigned char c) { return (kClass[c] & (kLetter | kDigit)) != 0 && c != '@'; }

// The AlnumRuns rule's pieces: calls ascii(at, chunk) for every whitespace-delimited chunk of
// `s` that is all ASCII and other(at, chunk) for the other chunks; `at` is the chunk's offset.
template <class Ascii, class Other>
void for_each_chunk(std::string_view s, Ascii&& ascii, Other&& other) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0, n = s.size();
  while (i < n) {
    while (i < n && (kClass[p[i]] & kSpace)) ++i;
    size_t end = i;
    while (end < n && !(kClass[p[end]] & kSpace)) ++end;
    if (next_non_ascii(p, i, end) == end) ascii(i, s.substr(i, end - i));
    else other(i, s.substr(i, end - i));
    i = end;
  }
}

// Calls fn(begin, end) for every run of [A-Za-z0-9] in an ASCII chunk.
template <class Fn>
void for_each_alnum_run(std::string_view chunk, Fn&& fn) {
  const auto* p = reinterpret_cast<const unsigned char*>(chunk.data());
  for (size_t j = 0; j < chunk.size();) {
    while (j < chunk.size() && !is_alnum(p[j])) ++j;
    size_t k = j;
    while (k < chunk.size() && is_alnum(p[k])) ++k;
    if (k > j) fn(j, k);
    j = k;
  }
}

// ASCII stretches between islands shorter than this are left inside the island: a call into ICU
// costs about as much as this many bytes of ICU segmentation.
constexpr size_t kMinGap = 32;
}  // namespace

struct WordSegmenter::Impl {
  std::unique_ptr<icu::BreakIterator> it = make_word_iterator();
  UText* ut = nullptr;
  ~Impl() {
    if (ut) utext_close(ut);
  }
  // ICU over text[from, to); offsets in `out` are relative to text.
  void icu(std::string_view text, size_t from, size_t to, std::vector<WordSpan>& out) {
    UErrorCode status = U_ZERO_ERROR;
    const char* base = text.data() + from;
    ut = utext_openUTF8(ut, base, static_cast<int64_t>(to - from), &status);
    if (U_FAILURE(status)) return;
    it->setText(ut, status);
    if (U_FAILURE(status)) return;
    const auto* p = reinterpret_cast<const unsigned char*>(base);
    int32_t start = it->first();
    for (int32_t end = it->next(); end != icu::BreakIterator::DONE; start = end, end = it->next()) {
      int32_t rule = it->getRuleStatus();
      if (rule < UBRK_WORD_NONE_LIMIT) continue;
      WordKind kind = rule < UBRK_WORD_NUMBER_LIMIT   ? WordKind::Number
                      : rule < UBRK_WORD_LETTER_LIMIT ? WordKind::Letter
                      : rule < UBRK_WORD_KANA_LIMIT   ? WordKind::Kana
                                                      : WordKind::Ideo;
      auto n = static_cast<uint32_t>(end - start);
      out.push_back({static_cast<uint32_t>(from + static_cast<size_t>(start)), n, kind,
                     count_chars(p + start, n)});
    }
  }
};

WordSegmenter::WordSegmenter() : impl_(std::make_unique<Impl>()) {}
WordSegmenter::~WordSegmenter() = default;

void WordSegmenter::segment(std::string_view text, AsciiWordRule rule, std::vector<WordSpan>& out) {
  if (rule == AsciiWordRule::Uax29) return segment_uax29(text, out);
  out.clear();
  if (text.size() > UINT32_MAX) text = text.substr(0, UINT32_MAX);
  for_each_chunk(
      text,
      [&](size_t at, std::string_view chunk) {
        for_each_alnum_run(chunk, [&](size_t b, size_t e) {
          bool digits = true;
          for (size_t k = b; k < e; ++k) digits = digits && (kClass[static_cast<unsigned char>(chunk[k])] & kDigit);
          auto n = static_cast<uint32_t>(e - b);
          out.push_back({static_cast<uint32_t>(at + b), n, digits ? WordKind::Number : WordKind::Letter, n});
        });
      },
      [&](size_t at, std::string_view chunk) {
        segment_uax29(chunk, chunk_words_);
        for (WordSpan w : chunk_words_) {
          w.begin += static_cast<uint32_t>(at);
          out.push_back(w);
        }
      });
}

void WordSegmenter::segment(std::string_view text, AsciiWordRule rule, std::vector<std::string_view>& out) {
  out.clear();
  if (rule == AsciiWordRule::Uax29) {
    segment_uax29(text, chunk_words_);
    for (const WordSpan& w : chunk_words_) out.push_back(text.substr(w.begin, w.size));
    return;
  }
  for_each_chunk(
      text,
      [&](size_t, std::string_view chunk) {
        for_each_alnum_run(chunk, [&](size_t b, size_t e) { out.push_back(chunk.substr(b, e - b)); });
      },
      [&](size_t, std::string_view chunk) {
        segment_uax29(chunk, chunk_words_);
        for (const WordSpan& w : chunk_words_) out.push_back(chunk.substr(w.begin, w.size));
      });
}

void WordSegmenter::segment_uax29(std::string_view text, std::vector<WordSpan>& out) {
  out.clear();
  if (text.size() > UINT32_MAX) text = text.substr(0, UINT32_MAX);
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t done = 0;  // text[0, done) is segmented; `done` is 0 or a cut point
  for (size_t x = next_non_ascii(p, 0, n); x < n;) {
    // The island starts at the last cut point at or before x (never before `done`)...
    size_t begin = x;
    while (begin > done && !cut_point(p, begin)) --begin;
    // ...and ends at the first cut point after its last non-ASCII byte that is followed by at
    // least kMinGap ASCII bytes (or by the end of the text).
    size_t end = x + 1;
    for (;;) {
      while (end < n && !cut_point(p, end)) ++end;
      if (end >= n) break;
      size_t next = next_non_ascii(p, end, std::min(n, end + kMinGap));
      if (next >= std::min(n, end + kMinGap)) break;
      end = next + 1;
    }
    segment_ascii(p, done, begin, out);
    impl_->icu(text, begin, end, out);
    done = end;
    x = next_non_ascii(p, end, n);
  }
  segment_ascii(p, done, n, out);
}

void WordSegmenter::segment_icu(std::string_view text, std::vector<WordSpan>& out) {
  out.clear();
  if (text.size() > UINT32_MAX) text = text.substr(0, UINT32_MAX);
  impl_->icu(text, 0, text.size(), out);
}

}  // namespace nlm::text
