// gumbo DOM → paragraphs → jusText classes. max_depth and max_nodes are checked on the tree gumbo
// builds (gumbo_tree.h: measured with an explicit stack, freed without recursion), before the walk,
// which uses an explicit stack too. gumbo itself cannot be told to stop, and its time grows with
// depth times tags (50,000 nested <div/> take most of a minute), so a scan (html_bounds.h) first
// refuses pages whose estimated tree is more than kHtmlScanGuard times a limit.
// The walk numbers elements in document order and records each one's parent and the end of its
// subtree, so the structural fallback can ask which paragraphs lie inside an element.
#include "curate/html_extract.h"

#include <gumbo.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
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
  s.add("fallback_below", o.fallback_below,
        "jusText kept less than this: use the main block found by structure (article, main, title heading, p density) if larger (0 = never)")
      .min(0);
  s.add("stopwords", o.stopwords,
        "Stop-word list: a file (one word a line, for every page) or a folder of LANG.txt files (eu.txt, ...)");
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
using StopSet = std::unordered_set<std::string>;

// Supplied lists (HtmlOptions::stopwords): one set for every page, or one per language.
struct StopwordTable {
  bool for_all = false;
  StopSet all;
  std::map<std::string, StopSet> by_lang;
};

StopSet read_word_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) usage_error("cannot read the stop-word list", path.string(), "check html.stopwords");
  StopSet words;
  std::string line;
  while (std::getline(in, line)) {
    std::string_view w = trim(line);
    if (!w.empty() && w[0] != '#') words.insert(ascii_lower(w));
  }
  return words;
}

std::shared_ptr<const StopwordTable> load_stopwords(const std::string& path) {
  namespace fs = std::filesystem;
  auto t = std::make_shared<StopwordTable>();
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.path().extension() == ".txt") t->by_lang[ascii_lower(e.path().stem().string())] = read_word_file(e.path());
    if (t->by_lang.empty())
      usage_error("no <lang>.txt stop-word lists in the folder", path, "add files such as eu.txt, one word a line");
  } else if (fs::exists(path, ec)) {
    t->for_all = true;
    t->all = read_word_file(path);
    if (t->all.empty()) usage_error("the stop-word list is empty", path, "put one word on each line");
  } else {
    usage_error("no such stop-word file or folder", path, "check html.stopwords");
  }
  return t;
}

// Loaded once per process and path; each thread keeps the last one it used.
std::shared_ptr<const StopwordTable> stopword_table(const std::string& path) {
  thread_local std::string last_path;
  thread_local std::shared_ptr<const StopwordTable> last;
  if (last && last_path == path) return last;
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const StopwordTable>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& t = cache[path];
  if (!t) t = load_stopwords(path);
  last_path = path;
  last = t;
  return t;
}

const StopSet* builtin_stopwords(const std::string& lang) {
  static const std::map<std::string, StopSet> sets = [] {
    std::map<std::string, StopSet> m;
    for (const char* l : {"en", "de", "fr", "es", "it", "pt", "nl"}) {
      const auto& v = justext_stopwords(l);
      m[l] = StopSet(v.begin(), v.end());
    }
    return m;
  }();
  auto it = sets.find(lang);
  return it == sets.end() ? nullptr : &it->second;
}

// The list for `lang`: a supplied one first, then the built-in one; null when none.
const StopSet* stopwords_for(const StopwordTable* supplied, const std::string& lang) {
  if (supplied) {
    if (supplied->for_all) return &supplied->all;
    auto it = supplied->by_lang.find(lang);
    if (it != supplied->by_lang.end()) return &it->second;
  }
  return builtin_stopwords(lang);
}

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

// The attribute's value split at anything but ASCII letters and digits, lower-cased, checked
// against `words`.
bool attribute_has_word(const GumboElement& e, const char* name, std::initializer_list<std::string_view> words) {
  const GumboAttribute* a = gumbo_get_attribute(&e.attributes, name);
  if (!a) return false;
  std::string_view v = a->value;
  for (size_t i = 0; i < v.size();) {
    while (i < v.size() && !std::isalnum(static_cast<unsigned char>(v[i]))) ++i;
    size_t j = i;
    while (j < v.size() && std::isalnum(static_cast<unsigned char>(v[j]))) ++j;
    if (j > i) {
      std::string token = ascii_lower(v.substr(i, j - i));
      for (std::string_view w : words)
        if (token == w) return true;
    }
    i = j;
  }
  return false;
}

// Elements the structural fallback leaves out: page header (not an article's own), footer,
// aside, landmark roles other than main, and class or id names that say navigation.
bool boilerplate_element(const GumboElement& e, bool in_main) {
  if (e.tag == GUMBO_TAG_FOOTER || e.tag == GUMBO_TAG_ASIDE) return true;
  if (e.tag == GUMBO_TAG_HEADER && !in_main) return true;
  if (attribute_has_word(e, "role", {"navigation", "banner", "contentinfo", "complementary", "search", "menu",
                                     "menubar"}))
    return true;
  static const std::initializer_list<std::string_view> names = {
      "nav", "navbar", "navigation", "menu", "footer", "sidebar", "breadcrumb", "breadcrumbs",
      "cookie", "cookies", "share", "sharing", "social", "comments"};
  return attribute_has_word(e, "class", names) || attribute_has_word(e, "id", names);
}

bool main_element(const GumboElement& e) {
  return e.tag == GUMBO_TAG_ARTICLE || e.tag == GUMBO_TAG_MAIN || attribute_has_word(e, "role", {"main"});
}

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

struct Paragraph {
  std::string text;
  size_t link_chars = 0;
  bool heading = false;
  // Where its first text lies: the innermost element (document-order number), the innermost
  // block element and that block's parent; whether that block is a <p>; and whether it lies in
  // an element boilerplate_element() names.
  uint32_t elem = kNone, block = kNone, block_parent = kNone;
  bool is_p = false, boilerplate = false;
};

// The elements, by document-order number: parent and one past the last element of the subtree.
struct Elements {
  std::vector<uint32_t> parent, end;
  std::vector<uint32_t> mains;  // <article>, <main>, role=main
  bool contains(uint32_t e, uint32_t x) const { return x != kNone && x >= e && x < end[e]; }
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

// Where a text run lies (see Paragraph).
struct Place {
  uint32_t elem = kNone, block = kNone, block_parent = kNone;
  bool is_p = false, boilerplate = false;
};

// Builds paragraphs: text runs between block boundaries, with whitespace collapsed.
class Collector {
 public:
  std::vector<Paragraph> paras;
  void boundary() {
    if (!cur_.text.empty()) paras.push_back(std::move(cur_));
    cur_ = Paragraph{};
    space_ = false;
  }
  void text(std::string_view s, bool in_link, bool in_heading, const Place& at) {
    for (char c : s) {
      if (is_space_byte(c)) {
        space_ = !cur_.text.empty();
        continue;
      }
      if (cur_.text.empty()) {
        cur_.elem = at.elem;
        cur_.block = at.block;
        cur_.block_parent = at.block_parent;
        cur_.is_p = at.is_p;
        cur_.boilerplate = at.boilerplate;
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

void walk(GumboNode* root, Collector& out, Elements& els, std::string& title) {
  struct Item {
    GumboNode* node;
    bool exit;  // true: leaving element `id` (its subtree ends; a boundary if it is a block)
    bool block;
    bool in_link, in_heading, in_main;
    uint32_t id;  // exit: the element left; else the parent element of `node`
    Place at;     // where text directly inside the parent lies
  };
  std::vector<Item> stack = {{root, false, false, false, false, false, kNone, Place{}}};
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    GumboNode* n = it.node;
    if (it.exit) {
      els.end[it.id] = static_cast<uint32_t>(els.parent.size());
      if (it.block) out.boundary();
      continue;
    }
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_CDATA || n->type == GUMBO_NODE_WHITESPACE) {
      out.text(n->v.text.text, it.in_link, it.in_heading, it.at);
      continue;
    }
    if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_DOCUMENT) continue;
    const GumboVector* children = n->type == GUMBO_NODE_DOCUMENT ? &n->v.document.children : &n->v.element.children;
    bool in_link = it.in_link, in_heading = it.in_heading, in_main = it.in_main;
    Place at = it.at;
    if (n->type == GUMBO_NODE_ELEMENT) {
      const GumboElement& e = n->v.element;
      GumboTag tag = e.tag;
      if (tag == GUMBO_TAG_TITLE && title.empty() && e.children.length > 0) {
        auto* t = static_cast<GumboNode*>(e.children.data[0]);
        if (t->type == GUMBO_NODE_TEXT) title = std::string(trim(t->v.text.text));
      }
      if (skipped_tag(tag)) continue;
      auto id = static_cast<uint32_t>(els.parent.size());
      els.parent.push_back(it.id);
      els.end.push_back(kNone);
      if (tag == GUMBO_TAG_A) in_link = true;
      if (heading_tag(tag)) in_heading = true;
      if (!at.boilerplate && boilerplate_element(e, in_main)) at.boilerplate = true;
      if (main_element(e)) {
        els.mains.push_back(id);
        in_main = true;
      }
      at.elem = id;
      bool block = block_tag(tag);
      if (block) {
        out.boundary();
        at.block = id;
        at.block_parent = it.id;
        at.is_p = tag == GUMBO_TAG_P;
      }
      stack.push_back({n, true, block, false, false, false, id, Place{}});
      for (unsigned i = children->length; i-- > 0;)
        stack.push_back({static_cast<GumboNode*>(children->data[i]), false, false, in_link, in_heading, in_main, id, at});
      continue;
    }
    for (unsigned i = children->length; i-- > 0;)
      stack.push_back({static_cast<GumboNode*>(children->data[i]), false, false, in_link, in_heading, in_main, it.id, at});
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

// "©", or "&copy" in any case (an entity left as text).
bool has_copyright(std::string_view text) {
  if (text.find("\xC2\xA9") != std::string_view::npos) return true;
  for (size_t at = text.find('&'); at != std::string_view::npos; at = text.find('&', at + 1))
    if (ascii_lower(text.substr(at, 5)) == "&copy") return true;
  return false;
}

// The structural fallback. `clean[i]`: paragraph i lies outside boilerplate elements, is not
// link-dense and has no copyright sign. Returns the main block's element, or kNone.
uint32_t main_block(const std::vector<Paragraph>& paras, const std::vector<size_t>& len,
                    const std::vector<bool>& clean, const Elements& els, const std::string& title,
                    int64_t min_length) {
  // Clean text per subtree: prefix sums over the paragraphs sorted by element number.
  std::vector<std::pair<uint32_t, size_t>> by_elem;
  for (size_t i = 0; i < paras.size(); ++i)
    if (clean[i]) by_elem.emplace_back(paras[i].elem, len[i]);
  std::sort(by_elem.begin(), by_elem.end());
  std::vector<size_t> prefix(by_elem.size() + 1, 0);
  for (size_t i = 0; i < by_elem.size(); ++i) prefix[i + 1] = prefix[i] + by_elem[i].second;
  auto subtree = [&](uint32_t e) {
    auto lo = std::lower_bound(by_elem.begin(), by_elem.end(), std::make_pair(e, size_t{0}));
    auto hi = std::lower_bound(by_elem.begin(), by_elem.end(), std::make_pair(els.end[e], size_t{0}));
    return prefix[static_cast<size_t>(hi - by_elem.begin())] - prefix[static_cast<size_t>(lo - by_elem.begin())];
  };
  auto enough = [&](size_t n) { return static_cast<int64_t>(n) >= min_length && n > 0; };
  // 1. <article>, <main>, role=main: the one holding the most clean text.
  uint32_t best = kNone;
  size_t best_len = 0;
  for (uint32_t m : els.mains)
    if (size_t n = subtree(m); n > best_len) best = m, best_len = n;
  if (best != kNone && enough(best_len)) return best;
  // 2. The heading that repeats the page's <title> (all of it, or a part of 8 bytes or more, as
  // in "Headline | Site"): the nearest container around it that holds enough other text, short
  // of <body>.
  std::string t = ascii_lower(trim(title));
  if (!t.empty()) {
    for (size_t i = 0; i < paras.size(); ++i) {
      if (!paras[i].heading || !clean[i] || paras[i].block == kNone) continue;
      std::string h = ascii_lower(trim(paras[i].text));
      if (h != t && (h.size() < 8 || t.find(h) == std::string::npos)) continue;
      for (uint32_t e = els.parent[paras[i].block]; e != kNone && els.parent[e] != kNone; e = els.parent[e]) {
        uint32_t up = els.parent[e];
        if (els.parent[up] == kNone) break;  // e is <body> (or <head>): not a block
        if (enough(subtree(e) - len[i])) return e;
      }
      break;
    }
  }
  // 3. The densest cluster of <p>: each <p>'s text counts for its parent, and half for the
  // grandparent (paragraphs wrapped one by one in <div>s).
  std::unordered_map<uint32_t, size_t> score;
  for (size_t i = 0; i < paras.size(); ++i) {
    if (!clean[i] || !paras[i].is_p || paras[i].block_parent == kNone) continue;
    score[paras[i].block_parent] += 2 * len[i];
    if (uint32_t g = els.parent[paras[i].block_parent]; g != kNone) score[g] += len[i];
  }
  best = kNone;
  size_t best_score = 0;
  for (const auto& [e, s] : score)
    if (s > best_score || (s == best_score && e > best)) best = e, best_score = s;
  if (best != kNone && enough(subtree(best))) return best;
  return kNone;
}
}  // namespace

void check_stopwords_option(const std::string& path) {
  if (!path.empty()) stopword_table(path);
}

HtmlText extract_html_text(std::string_view html, const HtmlOptions& o) {
  HtmlText r;
  if (static_cast<int64_t>(html.size()) > o.max_html_bytes) {
    r.problem = r.dropped = "html_too_large";
    r.dropped_value = static_cast<double>(html.size());
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
    r.problem = r.dropped = "html_too_deep";
    r.dropped_value = static_cast<double>(estimate.depth);
    return r;
  }
  if (estimate.nodes > guard(o.max_nodes)) {
    r.problem = r.dropped = "html_too_many_nodes";
    r.dropped_value = static_cast<double>(estimate.nodes);
    return r;
  }
  GumboTree tree(html);
  GumboTreeSize size = tree.size();
  r.depth = size.depth;
  r.nodes = size.nodes;
  if (size.depth > o.max_depth) {
    r.problem = r.dropped = "html_too_deep";
    r.dropped_value = static_cast<double>(size.depth);
    return r;
  }
  if (size.nodes > o.max_nodes) {
    r.problem = r.dropped = "html_too_many_nodes";
    r.dropped_value = static_cast<double>(size.nodes);
    return r;
  }
  Collector col;
  Elements els;
  walk(tree.document(), col, els, r.title);
  r.lang = html_lang(tree.document());

  auto& paras = col.paras;
  // The stop-word list: the page's declared language is trusted (a language without a list gets
  // the language-independent mode rather than another language's list); undeclared, CLD2 picks
  // one when it is confident.
  std::shared_ptr<const StopwordTable> supplied;
  if (!o.stopwords.empty()) supplied = stopword_table(o.stopwords);
  const StopSet* stops = nullptr;
  if (!r.lang.empty() || (supplied && supplied->for_all)) {
    stops = stopwords_for(supplied.get(), r.lang);
  } else if (!paras.empty()) {
    std::string sample;
    for (const auto& p : paras) {
      if (sample.size() > 4096) break;
      sample += p.text + "\n";
    }
    thread_local LanguageDetector detector{LidOptions{}};
    LangGuess g = detector.detect(sample);
    if (g.score >= 0.5) stops = stopwords_for(supplied.get(), g.lang);
  }
  // Language-independent mode without a list: stop-word density is not used.
  double sw_low = stops ? o.stopwords_low : 0, sw_high = stops ? o.stopwords_high : 0;

  thread_local text::WordSegmenter seg;
  std::vector<text::WordSpan> words;
  std::vector<Class> cls(paras.size());
  std::vector<size_t> lens(paras.size());
  std::vector<bool> clean(paras.size());
  std::string lower;
  size_t visible = 0;  // text outside boilerplate elements
  for (size_t i = 0; i < paras.size(); ++i) {
    const Paragraph& p = paras[i];
    size_t len = text_length(p.text);
    lens[i] = len;
    if (!p.boilerplate) visible += len;
    size_t chars = utf8_chars(p.text);
    double link_density = chars ? static_cast<double>(p.link_chars) / static_cast<double>(chars) : 0;
    bool copyright = has_copyright(p.text);
    clean[i] = !p.boilerplate && link_density <= o.max_link_density && !copyright;
    size_t sw = 0;
    if (stops) {
      seg.segment(p.text, text::AsciiWordRule::Uax29, words);
      for (const auto& w : words) {
        lower = ascii_lower(std::string_view(p.text).substr(w.begin, w.size));
        sw += stops->count(lower);
      }
    }
    double density = words.empty() || !stops ? 0 : static_cast<double>(sw) / static_cast<double>(words.size());
    if (link_density > o.max_link_density) cls[i] = Bad;
    else if (copyright) cls[i] = Bad;
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
  size_t kept = 0;
  for (size_t i = 0; i < paras.size(); ++i)
    if (final_cls[i] == Good) kept += lens[i];

  std::vector<bool> keep(paras.size());
  for (size_t i = 0; i < paras.size(); ++i) keep[i] = final_cls[i] == Good;
  r.method = "justext";
  if (static_cast<int64_t>(kept) < o.fallback_below) {
    uint32_t block = main_block(paras, lens, clean, els, r.title, o.length_low);
    size_t block_len = 0;
    if (block != kNone)
      for (size_t i = 0; i < paras.size(); ++i)
        if (clean[i] && els.contains(block, paras[i].elem)) block_len += lens[i];
    if (block_len > kept) {
      for (size_t i = 0; i < paras.size(); ++i) keep[i] = clean[i] && els.contains(block, paras[i].elem);
      r.method = "structure";
    }
  }
  for (size_t i = 0; i < paras.size(); ++i) {
    if (!keep[i]) continue;
    if (!r.text.empty()) r.text += "\n\n";
    r.text += paras[i].text;
  }
  if (r.text.empty()) {
    r.method.clear();
    r.dropped = visible == 0 ? "html_no_text" : "html_no_main_text";
    r.dropped_value = static_cast<double>(visible);
  }
  return r;
}

}  // namespace nlm::curate
