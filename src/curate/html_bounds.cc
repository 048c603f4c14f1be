// The tree-size scan behind HtmlOptions' max_depth and max_nodes: a tag tokenizer plus a small
// model of the HTML tree builder's stack of open elements and list of active formatting
// elements (WHATWG HTML §13.2.4, §13.2.6.4.7), kept only as detailed as bounding needs.
#include "curate/html_bounds.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace nlm::curate {

namespace {

enum : unsigned {
  kVoid = 1u << 0,        // never opened (br, img, ...)
  kSpecial = 1u << 1,     // the parser's "special" category
  kScope = 1u << 2,       // bounds "has an element in scope"
  kClosesP = 1u << 3,     // a start tag that closes an open <p> first
  kFormatting = 1u << 4,  // kept in the list of active formatting elements
  kRawText = 1u << 5,     // content is text up to the matching end tag
  kMarker = 1u << 6,      // opening it puts a marker on the formatting list
  kHeading = 1u << 7,
  kNoPush = 1u << 8,      // html, head, body, frameset: merged into the existing ones
};

unsigned tag_flags(std::string_view name) {
  static const std::unordered_map<std::string_view, unsigned> table = [] {
    std::unordered_map<std::string_view, unsigned> t;
    auto add = [&t](std::initializer_list<std::string_view> names, unsigned f) {
      for (auto n : names) t[n] |= f;
    };
    add({"area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img",
         "input", "keygen", "link", "meta", "param", "source", "track", "wbr"},
        kVoid);
    add({"address", "applet", "area", "article", "aside", "base", "basefont", "bgsound", "blockquote",
         "body", "br", "button", "caption", "center", "col", "colgroup", "dd", "details", "dir", "div",
         "dl", "dt", "embed", "fieldset", "figcaption", "figure", "footer", "form", "frame", "frameset",
         "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup", "hr", "html", "iframe", "img",
         "input", "keygen", "li", "link", "listing", "main", "marquee", "menu", "meta", "nav",
         "noembed", "noframes", "noscript", "object", "ol", "p", "param", "plaintext", "pre", "script",
         "search", "section", "select", "source", "style", "summary", "table", "tbody", "td",
         "template", "textarea", "tfoot", "th", "thead", "title", "tr", "track", "ul", "wbr", "xmp",
         "mi", "mo", "mn", "ms", "mtext", "annotation-xml", "foreignobject", "desc"},
        kSpecial);
    add({"applet", "caption", "html", "table", "td", "th", "marquee", "object", "template", "mi", "mo",
         "mn", "ms", "mtext", "annotation-xml", "foreignobject", "desc"},
        kScope);
    add({"address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl",
         "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu", "nav", "ol",
         "p", "search", "section", "summary", "ul", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
         "listing", "form", "plaintext", "table", "hr", "xmp", "li", "dd", "dt"},
        kClosesP);
    add({"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u"},
        kFormatting);
    add({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext"},
        kRawText);
    add({"applet", "marquee", "object", "template", "td", "th", "caption"}, kMarker);
    add({"h1", "h2", "h3", "h4", "h5", "h6"}, kHeading);
    add({"html", "head", "body", "frameset"}, kNoPush);
    return t;
  }();
  auto it = table.find(name);
  return it == table.end() ? 0u : it->second;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_alpha(char c) { return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c; }

struct Element {
  std::string name;
  unsigned flags;
  bool foreign;  // inside <svg> or <math>: self-closing works, HTML rules do not apply
  uint64_t id;
};

struct Formatting {  // an entry of the list of active formatting elements; name "" is a marker
  std::string name, attributes;
  uint64_t id;  // the element it stands for (open or not)
};

class TreeModel {
 public:
  TreeModel(int64_t max_depth, int64_t max_nodes) : max_depth_(max_depth), max_nodes_(max_nodes) {
    push("html", false);  // the parser always makes html, head and body
    push("body", false);
    add_nodes(3);
  }

  HtmlTreeBound result() const { return {deepest_, nodes_, over_}; }
  bool over() const { return over_; }

  void text(bool reopens = true) {
    add_nodes(1);
    if (reopens) reconstruct();
  }
  void comment() { add_nodes(1); }

  // Returns true when it opened an HTML (not SVG or MathML) element.
  bool start_tag(const std::string& name, std::string_view attributes, bool self_closing) {
    unsigned f = tag_flags(name);
    add_nodes(1);
    if (in_foreign()) {
      static const std::unordered_map<std::string_view, int> breakout = [] {
        std::unordered_map<std::string_view, int> m;
        for (std::string_view n : {"b", "big", "blockquote", "body", "br", "center", "code", "dd", "div",
                                   "dl", "dt", "em", "embed", "h1", "h2", "h3", "h4", "h5", "h6",
                                   "head", "hr", "i", "img", "li", "listing", "menu", "meta", "nobr",
                                   "ol", "p", "pre", "ruby", "s", "small", "span", "strong", "strike",
                                   "sub", "sup", "table", "tt", "u", "ul", "var", "font"})
          m[n] = 1;
        return m;
      }();
      if (!breakout.count(name)) {
        if (!self_closing) push(name, true);
        return false;
      }
      while (in_foreign()) pop();
    }
    if (f & kNoPush) return false;
    if (f & kClosesP) close_p_in_button_scope();
    if (name == "svg" || name == "math") {
      reconstruct();
      if (!self_closing) push(name, true);
      return false;
    }
    if (f & kHeading) {
      if (tag_flags(stack_.back().name) & kHeading) pop();
    } else if (name == "li" || name == "dd" || name == "dt") {
      for (size_t i = stack_.size(); i-- > 0;) {
        const Element& e = stack_[i];
        bool same = name == "li" ? e.name == "li" : (e.name == "dd" || e.name == "dt");
        if (same) {
          pop_to(i);
          break;
        }
        if ((e.flags & kSpecial) && e.name != "address" && e.name != "div" && e.name != "p") break;
      }
    } else if (name == "td" || name == "th") {
      if (size_t i = find_in_table_scope({"td", "th"}); i != npos) pop_to(i);
      if (!in_row()) {
        if (stack_.back().name == "table") open_implied("tbody");
        open_implied("tr");
      }
    } else if (name == "tr") {
      if (size_t i = find_in_table_scope({"tr"}); i != npos) pop_to(i);
      if (stack_.back().name == "table") open_implied("tbody");
    } else if (name == "tbody" || name == "thead" || name == "tfoot") {
      if (size_t i = find_in_table_scope({"tbody", "thead", "tfoot"}); i != npos) pop_to(i);
    } else if (name == "option" || name == "optgroup") {
      if (stack_.back().name == "option") pop();
      if (name == "optgroup" && stack_.back().name == "optgroup") pop();
    } else if (name == "button") {
      if (size_t i = find_in_scope("button", 0); i != npos) pop_to(i);
    } else if (name == "a" || name == "nobr") {
      // A second <a> while one is active: the adoption agency closes the first.
      for (size_t i = afe_.size(); i-- > 0 && !afe_[i].name.empty();)
        if (afe_[i].name == name) {
          adopt(i);
          break;
        }
    }
    if (!(f & (kClosesP | kMarker)) || (f & kFormatting) || name == "applet" || name == "marquee" ||
        name == "object")
      reconstruct();
    if (f & kVoid) return false;
    push(name, false);
    if (f & kMarker) afe_.push_back({"", "", 0});
    if (f & kFormatting) push_formatting(name, attributes);
    return true;
  }

  void end_tag(const std::string& name) {
    if (in_foreign()) {
      for (size_t i = stack_.size(); i-- > 2 && stack_[i].foreign;)
        if (stack_[i].name == name) {
          pop_to(i);
          return;
        }
    }
    unsigned f = tag_flags(name);
    if (name == "p") {
      if (!close_p_in_button_scope()) add_nodes(1);  // </p> without <p> makes an empty p
      return;
    }
    if (name == "br") {
      add_nodes(1);  // </br> is a <br>
      return;
    }
    if (f & kNoPush) return;
    if (f & kFormatting) {
      for (size_t i = afe_.size(); i-- > 0 && !afe_[i].name.empty();)
        if (afe_[i].name == name) {
          adopt(i);
          return;
        }
    }
    size_t i = npos;
    if (name == "li") i = find_in_scope(name, 1);
    else if (f & kHeading) i = find_heading_in_scope();
    else if (name == "td" || name == "th" || name == "tr" || name == "tbody" || name == "thead" ||
             name == "tfoot" || name == "table" || name == "caption" || name == "colgroup")
      i = find_in_table_scope({name});
    else if (f & kSpecial) i = find_in_scope(name, 0);
    else {  // any other end tag: the nearest open one of that name, unless a special element is in the way
      for (size_t k = stack_.size(); k-- > 2;) {
        if (stack_[k].name == name) {
          i = k;
          break;
        }
        if (stack_[k].flags & kSpecial) break;
      }
    }
    if (i != npos) pop_to(i);
  }

 private:
  static constexpr size_t npos = static_cast<size_t>(-1);

  void add_nodes(int64_t n) {
    nodes_ += n;
    if (nodes_ > max_nodes_) over_ = true;
  }

  void push(const std::string& name, bool foreign) {
    stack_.push_back({name, foreign ? foreign_flags(name) : tag_flags(name), foreign, next_id_++});
    open_.push_back(true);
    deepest_ = std::max<int64_t>(deepest_, static_cast<int64_t>(stack_.size()));
    if (deepest_ > max_depth_) over_ = true;
  }
  void open_implied(const char* name) {
    add_nodes(1);
    push(name, false);
  }
  void pop() {
    if (stack_.size() <= 2) return;  // html and body stay
    const Element& e = stack_.back();
    open_[e.id] = false;
    bool marker = (e.flags & kMarker) != 0;
    stack_.pop_back();
    if (marker) clear_to_marker();
  }
  void pop_to(size_t i) {
    while (stack_.size() > i && stack_.size() > 2) pop();
  }

  // SVG and MathML elements where HTML content may start again (integration points) bound scopes.
  static unsigned foreign_flags(std::string_view name) {
    for (std::string_view n : {"foreignobject", "desc", "title", "mi", "mo", "mn", "ms", "mtext", "annotation-xml"})
      if (name == n) return kScope | kSpecial;
    return 0;
  }
  // The current node is SVG or MathML and not an integration point: HTML rules do not apply.
  bool in_foreign() const { return stack_.back().foreign && !(stack_.back().flags & kScope); }
  bool in_row() const {
    for (size_t i = stack_.size(); i-- > 0;) {
      if (stack_[i].name == "tr") return true;
      if (stack_[i].name == "table" || stack_[i].name == "td" || stack_[i].name == "th") return false;
    }
    return false;
  }

  // extra: 0 default scope, 1 list-item scope (ol, ul), 2 button scope
  size_t find_in_scope(std::string_view name, int extra) const {
    for (size_t i = stack_.size(); i-- > 0;) {
      const Element& e = stack_[i];
      if (e.name == name && !e.foreign) return i;
      if (e.flags & kScope || (extra == 1 && (e.name == "ol" || e.name == "ul")) ||
          (extra == 2 && e.name == "button") || e.name == "html")
        return npos;
    }
    return npos;
  }
  size_t find_heading_in_scope() const {
    for (size_t i = stack_.size(); i-- > 0;) {
      if (stack_[i].flags & kHeading) return i;
      if (stack_[i].flags & kScope) return npos;
    }
    return npos;
  }
  size_t find_in_table_scope(std::initializer_list<std::string_view> names) const {
    for (size_t i = stack_.size(); i-- > 0;) {
      for (auto n : names)
        if (stack_[i].name == n) return i;
      if (stack_[i].name == "table" || stack_[i].name == "template" || stack_[i].name == "html") return npos;
    }
    return npos;
  }
  bool close_p_in_button_scope() {
    size_t i = find_in_scope("p", 2);
    if (i == npos) return false;
    pop_to(i);
    return true;
  }

  // Noah's Ark: at most three equal entries after the last marker.
  void push_formatting(const std::string& name, std::string_view attributes) {
    size_t same = 0, earliest = npos;
    for (size_t i = afe_.size(); i-- > 0 && !afe_[i].name.empty();)
      if (afe_[i].name == name && afe_[i].attributes == attributes) {
        ++same;
        earliest = i;
      }
    if (same >= 3) afe_.erase(afe_.begin() + static_cast<std::ptrdiff_t>(earliest));
    afe_.push_back({name, std::string(attributes), stack_.back().id});
  }
  void clear_to_marker() {
    while (!afe_.empty()) {
      bool marker = afe_.back().name.empty();
      afe_.pop_back();
      if (marker) break;
    }
  }
  // Reopens every formatting element after the last marker that is no longer open.
  void reconstruct() {
    size_t i = afe_.size();
    while (i > 0 && !afe_[i - 1].name.empty() && !open_[afe_[i - 1].id]) --i;
    for (; i < afe_.size(); ++i) {
      add_nodes(1);
      push(afe_[i].name, false);
      afe_[i].id = stack_.back().id;
      if (over_) return;
    }
  }
  // The adoption agency, for size only: the formatting element leaves the stack and the list.
  // When block elements were opened inside it, the parser moves them out and clones the
  // formatting element into the furthest block, so the stack keeps its height and a few
  // elements are created.
  void adopt(size_t entry) {
    uint64_t id = afe_[entry].id;
    std::string name = afe_[entry].name;
    afe_.erase(afe_.begin() + static_cast<std::ptrdiff_t>(entry));
    size_t at = npos;
    for (size_t i = stack_.size(); i-- > 2;)
      if (stack_[i].id == id) {
        at = i;
        break;
      }
    if (at == npos) return;
    size_t block = npos;
    for (size_t i = at + 1; i < stack_.size(); ++i)
      if (stack_[i].flags & kSpecial) {
        block = i;
        break;
      }
    if (block == npos) {
      pop_to(at);
      return;
    }
    open_[id] = false;
    stack_.erase(stack_.begin() + static_cast<std::ptrdiff_t>(at));
    add_nodes(static_cast<int64_t>(std::min<size_t>(block - at, 3)) + 1);
    Element clone{name, tag_flags(name), false, next_id_++};
    open_.push_back(true);
    stack_.insert(stack_.begin() + static_cast<std::ptrdiff_t>(block), clone);
    afe_.insert(afe_.begin() + static_cast<std::ptrdiff_t>(entry), {name, "", clone.id});
  }

  int64_t max_depth_, max_nodes_;
  std::vector<Element> stack_;
  std::vector<Formatting> afe_;
  std::vector<bool> open_;  // by element id: still on the stack
  uint64_t next_id_ = 0;
  int64_t deepest_ = 0, nodes_ = 0;
  bool over_ = false;
};

// Index just past the '>' that ends the tag whose name ends at `p` (attribute values may hold
// '>' inside quotes); sets `self_closing` for "/>". Returns html.size() when the tag never ends.
size_t tag_end(std::string_view html, size_t p, bool& self_closing) {
  self_closing = false;
  const size_t n = html.size();
  while (p < n) {
    char c = html[p];
    if (c == '>') return p + 1;
    if (c == '/') {
      self_closing = p + 1 < n && html[p + 1] == '>';
      ++p;
      continue;
    }
    if (is_space(c)) {
      ++p;
      continue;
    }
    // an attribute name, then maybe = value
    size_t start = p;
    while (p < n && !is_space(html[p]) && html[p] != '/' && html[p] != '>' && (html[p] != '=' || p == start))
      ++p;
    while (p < n && is_space(html[p])) ++p;
    if (p < n && html[p] == '=') {
      ++p;
      while (p < n && is_space(html[p])) ++p;
      if (p < n && (html[p] == '"' || html[p] == '\'')) {
        size_t close = html.find(html[p], p + 1);
        p = close == std::string_view::npos ? n : close + 1;
      } else {
        while (p < n && !is_space(html[p]) && html[p] != '>') ++p;
      }
    }
  }
  return n;
}

// Position of the end tag "</name" (any case) at or after p, or npos.
size_t find_end_tag(std::string_view html, size_t p, const std::string& name) {
  for (size_t q = html.find("</", p); q != std::string_view::npos; q = html.find("</", q + 2)) {
    if (q + 2 + name.size() > html.size()) return std::string_view::npos;
    bool match = true;
    for (size_t k = 0; k < name.size() && match; ++k) match = lower(html[q + 2 + k]) == name[k];
    if (match) return q;
  }
  return std::string_view::npos;
}

}  // namespace

HtmlTreeBound estimate_html_tree(std::string_view html, int64_t max_depth, int64_t max_nodes) {
  TreeModel tree(max_depth, max_nodes);
  const size_t n = html.size();
  size_t p = 0;
  std::string name;
  while (p < n && !tree.over()) {
    size_t lt = html.find('<', p);
    size_t text_end = lt == std::string_view::npos ? n : lt;
    if (text_end > p) {  // a text node; only non-space text makes the parser reopen formatting
      bool has_text = false;
      for (size_t k = p; k < text_end && !has_text; ++k) has_text = !is_space(html[k]);
      tree.text(has_text);
    }
    if (lt == std::string_view::npos) break;
    p = lt + 1;
    if (p >= n) break;
    if (html.compare(p, 3, "!--") == 0) {
      size_t close = html.find("-->", p + 3);
      p = close == std::string_view::npos ? n : close + 3;
      tree.comment();
      continue;
    }
    bool end = html[p] == '/';
    if (html[p] == '!' || html[p] == '?' || (end && p + 1 < n && !is_alpha(html[p + 1]) && html[p + 1] != '>')) {
      size_t close = html.find('>', p);  // doctype or bogus comment
      p = close == std::string_view::npos ? n : close + 1;
      tree.comment();
      continue;
    }
    if (end) ++p;
    if (p >= n || !is_alpha(html[p])) {  // "<" as text, or "</>" which is dropped
      if (!end) tree.text();
      else if (p < n) ++p;
      continue;
    }
    name.clear();
    while (p < n && !is_space(html[p]) && html[p] != '/' && html[p] != '>') name += lower(html[p++]);
    size_t attributes_begin = p;
    bool self_closing = false;
    p = tag_end(html, p, self_closing);
    if (end) {
      tree.end_tag(name);
      continue;
    }
    std::string_view attributes = html.substr(attributes_begin, p - attributes_begin);
    bool html_element = tree.start_tag(name, attributes, self_closing);
    if (html_element && (tag_flags(name) & kRawText)) {
      if (name == "plaintext") break;  // the rest of the page is text
      size_t close = find_end_tag(html, p, name);
      if (close != p && close != std::string_view::npos) tree.text();
      p = close == std::string_view::npos ? n : close;
    }
  }
  return tree.result();
}

}  // namespace nlm::curate
