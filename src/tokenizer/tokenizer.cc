// Encoding and decoding through the tokenizer pipeline (JSON I/O is in tokenizer_json.cc).
#include "tokenizer/tokenizer.h"

#include <unicode/normalizer2.h>
#include <unicode/bytestream.h>
#include <unicode/stringpiece.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <atomic>
#include <unordered_map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "text/utf8.h"
#include "tokenizer/byte_level.h"

namespace nlm::tokenizer {

namespace {
std::atomic<uint64_t> g_serial{0};

// Per-thread cache of word -> ids for the tokenizer state that last used it on this thread. Words
// repeat heavily in text, so most words skip BPE; the cache is dropped when it grows too large.
struct WordCache {
  uint64_t serial = UINT64_MAX;
  std::unordered_map<std::string, std::vector<uint32_t>> map;
};
constexpr size_t kCacheMaxWords = 1 << 18;
}  // namespace

// Leftmost-longest matcher over added-token contents: a byte trie in a flat hash map.
struct Tokenizer::Index {
  uint64_t serial = 0;  // identifies this finalized state in per-thread word caches
  std::unordered_map<uint64_t, uint32_t> edges;  // (node << 8 | byte) -> child node
  std::vector<int32_t> terminal;                 // node -> index into `added`, or -1
  std::array<bool, 256> first{};
  std::unordered_map<uint32_t, size_t> added_by_id;
  void build(const std::vector<AddedToken>& added) {
    edges.clear();
    terminal.assign(1, -1);
    first.fill(false);
    added_by_id.clear();
    for (size_t t = 0; t < added.size(); ++t) {
      added_by_id[added[t].id] = t;
      const std::string& s = added[t].content;
      if (s.empty()) continue;
      first[static_cast<unsigned char>(s[0])] = true;
      uint32_t node = 0;
      for (unsigned char c : s) {
        uint64_t key = (uint64_t(node) << 8) | c;
        auto it = edges.find(key);
        if (it == edges.end()) {
          uint32_t child = static_cast<uint32_t>(terminal.size());
          terminal.push_back(-1);
          edges.emplace(key, child);
          node = child;
        } else {
          node = it->second;
        }
      }
      if (terminal[node] < 0) terminal[node] = static_cast<int32_t>(t);
    }
  }
  // Longest added token starting at text[i]: (token index, length) or (-1, 0).
  std::pair<int32_t, size_t> match(std::string_view text, size_t i) const {
    if (!first[static_cast<unsigned char>(text[i])]) return {-1, 0};
    uint32_t node = 0;
    std::pair<int32_t, size_t> best{-1, 0};
    for (size_t j = i; j < text.size(); ++j) {
      auto it = edges.find((uint64_t(node) << 8) | static_cast<unsigned char>(text[j]));
      if (it == edges.end()) break;
      node = it->second;
      if (terminal[node] >= 0) best = {terminal[node], j + 1 - i};
    }
    return best;
  }
};

Tokenizer::Tokenizer() : index_(std::make_unique<Index>()) {
  index_->build(added);
  index_->serial = g_serial.fetch_add(1);
}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;


void Tokenizer::finalize(const std::string& where) {
  model.finalize(where);
  index_->build(added);
  index_->serial = g_serial.fetch_add(1);
}

uint32_t Tokenizer::vocab_size() const {
  uint32_t n = model.size();
  for (auto& a : added) n = std::max(n, a.id + 1);
  return n;
}

const AddedToken* Tokenizer::added_token(uint32_t id) const {
  auto it = index_->added_by_id.find(id);
  return it == index_->added_by_id.end() ? nullptr : &added[it->second];
}

bool Tokenizer::is_byte_fallback(uint32_t id) const {
  if (!model.byte_fallback) return false;
  for (uint32_t f : model.fallback_ids)
    if (f == id) return true;
  return false;
}

std::string Tokenizer::token_text(uint32_t id) const {
  if (auto* a = added_token(id)) return a->content;
  if (id >= model.size() || !model.present[id]) return {};
  return model.byte_level ? bytes_to_byte_level(model.tokens[id]) : model.tokens[id];
}

uint32_t Tokenizer::token_id(std::string_view token) const {
  for (auto& a : added)
    if (a.content == token) return a.id;
  if (model.byte_level) {
    std::string raw;
    if (!byte_level_to_bytes(token, raw)) return kNoToken;
    return model.id_of(raw);
  }
  return model.id_of(token);
}

namespace {

const icu::Normalizer2* icu_normalizer(NormalizerStep::Kind k) {
  UErrorCode st = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (k) {
    case NormalizerStep::Nfc: n = icu::Normalizer2::getNFCInstance(st); break;
    case NormalizerStep::Nfkc: n = icu::Normalizer2::getNFKCInstance(st); break;
    case NormalizerStep::Nfd: n = icu::Normalizer2::getNFDInstance(st); break;
    case NormalizerStep::Nfkd: n = icu::Normalizer2::getNFKDInstance(st); break;
    default: break;
  }
  if (U_FAILURE(st) || !n) runtime_error("ICU normalizer unavailable");
  return n;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty() || s.find(from) == std::string::npos) return;
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  size_t i = 0;
  for (size_t p; (p = s.find(from, i)) != std::string::npos; i = p + from.size()) {
    out.append(s, i, p - i);
    out += to;
  }
  out.append(s, i, std::string::npos);
  s.swap(out);
}

void normalize(const std::vector<NormalizerStep>& steps, std::string& s) {
  for (auto& st : steps) {
    switch (st.kind) {
      case NormalizerStep::Prepend:
        if (!s.empty()) s.insert(0, st.a);
        break;
      case NormalizerStep::Replace: replace_all(s, st.a, st.b); break;
      case NormalizerStep::Lowercase: {
        icu::UnicodeString u = icu::UnicodeString::fromUTF8(s);
        u.toLower(icu::Locale::getRoot());
        s.clear();
        u.toUTF8String(s);
        break;
      }
      default: {
        const icu::Normalizer2* n = icu_normalizer(st.kind);
        UErrorCode err = U_ZERO_ERROR;
        if (n->isNormalizedUTF8(s, err) && U_SUCCESS(err)) break;
        err = U_ZERO_ERROR;
        std::string out;
        icu::StringByteSink<std::string> sink(&out);
        n->normalizeUTF8(0, s, sink, nullptr, err);
        if (U_SUCCESS(err)) s.swap(out);
      }
    }
  }
}

// Splits every word of `words` by a literal delimiter with HF's SplitDelimiterBehavior.
void split_literal(std::vector<std::string>& words, const std::string& delim, const std::string& behavior) {
  if (delim.empty()) return;
  std::vector<std::string> out;
  for (auto& w : words) {
    std::vector<std::pair<size_t, size_t>> parts;  // (begin, end) of text between delimiters
    size_t i = 0;
    std::vector<std::pair<size_t, bool>> cuts;    // positions of delimiters
    for (size_t p; (p = w.find(delim, i)) != std::string::npos; i = p + delim.size()) cuts.push_back({p, true});
    if (cuts.empty()) {
      out.push_back(std::move(w));
      continue;
    }
    size_t start = 0;
    std::string pending;  // MergedWithNext carries the delimiter into the next piece
    for (auto [p, _] : cuts) {
      if (behavior == "MergedWithPrevious") {
        out.push_back(w.substr(start, p + delim.size() - start));
        start = p + delim.size();
      } else if (behavior == "MergedWithNext") {
        if (p > start) out.push_back(w.substr(start, p - start));
        start = p;
      } else {
        if (p > start) out.push_back(w.substr(start, p - start));
        if (behavior == "Isolated") out.push_back(delim);
        start = p + delim.size();
      }
      (void)pending;
    }
    if (start < w.size()) out.push_back(w.substr(start));
  }
  words.swap(out);
  words.erase(std::remove_if(words.begin(), words.end(), [](auto& s) { return s.empty(); }), words.end());
}

}  // namespace

void Tokenizer::pre_tokenize(std::string_view segment, bool first_segment, std::vector<std::string>& words) const {
  thread_local std::string s;
  s.assign(segment);
  normalize(normalizers, s);
  words.clear();
  if (!s.empty()) words.push_back(s);
  thread_local std::vector<std::pair<size_t, size_t>> ranges;
  for (auto& step : pre_tokenizers) {
    switch (step.kind) {
      case PreTokenizerStep::Split:
      case PreTokenizerStep::ByteLevel: {
        std::vector<std::string> next;
        for (auto& w : words) {
          if (step.kind == PreTokenizerStep::ByteLevel && step.add_prefix_space && w[0] != ' ')
            w.insert(0, " ");
          SplitRule rule = step.kind == PreTokenizerStep::Split ? step.rule
                           : step.use_regex                      ? SplitRule::Gpt2
                                                                 : SplitRule::None;
          ranges.clear();
          split_pieces(w, rule, ranges);
          for (auto [b, e] : ranges) next.emplace_back(w, b, e - b);
        }
        words.swap(next);
        break;
      }
      case PreTokenizerStep::SplitString: split_literal(words, step.pattern, step.behavior); break;
      case PreTokenizerStep::Metaspace: {
        for (auto& w : words) {
          replace_all(w, " ", step.pattern);
          bool prepend = step.prepend_scheme == "always" || (step.prepend_scheme == "first" && first_segment);
          if (prepend && w.compare(0, step.pattern.size(), step.pattern) != 0) w.insert(0, step.pattern);
        }
        if (step.split) split_literal(words, step.pattern, "MergedWithNext");
        break;
      }
    }
  }
}

void Tokenizer::encode_segment(std::string_view segment, bool first_segment, std::vector<uint32_t>& out) const {
  thread_local std::vector<std::string> words;
  thread_local WordCache cache;
  if (cache.serial != index_->serial) {
    cache.map.clear();
    cache.serial = index_->serial;
  }
  pre_tokenize(segment, first_segment, words);
  for (auto& w : words) {
    auto it = cache.map.find(w);
    if (it != cache.map.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      continue;
    }
    size_t before = out.size();
    model.encode_word(w, out);
    if (w.size() <= 64) {
      if (cache.map.size() >= kCacheMaxWords) cache.map.clear();
      cache.map.emplace(w, std::vector<uint32_t>(out.begin() + before, out.end()));
    }
  }
}

std::vector<uint32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<uint32_t> out;
  encode_into(text, add_special_tokens, out);
  return out;
}

void Tokenizer::encode_into(std::string_view input, bool add_special_tokens, std::vector<uint32_t>& out) const {
  std::string repaired;
  std::string_view text = input;
  if (!text::utf8_valid(input)) {
    text::utf8_repair(input, repaired);
    text = repaired;
  }
  if (add_special_tokens) out.insert(out.end(), post_prefix.begin(), post_prefix.end());
  size_t seg = 0;
  bool first = true;
  auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  for (size_t i = 0; i < text.size();) {
    auto [t, len] = added.empty() ? std::pair<int32_t, size_t>{-1, 0} : index_->match(text, i);
    if (t < 0) {
      ++i;
      continue;
    }
    const AddedToken& a = added[t];
    size_t b = i, e = i + len;
    if (a.lstrip)
      while (b > seg && is_ws(text[b - 1])) --b;
    if (a.rstrip)
      while (e < text.size() && is_ws(text[e])) ++e;
    if (b > seg) encode_segment(text.substr(seg, b - seg), first, out);
    first = false;
    out.push_back(a.id);
    seg = i = e;
  }
  if (seg < text.size()) encode_segment(text.substr(seg), first, out);
  if (add_special_tokens) out.insert(out.end(), post_suffix.begin(), post_suffix.end());
}

bool Tokenizer::encode_with_offsets(std::string_view text, std::vector<uint32_t>& ids,
                                    std::vector<std::pair<size_t, size_t>>& offsets) const {
  ids.clear();
  offsets.clear();
  encode_into(text, false, ids);
  bool byte_level_decoder = false, byte_fallback = false;
  for (auto& d : decoders) {
    byte_level_decoder |= d.kind == DecoderStep::ByteLevel;
    byte_fallback |= d.kind == DecoderStep::ByteFallback;
  }
  offsets.reserve(ids.size());
  size_t pos = 0;
  std::string piece;
  for (uint32_t id : ids) {
    // The bytes this token decodes to on its own, as decode() produces them.
    piece.clear();
    if (const AddedToken* a = added_token(id)) {
      if (!(byte_level_decoder && byte_level_to_bytes(a->content, piece))) piece = a->content;
    } else if (id < model.tokens.size() && model.present[id]) {
      const std::string& t = model.tokens[id];
      if (const int b = byte_fallback ? byte_fallback_byte(t) : -1; b >= 0) {
        piece.push_back(static_cast<char>(b));
      } else {
        piece = t;
        for (auto& d : decoders) {
          if (d.kind == DecoderStep::Replace) replace_all(piece, d.a, d.b);
          if (d.kind == DecoderStep::Metaspace) replace_all(piece, d.a, " ");
        }
      }
    }
    if (text.compare(pos, piece.size(), piece) == 0) {
      offsets.emplace_back(pos, pos + piece.size());
      pos += piece.size();
    } else if (!piece.empty() && piece[0] == ' ' &&
               text.compare(pos, piece.size() - 1, std::string_view(piece).substr(1)) == 0) {
      offsets.emplace_back(pos, pos + piece.size() - 1);  // a prepended space the text lacks
      pos += piece.size() - 1;
    } else {
      offsets.clear();
      return false;
    }
  }
  if (pos != text.size()) {
    offsets.clear();
    return false;
  }
  return true;
}

std::string Tokenizer::decode(const std::vector<uint32_t>& ids, bool skip_special_tokens) const {
  return decode_impl(ids, skip_special_tokens, true);
}

std::string Tokenizer::decode_bytes(const std::vector<uint32_t>& ids, bool skip_special_tokens) const {
  return decode_impl(ids, skip_special_tokens, false);
}

std::string Tokenizer::decode_impl(const std::vector<uint32_t>& ids, bool skip_special_tokens, bool repair) const {
  bool byte_level_decoder = false;
  for (auto& d : decoders) byte_level_decoder |= d.kind == DecoderStep::ByteLevel;
  std::vector<std::string> pieces;
  pieces.reserve(ids.size());
  const uint32_t n = vocab_size();
  for (uint32_t id : ids) {
    if (id >= n) usage_error("token id " + std::to_string(id) + " is out of range", "decode",
                             "ids must be below the vocab size " + std::to_string(n));
    if (const AddedToken* a = added_token(id)) {
      if (skip_special_tokens && a->special) continue;
      std::string raw;
      if (byte_level_decoder && byte_level_to_bytes(a->content, raw))
        pieces.push_back(raw);
      else
        pieces.push_back(a->content);
      continue;
    }
    if (!model.present[id]) continue;
    pieces.push_back(model.tokens[id]);
  }
  for (auto& d : decoders) {
    switch (d.kind) {
      case DecoderStep::ByteLevel: {
        std::string all;
        for (auto& p : pieces) all += p;
        std::string fixed;
        if (repair)
          text::utf8_repair(all, fixed);
        else
          fixed.swap(all);
        pieces.assign(1, fixed);
        break;
      }
      case DecoderStep::Replace:
        for (auto& p : pieces) replace_all(p, d.a, d.b);
        break;
      case DecoderStep::ByteFallback: {
        std::vector<std::string> next;
        std::string bytes;
        size_t nbytes = 0;
        auto flush = [&] {
          if (!nbytes) return;
          if (!repair || text::utf8_valid(bytes)) {
            next.push_back(bytes);
          } else {
            for (size_t k = 0; k < nbytes; ++k) next.push_back("\xEF\xBF\xBD");
          }
          bytes.clear();
          nbytes = 0;
        };
        for (auto& p : pieces) {
          if (const int b = byte_fallback_byte(p); b >= 0) {
            bytes.push_back(static_cast<char>(b));
            ++nbytes;
          } else {
            flush();
            next.push_back(p);
          }
        }
        flush();
        pieces.swap(next);
        break;
      }
      case DecoderStep::Fuse: {
        std::string all;
        for (auto& p : pieces) all += p;
        pieces.assign(1, all);
        break;
      }
      case DecoderStep::Strip:
        for (auto& p : pieces) {
          for (int k = 0; k < d.start && p.compare(0, d.a.size(), d.a) == 0 && !d.a.empty(); ++k) p.erase(0, d.a.size());
          for (int k = 0; k < d.stop && p.size() >= d.a.size() && !d.a.empty() &&
                          p.compare(p.size() - d.a.size(), d.a.size(), d.a) == 0;
               ++k)
            p.erase(p.size() - d.a.size());
        }
        break;
      case DecoderStep::Metaspace:
        for (size_t i = 0; i < pieces.size(); ++i) {
          std::string& p = pieces[i];
          replace_all(p, d.a, (i == 0 && d.prepend_scheme != "never") ? "" : " ");
        }
        break;
    }
  }
  std::string out;
  for (auto& p : pieces) out += p;
  return out;
}

Hash128 Tokenizer::hash() const { return hash128(to_json()); }


const std::vector<const char*>& bos_token_names() {
  static const std::vector<const char*> names = {"<|begin_of_text|>", "<s>", "<bos>"};
  return names;
}

const std::vector<const char*>& eos_token_names() {
  static const std::vector<const char*> names = {"<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>"};
  return names;
}

}  // namespace nlm::tokenizer
