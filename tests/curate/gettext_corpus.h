// Parallel text from Debian's gettext catalogues (/usr/share/locale/LANG/LC_MESSAGES/*.mo): each
// translated message next to its English source, for tests that compare languages on the same
// content. The .mo format is GNU gettext's: a magic number, the count, and two tables of
// (length, offset) pairs for the original and the translated strings.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"
#include "text/utf8.h"

namespace nlm::testing {

// msgid → msgstr of one catalogue (first plural form, context dropped); empty if unreadable.
inline std::map<std::string, std::string> read_mo(const std::string& path) {
  std::map<std::string, std::string> out;
  std::string b = read_text(path);
  if (b.size() < 20) return out;
  auto u32 = [&](size_t at, bool swap) {
    uint32_t v = 0;
    if (at + 4 > b.size()) return uint32_t{0};
    std::memcpy(&v, b.data() + at, 4);
    return swap ? __builtin_bswap32(v) : v;
  };
  bool swap = u32(0, false) != 0x950412de;
  if (swap && u32(0, true) != 0x950412de) return out;
  uint32_t n = u32(8, swap), orig = u32(12, swap), trans = u32(16, swap);
  auto str = [&](uint32_t table, uint32_t k) -> std::string {
    uint32_t len = u32(table + 8 * k, swap), off = u32(table + 8 * k + 4, swap);
    if (static_cast<size_t>(off) + len > b.size()) return "";
    std::string s = b.substr(off, len);
    s = s.substr(0, s.find('\0'));
    size_t ctx = s.find('\x04');
    return ctx == std::string::npos ? s : s.substr(ctx + 1);
  };
  for (uint32_t k = 0; k < n; ++k) {
    std::string id = str(orig, k);
    if (!id.empty()) out[id] = str(trans, k);
  }
  return out;
}

// A message without printf/brace placeholders, markup and mnemonics, spaces collapsed.
inline std::string clean_message(std::string s) {
  nlm::text::utf8_repair_inplace(s);  // a few catalogues hold Latin-1 bytes
  static const std::regex placeholder(R"(%(\d+\$)?[-+ #0']*\d*(\.\d+)?(hh|h|ll|l|L|z|j|t)?[a-zA-Z%]|\{[^{}]*\}|<[^<>]*>)");
  std::string t = std::regex_replace(s, placeholder, " ");
  t.erase(std::remove_if(t.begin(), t.end(), [](char c) { return c == '_' || c == '&'; }), t.end());
  std::string out;
  for (char c : t) {
    bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Parallel documents of `locale`: pairs of (English, translation), each `per_doc` messages of a
// sentence or more (4+ English words ending in . ! ? :) joined into paragraphs of three.
inline std::vector<std::pair<std::string, std::string>> gettext_documents(const std::string& locale, int per_doc = 12) {
  std::vector<std::pair<std::string, std::string>> msgs;
  std::filesystem::path dir = std::filesystem::path("/usr/share/locale") / locale / "LC_MESSAGES";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return {};
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".mo" && e.path().filename().string().rfind("iso_", 0) != 0)
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files)
    for (const auto& [id, str] : read_mo(f)) {
      std::string en = clean_message(id), tr = clean_message(str);
      size_t words = std::count(en.begin(), en.end(), ' ') + 1;
      if (words >= 4 && !tr.empty() && tr != en && std::string(".!?:").find(id.back()) != std::string::npos)
        msgs.push_back({en, tr});
    }
  std::sort(msgs.begin(), msgs.end());
  msgs.erase(std::unique(msgs.begin(), msgs.end()), msgs.end());
  std::shuffle(msgs.begin(), msgs.end(), std::mt19937(7));
  std::vector<std::pair<std::string, std::string>> docs;
  for (size_t k = 0; k + per_doc <= msgs.size(); k += per_doc) {
    std::string en, tr;
    for (int j = 0; j < per_doc; ++j) {
      const char* sep = j == 0 ? "" : (j % 3 == 0 ? "\n\n" : " ");
      en += sep + msgs[k + j].first;
      tr += sep + msgs[k + j].second;
    }
    docs.push_back({en, tr});
  }
  return docs;
}

}  // namespace nlm::testing
