// Per-document analysis shared by the steps of a chain: lines, ICU words, character count and
// the threshold profile of the document's language, each computed once on first use and
// recomputed only after a step changed the text. One DocContext per worker thread; its buffers
// are reused from document to document, so the analysis allocates nothing in the steady state.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "corpus/document.h"
#include "text/words.h"

namespace nlm::curate {

struct Profile;
using ProfileMap = std::map<std::string, Profile>;
// Named counters a step adds to the report: group ("pii", "normalize", ...) → key → count.
using Counters = std::map<std::string, std::map<std::string, uint64_t>>;

class DocContext {
 public:
  // `profiles` must contain "default" and outlive the context.
  explicit DocContext(const ProfileMap& profiles);

  // Starts a new document: reads its "lang"/"lang_score" fields if present.
  void reset(const corpus::Document& doc);
  // Drops the cached analysis after a step edited the text.
  void text_changed() {
    analysed_ = 0;
    text_ = doc_->text;
    profile_ = nullptr;
  }

  std::string_view text() const { return text_; }
  // Lines split on '\n' (with a trailing '\r' removed), empty lines included.
  const std::vector<std::string_view>& lines();
  // Non-blank lines, trimmed of ASCII whitespace, with their hash and length in code points (the
  // line-level rules of gopher_quality, gopher_repetition and fineweb all work on these).
  struct Line {
    std::string_view text;
    uint64_t hash = 0;  // hash64 of text
    uint64_t chars = 0;
  };
  const std::vector<Line>& nonblank_lines();
  // Word-like segments (ICU word break; see text/words.h).
  const std::vector<text::WordSpan>& words();
  std::string_view word(const text::WordSpan& w) const { return text_.substr(w.begin, w.size); }
  // Code points of the text.
  uint64_t chars();
  // True when the text is pure ASCII.
  bool ascii();

  // Language as set by a LID step or read from the input record ("" when unknown).
  const std::string& lang() const { return lang_; }
  double lang_score() const { return lang_score_; }
  void set_lang(std::string lang, double score);
  // Threshold profile of the language: exact code, then the part before '-'/'_', then the
  // profile of the text's main script (und-Thai, ...; not Latin), then "default". Cached until
  // the language or the text changes.
  const Profile& profile();

  Counters& counters() { return counters_; }
  void count(const std::string& group, const std::string& key, uint64_t n = 1) {
    counters_[group][key] += n;
  }

 private:
  const ProfileMap& profiles_;
  const Profile* default_profile_;
  const Profile* profile_ = nullptr;  // profile() of the current document, once asked
  const corpus::Document* doc_ = nullptr;
  std::string_view text_;
  enum : unsigned { kLines = 1, kWords = 2, kChars = 4, kAscii = 8, kNonblank = 16 };
  unsigned analysed_ = 0;
  bool ascii_ = false;
  std::vector<std::string_view> lines_;
  std::vector<Line> nonblank_;
  std::vector<text::WordSpan> words_;
  uint64_t chars_ = 0;
  std::string lang_;
  double lang_score_ = 0;
  text::WordSegmenter segmenter_;
  Counters counters_;
  friend class Chain;
};

}  // namespace nlm::curate
