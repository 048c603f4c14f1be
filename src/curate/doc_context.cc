// Lazy per-document analysis for the steps of a chain.
#include "curate/doc_context.h"

#include "core/error.h"
#include "core/hash.h"
#include "curate/profiles.h"
#include "curate/text_util.h"
#include "text/script.h"
#include "text/utf8.h"

namespace nlm::curate {

DocContext::DocContext(const ProfileMap& profiles) : profiles_(profiles) {
  auto it = profiles_.find("default");
  if (it == profiles_.end())
    usage_error("no 'default' threshold profile", "curate config", "keep the built-in 'default' profile");
  default_profile_ = &it->second;
}

void DocContext::reset(const corpus::Document& doc) {
  doc_ = &doc;
  text_ = doc.text;
  analysed_ = 0;
  profile_ = nullptr;
  lang_.clear();
  lang_score_ = 0;
  if (doc.field("lang")) {
    if (auto l = doc.string_field("lang")) lang_ = *l;
    if (auto s = doc.number_field("lang_score")) lang_score_ = *s;
  }
}

const std::vector<std::string_view>& DocContext::lines() {
  if (!(analysed_ & kLines)) {
    lines_.clear();
    size_t pos = 0;
    while (pos <= text_.size()) {
      size_t end = text_.find('\n', pos);
      if (end == std::string_view::npos) end = text_.size();
      std::string_view line = text_.substr(pos, end - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      lines_.push_back(line);
      pos = end + 1;
    }
    analysed_ |= kLines;
  }
  return lines_;
}

const std::vector<DocContext::Line>& DocContext::nonblank_lines() {
  if (!(analysed_ & kNonblank)) {
    nonblank_.clear();
    bool plain = ascii();
    for (std::string_view raw : lines()) {
      std::string_view t = trim(raw);
      if (t.empty()) continue;
      nonblank_.push_back({t, hash64(t), plain ? t.size() : text::utf8_length(t)});
    }
    analysed_ |= kNonblank;
  }
  return nonblank_;
}

const std::vector<text::WordSpan>& DocContext::words() {
  if (!(analysed_ & kWords)) {
    segmenter_.segment(text_, text::AsciiWordRule::Uax29, words_);
    analysed_ |= kWords;
  }
  return words_;
}

uint64_t DocContext::chars() {
  if (!(analysed_ & kChars)) {
    chars_ = ascii() ? text_.size() : text::utf8_length(text_);
    analysed_ |= kChars;
  }
  return chars_;
}

bool DocContext::ascii() {
  if (!(analysed_ & kAscii)) {
    ascii_ = is_ascii(text_);
    analysed_ |= kAscii;
  }
  return ascii_;
}

void DocContext::set_lang(std::string lang, double score) {
  lang_ = std::move(lang);
  lang_score_ = score;
  profile_ = nullptr;
}

const Profile& DocContext::profile() {
  if (profile_) return *profile_;
  if (!lang_.empty()) {
    auto it = profiles_.find(lang_);
    if (it != profiles_.end()) return *(profile_ = &it->second);
    size_t cut = lang_.find_first_of("-_");
    if (cut != std::string::npos) {
      it = profiles_.find(lang_.substr(0, cut));
      if (it != profiles_.end()) return *(profile_ = &it->second);
    }
  }
  // No profile for the language (or no language): the profile of the text's main script, if any.
  std::string script = text::main_script_code(text_);
  if (!script.empty() && script != "Latn") {
    auto it = profiles_.find(script_profile_name(script));
    if (it != profiles_.end()) return *(profile_ = &it->second);
  }
  return *(profile_ = default_profile_);
}

}  // namespace nlm::curate
