// gumbo DOM → paragraphs → jusText classes. max_depth and max_nodes are checked on the tree gumbo
// builds (gumbo_tree.h: measured with an explicit stack, freed without recursion), before the walk,
// which uses an explicit stack too. gumbo itself cannot be told to stop, and its time grows with
// depth times tags (50,000 nested <div/> take most of a minute), so a scan (html_bounds.h) first
// refuses pages whose estimated tree is more than kHtmlScanGuard times a limit.
#include "curate/html_extract.h"

#include <gumbo.h>

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_set>

#include "core/options.h"
#include "curate/gumbo_tree.h"
#include "curate/html_bounds.h"
#include "curate/lid.h"
#include "curate/text_util.h"
#include "text/utf8.h"
#include "text/words.h"

namespace nlm::curate {

void declare(opt::Schema& s, HtmlOptions& o) {
  s.add("length_low", o.length_low, "Shorter paragraphs are short (wide characters count twice)").min(0);
  s.add("length_high", o.length_high, "Good paragraphs are at least this long").min(0);
  s.add("stopwords_low", o.stopwords_low, "Stop-word density of near-good paragraphs").range(0, 1);
  s.add("stopwords_high", o.stopwords_high, "Stop-word density of good paragraphs").range(0, 1);
  s.add("max_link_density", o.max_link_density, "More text inside links than this: boilerplate").range(0, 1);
  s.add("max_heading_distance", o.max_heading_distance, "Keep a heading this close before good text").min(0);
  s.add("max_depth", o.max_depth, "Skip pages whose parsed tree nests deeper (counted as html_too_deep)").min(1);
  s.add("max_nodes", o.max_nodes,
        "Skip pages whose parsed tree has more elements, text runs and comments (counted as html_too_many_nodes)")
      .min(1);
  s.add("max_html_bytes", o.max_html_bytes, "Do not parse larger pages (counted as html_too_large)").min(1);
}

const std::vector<std::string>& justext_stopwords(const std::string& lang) {
  static const std::map<std::string, std::vector<std::string>> lists = {
      {"en", {"a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be",
              "been", "but", "by", "can", "could", "do", "for", "from", "had", "has", "have", "he",
              "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "more", "my", "no",
              "not", "of", "on", "one", "or", "other", "our", "out", "she", "so", "some", "than",
              "that", "the", "their", "them", "then", "there", "these", "they", "this", "to",
              "up", "was", "we", "were", "what", "when", "which", "who", "will", "with", "would",
              "you", "your"}},
      {"de", {"aber", "als", "am", "an", "auch", "auf", "aus", "bei", "bis", "da", "das", "dass",
              "dem", "den", "der", "des", "die", "doch", "du", "durch", "ein", "eine", "einem",
              "einen", "einer", "er", "es", "für", "hat", "ich", "im", "in", "ist", "man", "mit",
              "nach", "nicht", "noch", "nur", "oder", "sich", "sie", "sind", "so", "um", "und",
              "uns", "von", "vor", "war", "was", "wenn", "wie", "wir", "wird", "zu", "zum", "zur"}},
      {"fr", {"à", "au", "aux", "avec", "ce", "ces", "dans", "de", "des", "du", "elle", "en",
              "est", "et", "il", "ils", "je", "la", "le", "les", "leur", "lui", "mais", "me",
              "même", "ne", "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "sa",
              "se", "ses", "son", "sur", "un", "une", "vous", "été", "être", "a", "l", "d"}},
      {"es", {"a", "al", "como", "con", "de", "del", "el", "en", "es", "esta", "este", "ha",
              "la", "las", "le", "lo", "los", "más", "no", "para", "pero", "por", "que", "se",
              "si", "sin", "su", "sus", "un", "una", "y", "ya", "fue", "son", "entre"}},
      {"it", {"a", "al", "alla", "anche", "che", "con", "da", "del", "della", "di", "e", "è",
              "gli", "il", "in", "la", "le", "lo", "ma", "non", "per", "più", "si", "sono", "su",
              "un", "una", "uno", "come", "dei", "delle", "nel", "nella"}},
      {"pt", {"a", "ao", "as", "com", "como", "da", "das", "de", "do", "dos", "e", "em", "é",
              "mais", "mas", "na", "no", "não", "o", "os", "para", "por", "que", "se", "sua",
              "seu", "um", "uma", "foi", "são", "ou"}},
      {"nl", {"aan", "als", "bij", "dat", "de", "den", "der", "die", "dit", "een", "en", "er",
              "het", "hij", "in", "is", "maar", "met", "niet", "of", "om", "op", "te", "tot",
              "van", "voor", "was", "wat", "ze", "zijn", "naar", "ook"}},
  };
  static const std::vector<std::string> none;
  auto it = lists.find(lang);
  return it == lists.end() ? none : it->second;
}

namespace {
bool skipped_tag(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_NOSCRIPT: case GUMBO_TAG_NAV:
    case GUMBO_TAG_FORM: case GUMBO_TAG_IFRAME: case GUMBO_TAG_SVG: case GUMBO_TAG_MATH:
    case GUMBO_TAG_SELECT: case GUMBO_TAG_BUTTON: case GUMBO_TAG_TEXTAREA: case GUMBO_TAG_TITLE:
    case GUMBO_TAG_TEMPLATE: case GUMBO_TAG_OBJECT: case GUMBO_TAG_EMBED: case GUMBO_TAG_CANVAS:
      return true;
    default:
      return false;
  }
}

bool block_tag(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_LI: case GUMBO_TAG_UL: case GUMBO_TAG_OL:
    case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5:
    case GUMBO_TAG_H6: case GUMBO_TAG_TABLE: case GUMBO_TAG_TR: case GUMBO_TAG_TD: case GUMBO_TAG_TH:
    case GUMBO_TAG_PRE: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_SECTION:
    case GUMBO_TAG_HEADER: case GUMBO_TAG_FOOTER: case GUMBO_TAG_ASIDE: case GUMBO_TAG_MAIN:
    case GUMBO_TAG_BR: case GUMBO_TAG_HR: case GUMBO_TAG_DL: case GUMBO_TAG_DT: case GUMBO_TAG_DD:
    case GUMBO_TAG_FIGURE: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_ADDRESS: case GUMBO_TAG_BODY:
    case GUMBO_TAG_CAPTION: case GUMBO_TAG_CENTER: case GUMBO_TAG_DETAILS: case GUMBO_TAG_SUMMARY:
      return true;
    default:
      return false;
  }
}

bool heading_tag(GumboTag t) {
  return t == GUMBO_TAG_H1 || t == GUMBO_TAG_H2 || t == GUMBO_TAG_H3 || t == GUMBO_TAG_H4 ||
         t == GUMBO_TAG_H5 || t == GUMBO_TAG_H6;
}

struct Paragraph {
  std::string text;
  size_t link_chars = 0;
  bool heading = false;
};

enum Class { Bad, Short, NearGood, Good };

// Paragraph length for the jusText thresholds: code points, with East Asian wide characters
// (Han, kana, Hangul, full-width forms) counted twice, since one carries about as much text as
// two or three Latin letters and the thresholds were set for European languages.
size_t text_length(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = text::utf8_next(s, i);
    bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) || cp >= 0x20000;
    n += wide ? 2 : 1;
  }
  return n;
}

// Builds paragraphs: text runs between block boundaries, with whitespace collapsed.
class Collector {
 public:
  std::vector<Paragraph> paras;
  void boundary() {
    if (!cur_.text.empty()) paras.push_back(std::move(cur_));
    cur_ = Paragraph{};
    space_ = false;
  }
  void text(std::string_view s, bool in_link, bool in_heading) {
    for (char c : s) {
      if (is_space_byte(c)) {
        space_ = !cur_.text.empty();
        continue;
      }
      if (space_) {
        cur_.text.push_back(' ');
        if (in_link) ++cur_.link_chars;
        space_ = false;
      }
      cur_.text.push_back(c);
      if (in_link && (static_cast<unsigned char>(c) & 0xC0) != 0x80) ++cur_.link_chars;
    }
    if (in_heading) cur_.heading = true;
  }

 private:
  Paragraph cur_;
  bool space_ = false;
};

void walk(GumboNode* root, Collector& out, std::string& title) {
  struct Item {
    GumboNode* node;
    bool exit;  // true: leaving an element (emit a boundary if it is a block)
    bool in_link, in_heading;
  };
  std::vector<Item> stack = {{root, false, false, false}};
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    GumboNode* n = it.node;
    if (it.exit) {
      out.boundary();
      continue;
    }
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_CDATA || n->type == GUMBO_NODE_WHITESPACE) {
      out.text(n->v.text.text, it.in_link, it.in_heading);
      continue;
    }
    if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_DOCUMENT) continue;
    const GumboVector* children = n->type == GUMBO_NODE_DOCUMENT ? &n->v.document.children : &n->v.element.children;
    bool in_link = it.in_link, in_heading = it.in_heading;
    if (n->type == GUMBO_NODE_ELEMENT) {
      GumboTag tag = n->v.element.tag;
      if (tag == GUMBO_TAG_TITLE && title.empty() && n->v.element.children.length > 0) {
        auto* t = static_cast<GumboNode*>(n->v.element.children.data[0]);
        if (t->type == GUMBO_NODE_TEXT) title = std::string(trim(t->v.text.text));
      }
      if (skipped_tag(tag)) continue;
      if (tag == GUMBO_TAG_A) in_link = true;
      if (heading_tag(tag)) in_heading = true;
      if (block_tag(tag)) {
        out.boundary();
        stack.push_back({n, true, false, false});
      }
    }
    for (unsigned i = children->length; i-- > 0;)
      stack.push_back({static_cast<GumboNode*>(children->data[i]), false, in_link, in_heading});
  }
  out.boundary();
}

std::string html_lang(GumboNode* root) {
  const GumboVector& ch = root->v.document.children;
  for (unsigned i = 0; i < ch.length; ++i) {
    auto* n = static_cast<GumboNode*>(ch.data[i]);
    if (n->type == GUMBO_NODE_ELEMENT && n->v.element.tag == GUMBO_TAG_HTML) {
      GumboAttribute* a = gumbo_get_attribute(&n->v.element.attributes, "lang");
      if (a) {
        std::string l = ascii_lower(a->value);
        size_t cut = l.find_first_of("-_");
        return cut == std::string::npos ? l : l.substr(0, cut);
      }
    }
  }
  return {};
}

// Nearest non-short neighbour's class in direction `step` (ignoring near-good when asked);
// Bad beyond the edges, as in jusText.
Class neighbour(const std::vector<Class>& c, size_t i, int step, bool ignore_neargood) {
  for (long j = static_cast<long>(i) + step; j >= 0 && j < static_cast<long>(c.size()); j += step) {
    Class k = c[static_cast<size_t>(j)];
    if (k == Bad || k == Good) return k;
    if (k == NearGood && !ignore_neargood) return k;
  }
  return Bad;
}
}  // namespace

HtmlText extract_html_text(std::string_view html, const HtmlOptions& o) {
  HtmlText r;
  if (static_cast<int64_t>(html.size()) > o.max_html_bytes) {
    r.problem = "html_too_large";
    return r;
  }
  // The guard: the scan errs on the deep side, so it refuses only pages far past a limit, and
  // the limits themselves are decided by the tree gumbo builds.
  auto guard = [](int64_t limit) {
    return limit > std::numeric_limits<int64_t>::max() / kHtmlScanGuard ? std::numeric_limits<int64_t>::max()
                                                                 : limit * kHtmlScanGuard;
  };
  HtmlTreeBound estimate = estimate_html_tree(html, guard(o.max_depth), guard(o.max_nodes));
  if (estimate.depth > guard(o.max_depth)) {
    r.problem = "html_too_deep";
    return r;
  }
  if (estimate.nodes > guard(o.max_nodes)) {
    r.problem = "html_too_many_nodes";
    return r;
  }
  GumboTree tree(html);
  GumboTreeSize size = tree.size();
  r.depth = size.depth;
  r.nodes = size.nodes;
  if (size.depth > o.max_depth) {
    r.problem = "html_too_deep";
    return r;
  }
  if (size.nodes > o.max_nodes) {
    r.problem = "html_too_many_nodes";
    return r;
  }
  Collector col;
  walk(tree.document(), col, r.title);
  r.lang = html_lang(tree.document());

  auto& paras = col.paras;
  std::string lang = r.lang;
  if (justext_stopwords(lang).empty()) {
    std::string sample;
    for (const auto& p : paras) {
      if (sample.size() > 4096) break;
      sample += p.text + "\n";
    }
    thread_local LanguageDetector detector{LidOptions{}};
    lang = detector.detect(sample).lang;
  }
  const auto& list = justext_stopwords(lang);
  std::unordered_set<std::string> stops(list.begin(), list.end());
  // Language-independent mode without a list: stop-word density is not used.
  double sw_low = stops.empty() ? 0 : o.stopwords_low, sw_high = stops.empty() ? 0 : o.stopwords_high;

  thread_local text::WordSegmenter seg;
  std::vector<text::WordSpan> words;
  std::vector<Class> cls(paras.size());
  std::string lower;
  for (size_t i = 0; i < paras.size(); ++i) {
    const Paragraph& p = paras[i];
    size_t len = text_length(p.text);
    size_t chars = utf8_chars(p.text);
    double link_density = chars ? static_cast<double>(p.link_chars) / static_cast<double>(chars) : 0;
    seg.segment(p.text, text::AsciiWordRule::Uax29, words);
    size_t sw = 0;
    for (const auto& w : words) {
      lower = ascii_lower(std::string_view(p.text).substr(w.begin, w.size));
      sw += stops.count(lower);
    }
    double density = words.empty() ? 0 : static_cast<double>(sw) / static_cast<double>(words.size());
    if (link_density > o.max_link_density) cls[i] = Bad;
    else if (p.text.find("\xC2\xA9") != std::string::npos || ascii_lower(p.text).find("&copy") != std::string::npos)
      cls[i] = Bad;
    else if (static_cast<int64_t>(len) < o.length_low) cls[i] = link_density > 0 ? Bad : Short;
    else if (density >= sw_high) cls[i] = static_cast<int64_t>(len) > o.length_high ? Good : NearGood;
    else if (density >= sw_low) cls[i] = NearGood;
    else cls[i] = Bad;
  }
  // Context-sensitive pass (jusText): short and near-good paragraphs follow their neighbours.
  std::vector<Class> final_cls = cls;
  for (size_t i = 0; i < cls.size(); ++i) {
    if (cls[i] != Short) continue;
    Class prev = neighbour(cls, i, -1, true), next = neighbour(cls, i, 1, true);
    if (prev == Good && next == Good) final_cls[i] = Good;
    else if (prev == Bad && next == Bad) final_cls[i] = Bad;
    else if (neighbour(cls, i, -1, false) == NearGood || neighbour(cls, i, 1, false) == NearGood)
      final_cls[i] = Good;
    else final_cls[i] = Bad;
  }
  for (size_t i = 0; i < cls.size(); ++i) {
    if (cls[i] != NearGood) continue;
    Class prev = neighbour(cls, i, -1, true), next = neighbour(cls, i, 1, true);
    final_cls[i] = (prev == Bad && next == Bad) ? Bad : Good;
  }
  // Headings: a heading not yet kept, followed by good text within max_heading_distance.
  for (size_t i = 0; i < paras.size(); ++i) {
    if (!paras[i].heading || final_cls[i] == Good || cls[i] == Bad) continue;
    size_t dist = 0;
    for (size_t j = i + 1; j < paras.size() && static_cast<int64_t>(dist) <= o.max_heading_distance; ++j) {
      if (final_cls[j] == Good) {
        final_cls[i] = Good;
        break;
      }
      dist += paras[j].text.size();
    }
  }
  for (size_t i = 0; i < paras.size(); ++i) {
    if (final_cls[i] != Good) continue;
    if (!r.text.empty()) r.text += "\n\n";
    r.text += paras[i].text;
  }
  return r;
}

}  // namespace nlm::curate
