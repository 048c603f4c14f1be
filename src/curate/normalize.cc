// Normalisation passes. Mojibake repair re-encodes each maximal run of non-ASCII characters that
// all exist in Windows-1252 back to bytes; when those bytes are valid UTF-8 with fewer characters
// the run was mojibake and is replaced. A lone "é" or "ü" re-encodes to a byte that is not valid
// UTF-8, so real Latin-1 text is left alone. Runs twice to undo double encoding.
#include "curate/normalize.h"

#include <opencc/SimpleConverter.hpp>
#include <unicode/normalizer2.h>
#include <unicode/bytestream.h>

#include <cstring>
#include <filesystem>

#include "core/options.h"
#include "core/error.h"
#include "curate/doc_context.h"
#include "curate/text_util.h"
#include "text/utf8.h"

namespace nlm::curate {

void declare(opt::Schema& s, NormalizeOptions& o) {
  s.choice("unicode_form", o.unicode_form, {{"NFC", "NFC"}, {"NFKC", "NFKC"}, {"none", "none"}},
           "Unicode normal form: NFC (safe for every language), NFKC (also folds full-width and "
           "compatibility forms) or none");
  s.add("fix_mojibake", o.fix_mojibake, "Repair UTF-8 mis-decoded as Windows-1252/Latin-1");
  s.add("remove_control", o.remove_control, "Drop control characters except tab and newline");
  s.add("remove_zero_width", o.remove_zero_width, "Drop zero-width and invisible characters (not ZWJ/ZWNJ)");
  s.add("normalize_whitespace", o.normalize_whitespace, "Line endings, spaces and blank lines made uniform");
  s.add("opencc", o.opencc, "OpenCC conversion (s2hk, t2s, ... or a .json path); empty for none");
}

namespace {
// Windows-1252 0x80..0x9F; bytes undefined there map to the C1 code point of the same value
// (as browsers and ftfy's sloppy-windows-1252 do).
constexpr uint16_t kCp1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

// The Windows-1252 byte of code point `cp`, or -1.
int cp1252_byte(uint32_t cp) {
  if (cp >= 0xA0 && cp <= 0xFF) return static_cast<int>(cp);
  for (int i = 0; i < 32; ++i)
    if (kCp1252High[i] == cp) return 0x80 + i;
  return -1;
}

bool fix_mojibake_once(std::string& text) {
  if (std::memchr(text.data(), 0xC3, text.size()) == nullptr &&
      std::memchr(text.data(), 0xC2, text.size()) == nullptr &&
      std::memchr(text.data(), 0xC5, text.size()) == nullptr)
    return false;
  std::string out, bytes;
  out.reserve(text.size());
  bool changed = false;
  size_t i = 0;
  std::string_view s = text;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      size_t j = i + 1;
      while (j < s.size() && static_cast<unsigned char>(s[j]) < 0x80) ++j;
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    // A maximal run of characters that all have a Windows-1252 byte >= 0x80.
    size_t run_start = i, j = i, run_chars = 0;
    bytes.clear();
    while (j < s.size() && static_cast<unsigned char>(s[j]) >= 0x80) {
      size_t k = j;
      int b = cp1252_byte(text::utf8_next(s, k));
      if (b < 0) break;
      bytes.push_back(static_cast<char>(b));
      ++run_chars;
      j = k;
    }
    if (run_chars >= 2 && text::utf8_valid(bytes) && text::utf8_length(bytes) < run_chars) {
      out.append(bytes);
      changed = true;
      i = j;
    } else if (j > run_start) {
      out.append(s.substr(run_start, j - run_start));
      i = j;
    } else {
      size_t k = i;
      text::utf8_next(s, k);
      out.append(s.substr(i, k - i));
      i = k;
    }
  }
  if (changed) text.swap(out);
  return changed;
}

bool is_zero_width(uint32_t cp) {
  return cp == 0x200B || cp == 0x2060 || cp == 0xFEFF || cp == 0x00AD || cp == 0x180E;
}
bool is_unicode_space(uint32_t cp) {
  return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000 || cp == '\t' || cp == '\v' || cp == '\f';
}
}  // namespace

bool fix_mojibake(std::string& text) {
  bool a = fix_mojibake_once(text);
  bool b = a && fix_mojibake_once(text);
  return a || b;
}

namespace {
// Printable ASCII other than space: kept as they are by every pass.
inline bool plain(char c) { return static_cast<unsigned char>(c - 0x21) < 0x5E; }

// clean_characters into `out` (a reused buffer). Runs of printable ASCII, with single spaces
// between them, are copied in one piece; everything else goes character by character.
bool clean_characters_into(std::string& text, bool control, bool zero_width, bool whitespace,
                           std::string& out) {
  out.clear();
  out.reserve(text.size());
  std::string_view s = text;
  const size_t n = s.size();
  size_t pending_spaces = 0;   // spaces seen since the last visible character on this line
  size_t pending_newlines = 0; // newlines since the last visible character
  auto flush_breaks = [&] {
    if (!out.empty()) {
      if (pending_newlines) out.append(std::min<size_t>(pending_newlines, 2), '\n');
      else if (pending_spaces) out.push_back(' ');
    }
    pending_newlines = 0;
    pending_spaces = 0;
  };
  for (size_t i = 0; i < n;) {
    if (plain(s[i])) {
      // A single space between two printable characters stays as it is in every mode.
      size_t j = i + 1;
      for (;;) {
        while (j < n && plain(s[j])) ++j;
        if (j + 1 < n && s[j] == ' ' && plain(s[j + 1])) {
          j += 2;
          continue;
        }
        break;
      }
      if (whitespace) flush_breaks();
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t start = i;
    if (c < 0x80) {
      cp = c;
      ++i;
    } else {
      cp = text::utf8_next(s, i);
    }
    if (whitespace) {
      if (cp == '\r') {
        if (i < n && s[i] == '\n') ++i;
        cp = '\n';
      }
      if (cp == 0x2028 || cp == 0x2029) cp = '\n';
      if (cp == '\n') {
        ++pending_newlines;
        pending_spaces = 0;
        continue;
      }
      if (is_unicode_space(cp) || cp == ' ') {
        ++pending_spaces;
        continue;
      }
    }
    bool ctl = (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F ||
               (cp >= 0x80 && cp <= 0x9F);
    if (control && ctl) continue;
    if (zero_width && is_zero_width(cp)) continue;
    if (whitespace) flush_breaks();
    out.append(s.data() + start, i - start);
  }
  if (out == text) return false;
  text.swap(out);
  return true;
}
}  // namespace

bool clean_characters(std::string& text, bool control, bool zero_width, bool whitespace) {
  std::string out;
  return clean_characters_into(text, control, zero_width, whitespace, out);
}

struct Normalize::Impl {
  NormalizeOptions opt;
  const icu::Normalizer2* normalizer = nullptr;
  std::unique_ptr<opencc::SimpleConverter> opencc;
  std::string buffer, scratch;
};

Normalize::Normalize(const NormalizeOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->opt = options;
  UErrorCode status = U_ZERO_ERROR;
  if (options.unicode_form == "NFC") impl_->normalizer = icu::Normalizer2::getNFCInstance(status);
  else if (options.unicode_form == "NFKC") impl_->normalizer = icu::Normalizer2::getNFKCInstance(status);
  else if (options.unicode_form != "none")
    usage_error("unknown unicode_form '" + options.unicode_form + "'", "normalize step",
                "use NFC, NFKC or none");
  if (U_FAILURE(status)) runtime_error("ICU normalizer unavailable", u_errorName(status));
  if (!options.opencc.empty()) {
    std::string path = options.opencc;
    if (path.find('/') == std::string::npos) {
      if (path.size() < 5 || path.substr(path.size() - 5) != ".json") path += ".json";
      path = "/usr/share/opencc/" + path;
    }
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      usage_error("OpenCC config not found: " + path, "normalize.opencc",
                  "name one in /usr/share/opencc (s2hk, t2s, ...) or install libopencc-data");
    try {
      impl_->opencc = std::make_unique<opencc::SimpleConverter>(path);
    } catch (const std::exception& e) {
      usage_error(std::string("cannot load OpenCC config: ") + e.what(), path);
    }
  }
}

Normalize::~Normalize() = default;

std::optional<Rejection> Normalize::apply(corpus::Document& doc, DocContext& ctx) {
  const auto& o = impl_->opt;
  bool changed = false;
  if (o.fix_mojibake && fix_mojibake(doc.text)) {
    ctx.count("normalize", "mojibake");
    changed = true;
  }
  if ((o.remove_control || o.remove_zero_width || o.normalize_whitespace) &&
      clean_characters_into(doc.text, o.remove_control, o.remove_zero_width, o.normalize_whitespace,
                            impl_->scratch)) {
    ctx.count("normalize", "characters");
    changed = true;
  }
  if (impl_->normalizer) {
    if (!is_ascii(doc.text)) {
      UErrorCode status = U_ZERO_ERROR;
      icu::StringPiece piece(doc.text.data(), static_cast<int32_t>(doc.text.size()));
      if (!impl_->normalizer->isNormalizedUTF8(piece, status) && U_SUCCESS(status)) {
        impl_->buffer.clear();
        icu::StringByteSink<std::string> sink(&impl_->buffer);
        impl_->normalizer->normalizeUTF8(0, piece, sink, nullptr, status);
        if (U_SUCCESS(status) && impl_->buffer != doc.text) {
          doc.text.swap(impl_->buffer);
          ctx.count("normalize", "unicode_" + o.unicode_form);
          changed = true;
        }
      }
    }
  }
  if (impl_->opencc) {
    std::string converted = impl_->opencc->Convert(doc.text);
    if (converted != doc.text) {
      doc.text.swap(converted);
      ctx.count("normalize", "opencc");
      changed = true;
    }
  }
  if (changed) ctx.text_changed();
  return std::nullopt;
}

}  // namespace nlm::curate
