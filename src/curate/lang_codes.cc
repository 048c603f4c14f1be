// The ISO 639 table (639-1, 639-3 and 639-2/B codes with English names, written from the ISO
// tables) and the matching of user codes against a LID's labels.
#include "curate/lang_codes.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/error.h"
#include "core/message_check.h"
#include "core/options.h"

namespace nlm::curate {

namespace {

struct Lang {
  const char* a1;        // ISO 639-1, or "" when the language has none
  const char* a3;        // ISO 639-3 (equal to 639-2/T where that exists)
  const char* b;         // ISO 639-2/B where it differs from 639-2/T, else ""
  const char* name;      // English name
  const char* fallback;  // the macrolanguage a LID may emit instead, else ""
};

// Every language with a 639-1 code, then common languages that only have a 639-3 code.
constexpr Lang kLangs[] = {
    {"aa", "aar", "", "Afar", ""},
    {"ab", "abk", "", "Abkhazian", ""},
    {"ae", "ave", "", "Avestan", ""},
    {"af", "afr", "", "Afrikaans", ""},
    {"ak", "aka", "", "Akan", ""},
    {"am", "amh", "", "Amharic", ""},
    {"an", "arg", "", "Aragonese", ""},
    {"ar", "ara", "", "Arabic", ""},
    {"as", "asm", "", "Assamese", ""},
    {"av", "ava", "", "Avaric", ""},
    {"ay", "aym", "", "Aymara", ""},
    {"az", "aze", "", "Azerbaijani", ""},
    {"ba", "bak", "", "Bashkir", ""},
    {"be", "bel", "", "Belarusian", ""},
    {"bg", "bul", "", "Bulgarian", ""},
    {"bh", "bih", "", "Bihari", ""},
    {"bi", "bis", "", "Bislama", ""},
    {"bm", "bam", "", "Bambara", ""},
    {"bn", "ben", "", "Bengali", ""},
    {"bo", "bod", "tib", "Tibetan", ""},
    {"br", "bre", "", "Breton", ""},
    {"bs", "bos", "", "Bosnian", ""},
    {"ca", "cat", "", "Catalan", ""},
    {"ce", "che", "", "Chechen", ""},
    {"ch", "cha", "", "Chamorro", ""},
    {"co", "cos", "", "Corsican", ""},
    {"cr", "cre", "", "Cree", ""},
    {"cs", "ces", "cze", "Czech", ""},
    {"cu", "chu", "", "Church Slavonic", ""},
    {"cv", "chv", "", "Chuvash", ""},
    {"cy", "cym", "wel", "Welsh", ""},
    {"da", "dan", "", "Danish", ""},
    {"de", "deu", "ger", "German", ""},
    {"dv", "div", "", "Dhivehi", ""},
    {"dz", "dzo", "", "Dzongkha", ""},
    {"ee", "ewe", "", "Ewe", ""},
    {"el", "ell", "gre", "Greek", ""},
    {"en", "eng", "", "English", ""},
    {"eo", "epo", "", "Esperanto", ""},
    {"es", "spa", "", "Spanish", ""},
    {"et", "est", "", "Estonian", ""},
    {"eu", "eus", "baq", "Basque", ""},
    {"fa", "fas", "per", "Persian", ""},
    {"ff", "ful", "", "Fulah", ""},
    {"fi", "fin", "", "Finnish", ""},
    {"fj", "fij", "", "Fijian", ""},
    {"fo", "fao", "", "Faroese", ""},
    {"fr", "fra", "fre", "French", ""},
    {"fy", "fry", "", "Western Frisian", ""},
    {"ga", "gle", "", "Irish", ""},
    {"gd", "gla", "", "Scottish Gaelic", ""},
    {"gl", "glg", "", "Galician", ""},
    {"gn", "grn", "", "Guarani", ""},
    {"gu", "guj", "", "Gujarati", ""},
    {"gv", "glv", "", "Manx", ""},
    {"ha", "hau", "", "Hausa", ""},
    {"he", "heb", "", "Hebrew", ""},
    {"hi", "hin", "", "Hindi", ""},
    {"ho", "hmo", "", "Hiri Motu", ""},
    {"hr", "hrv", "", "Croatian", ""},
    {"ht", "hat", "", "Haitian Creole", ""},
    {"hu", "hun", "", "Hungarian", ""},
    {"hy", "hye", "arm", "Armenian", ""},
    {"hz", "her", "", "Herero", ""},
    {"ia", "ina", "", "Interlingua", ""},
    {"id", "ind", "", "Indonesian", ""},
    {"ie", "ile", "", "Interlingue", ""},
    {"ig", "ibo", "", "Igbo", ""},
    {"ii", "iii", "", "Sichuan Yi", ""},
    {"ik", "ipk", "", "Inupiaq", ""},
    {"io", "ido", "", "Ido", ""},
    {"is", "isl", "ice", "Icelandic", ""},
    {"it", "ita", "", "Italian", ""},
    {"iu", "iku", "", "Inuktitut", ""},
    {"ja", "jpn", "", "Japanese", ""},
    {"jv", "jav", "", "Javanese", ""},
    {"ka", "kat", "geo", "Georgian", ""},
    {"kg", "kon", "", "Kongo", ""},
    {"ki", "kik", "", "Kikuyu", ""},
    {"kj", "kua", "", "Kuanyama", ""},
    {"kk", "kaz", "", "Kazakh", ""},
    {"kl", "kal", "", "Kalaallisut", ""},
    {"km", "khm", "", "Khmer", ""},
    {"kn", "kan", "", "Kannada", ""},
    {"ko", "kor", "", "Korean", ""},
    {"kr", "kau", "", "Kanuri", ""},
    {"ks", "kas", "", "Kashmiri", ""},
    {"ku", "kur", "", "Kurdish", ""},
    {"kv", "kom", "", "Komi", ""},
    {"kw", "cor", "", "Cornish", ""},
    {"ky", "kir", "", "Kyrgyz", ""},
    {"la", "lat", "", "Latin", ""},
    {"lb", "ltz", "", "Luxembourgish", ""},
    {"lg", "lug", "", "Ganda", ""},
    {"li", "lim", "", "Limburgish", ""},
    {"ln", "lin", "", "Lingala", ""},
    {"lo", "lao", "", "Lao", ""},
    {"lt", "lit", "", "Lithuanian", ""},
    {"lu", "lub", "", "Luba-Katanga", ""},
    {"lv", "lav", "", "Latvian", ""},
    {"mg", "mlg", "", "Malagasy", ""},
    {"mh", "mah", "", "Marshallese", ""},
    {"mi", "mri", "mao", "Maori", ""},
    {"mk", "mkd", "mac", "Macedonian", ""},
    {"ml", "mal", "", "Malayalam", ""},
    {"mn", "mon", "", "Mongolian", ""},
    {"mr", "mar", "", "Marathi", ""},
    {"ms", "msa", "may", "Malay", ""},
    {"mt", "mlt", "", "Maltese", ""},
    {"my", "mya", "bur", "Burmese", ""},
    {"na", "nau", "", "Nauru", ""},
    {"nb", "nob", "", "Norwegian Bokmal", "no"},
    {"nd", "nde", "", "North Ndebele", ""},
    {"ne", "nep", "", "Nepali", ""},
    {"ng", "ndo", "", "Ndonga", ""},
    {"nl", "nld", "dut", "Dutch", ""},
    {"nn", "nno", "", "Norwegian Nynorsk", ""},
    {"no", "nor", "", "Norwegian", ""},
    {"nr", "nbl", "", "South Ndebele", ""},
    {"nv", "nav", "", "Navajo", ""},
    {"ny", "nya", "", "Chichewa", ""},
    {"oc", "oci", "", "Occitan", ""},
    {"oj", "oji", "", "Ojibwa", ""},
    {"om", "orm", "", "Oromo", ""},
    {"or", "ori", "", "Odia", ""},
    {"os", "oss", "", "Ossetian", ""},
    {"pa", "pan", "", "Punjabi", ""},
    {"pi", "pli", "", "Pali", ""},
    {"pl", "pol", "", "Polish", ""},
    {"ps", "pus", "", "Pashto", ""},
    {"pt", "por", "", "Portuguese", ""},
    {"qu", "que", "", "Quechua", ""},
    {"rm", "roh", "", "Romansh", ""},
    {"rn", "run", "", "Kirundi", ""},
    {"ro", "ron", "rum", "Romanian", ""},
    {"ru", "rus", "", "Russian", ""},
    {"rw", "kin", "", "Kinyarwanda", ""},
    {"sa", "san", "", "Sanskrit", ""},
    {"sc", "srd", "", "Sardinian", ""},
    {"sd", "snd", "", "Sindhi", ""},
    {"se", "sme", "", "Northern Sami", ""},
    {"sg", "sag", "", "Sango", ""},
    {"si", "sin", "", "Sinhala", ""},
    {"sk", "slk", "slo", "Slovak", ""},
    {"sl", "slv", "", "Slovenian", ""},
    {"sm", "smo", "", "Samoan", ""},
    {"sn", "sna", "", "Shona", ""},
    {"so", "som", "", "Somali", ""},
    {"sq", "sqi", "alb", "Albanian", ""},
    {"sr", "srp", "", "Serbian", ""},
    {"ss", "ssw", "", "Swati", ""},
    {"st", "sot", "", "Southern Sotho", ""},
    {"su", "sun", "", "Sundanese", ""},
    {"sv", "swe", "", "Swedish", ""},
    {"sw", "swa", "", "Swahili", ""},
    {"ta", "tam", "", "Tamil", ""},
    {"te", "tel", "", "Telugu", ""},
    {"tg", "tgk", "", "Tajik", ""},
    {"th", "tha", "", "Thai", ""},
    {"ti", "tir", "", "Tigrinya", ""},
    {"tk", "tuk", "", "Turkmen", ""},
    {"tl", "tgl", "", "Tagalog", ""},
    {"tn", "tsn", "", "Tswana", ""},
    {"to", "ton", "", "Tongan", ""},
    {"tr", "tur", "", "Turkish", ""},
    {"ts", "tso", "", "Tsonga", ""},
    {"tt", "tat", "", "Tatar", ""},
    {"tw", "twi", "", "Twi", "ak"},
    {"ty", "tah", "", "Tahitian", ""},
    {"ug", "uig", "", "Uyghur", ""},
    {"uk", "ukr", "", "Ukrainian", ""},
    {"ur", "urd", "", "Urdu", ""},
    {"uz", "uzb", "", "Uzbek", ""},
    {"ve", "ven", "", "Venda", ""},
    {"vi", "vie", "", "Vietnamese", ""},
    {"vo", "vol", "", "Volapuk", ""},
    {"wa", "wln", "", "Walloon", ""},
    {"wo", "wol", "", "Wolof", ""},
    {"xh", "xho", "", "Xhosa", ""},
    {"yi", "yid", "", "Yiddish", ""},
    {"yo", "yor", "", "Yoruba", ""},
    {"za", "zha", "", "Zhuang", ""},
    {"zh", "zho", "chi", "Chinese", ""},
    {"zu", "zul", "", "Zulu", ""},
    // Individual languages of a macrolanguage above, written the same way: a LID that only knows
    // the macrolanguage is right to call them by it.
    {"", "cmn", "", "Mandarin Chinese", "zh"},
    {"", "arb", "", "Standard Arabic", "ar"},
    {"", "zsm", "", "Standard Malay", "ms"},
    {"", "pes", "", "Iranian Persian", "fa"},
    {"", "prs", "", "Dari", "fa"},
    {"", "ekk", "", "Standard Estonian", "et"},
    {"", "lvs", "", "Standard Latvian", "lv"},
    {"", "khk", "", "Halh Mongolian", "mn"},
    {"", "swh", "", "Swahili (individual language)", "sw"},
    {"", "uzn", "", "Northern Uzbek", "uz"},
    {"", "azj", "", "North Azerbaijani", "az"},
    {"", "azb", "", "South Azerbaijani", "az"},
    {"", "plt", "", "Plateau Malagasy", "mg"},
    {"", "npi", "", "Nepali (individual language)", "ne"},
    {"", "ory", "", "Odia (individual language)", "or"},
    {"", "pbt", "", "Southern Pashto", "ps"},
    {"", "gaz", "", "West Central Oromo", "om"},
    {"", "ydd", "", "Eastern Yiddish", "yi"},
    {"", "fil", "", "Filipino", "tl"},
    {"", "ckb", "", "Central Kurdish", "ku"},
    {"", "kmr", "", "Northern Kurdish", "ku"},
    {"", "pnb", "", "Western Punjabi", "pa"},
    {"", "quz", "", "Cusco Quechua", "qu"},
    // Languages with only a 639-3 code. Chinese varieties other than Mandarin have no fallback.
    {"", "yue", "", "Cantonese", ""},
    {"", "nan", "", "Min Nan Chinese", ""},
    {"", "hak", "", "Hakka Chinese", ""},
    {"", "wuu", "", "Wu Chinese", ""},
    {"", "gan", "", "Gan Chinese", ""},
    {"", "hsn", "", "Xiang Chinese", ""},
    {"", "cdo", "", "Min Dong Chinese", ""},
    {"", "lzh", "", "Literary Chinese", ""},
    {"", "ast", "", "Asturian", ""},
    {"", "haw", "", "Hawaiian", ""},
    {"", "ceb", "", "Cebuano", ""},
    {"", "hmn", "", "Hmong", ""},
    {"", "war", "", "Waray", ""},
    {"", "ilo", "", "Iloko", ""},
    {"", "hil", "", "Hiligaynon", ""},
    {"", "pam", "", "Pampanga", ""},
    {"", "bcl", "", "Central Bikol", ""},
    {"", "pag", "", "Pangasinan", ""},
    {"", "crs", "", "Seselwa Creole French", ""},
    {"", "mfe", "", "Morisyen", ""},
    {"", "kea", "", "Kabuverdianu", ""},
    {"", "pap", "", "Papiamento", ""},
    {"", "srn", "", "Sranan Tongo", ""},
    {"", "tpi", "", "Tok Pisin", ""},
    {"", "jam", "", "Jamaican Creole English", ""},
    {"", "kha", "", "Khasi", ""},
    {"", "nso", "", "Northern Sotho", ""},
    {"", "sco", "", "Scots", ""},
    {"", "tlh", "", "Klingon", ""},
    {"", "chr", "", "Cherokee", ""},
    {"", "syr", "", "Syriac", ""},
    {"", "lif", "", "Limbu", ""},
    {"", "zza", "", "Zaza", ""},
    {"", "scn", "", "Sicilian", ""},
    {"", "vec", "", "Venetian", ""},
    {"", "lmo", "", "Lombard", ""},
    {"", "nap", "", "Neapolitan", ""},
    {"", "fur", "", "Friulian", ""},
    {"", "lld", "", "Ladin", ""},
    {"", "pms", "", "Piedmontese", ""},
    {"", "lij", "", "Ligurian", ""},
    {"", "frp", "", "Arpitan", ""},
    {"", "pcd", "", "Picard", ""},
    {"", "mwl", "", "Mirandese", ""},
    {"", "ext", "", "Extremaduran", ""},
    {"", "gsw", "", "Swiss German", ""},
    {"", "bar", "", "Bavarian", ""},
    {"", "ksh", "", "Kolsch", ""},
    {"", "nds", "", "Low German", ""},
    {"", "frr", "", "Northern Frisian", ""},
    {"", "stq", "", "Saterland Frisian", ""},
    {"", "vls", "", "West Flemish", ""},
    {"", "zea", "", "Zeeuws", ""},
    {"", "hsb", "", "Upper Sorbian", ""},
    {"", "dsb", "", "Lower Sorbian", ""},
    {"", "csb", "", "Kashubian", ""},
    {"", "szl", "", "Silesian", ""},
    {"", "rue", "", "Rusyn", ""},
    {"", "sgs", "", "Samogitian", ""},
    {"", "ltg", "", "Latgalian", ""},
    {"", "vro", "", "Voro", ""},
    {"", "krl", "", "Karelian", ""},
    {"", "smj", "", "Lule Sami", ""},
    {"", "sma", "", "Southern Sami", ""},
    {"", "smn", "", "Inari Sami", ""},
    {"", "sms", "", "Skolt Sami", ""},
    {"", "sah", "", "Yakut", ""},
    {"", "tyv", "", "Tuvinian", ""},
    {"", "udm", "", "Udmurt", ""},
    {"", "mhr", "", "Eastern Mari", ""},
    {"", "myv", "", "Erzya", ""},
    {"", "mdf", "", "Moksha", ""},
    {"", "krc", "", "Karachay-Balkar", ""},
    {"", "kbd", "", "Kabardian", ""},
    {"", "ady", "", "Adyghe", ""},
    {"", "lez", "", "Lezghian", ""},
    {"", "xal", "", "Kalmyk", ""},
    {"", "bua", "", "Buriat", ""},
    {"", "crh", "", "Crimean Tatar", ""},
    {"", "gag", "", "Gagauz", ""},
    {"", "ban", "", "Balinese", ""},
    {"", "bug", "", "Buginese", ""},
    {"", "min", "", "Minangkabau", ""},
    {"", "ace", "", "Acehnese", ""},
    {"", "bjn", "", "Banjar", ""},
    {"", "mad", "", "Madurese", ""},
    {"", "mai", "", "Maithili", ""},
    {"", "bho", "", "Bhojpuri", ""},
    {"", "mag", "", "Magahi", ""},
    {"", "awa", "", "Awadhi", ""},
    {"", "new", "", "Newari", ""},
    {"", "doi", "", "Dogri", ""},
    {"", "kok", "", "Konkani", ""},
    {"", "gom", "", "Goan Konkani", ""},
    {"", "sat", "", "Santali", ""},
    {"", "mni", "", "Manipuri", ""},
    {"", "brx", "", "Bodo", ""},
    {"", "hne", "", "Chhattisgarhi", ""},
    {"", "tcy", "", "Tulu", ""},
    {"", "lus", "", "Mizo", ""},
    {"", "skr", "", "Saraiki", ""},
    {"", "bal", "", "Baluchi", ""},
    {"", "glk", "", "Gilaki", ""},
    {"", "mzn", "", "Mazanderani", ""},
    {"", "lrc", "", "Northern Luri", ""},
    {"", "kab", "", "Kabyle", ""},
    {"", "tzm", "", "Central Atlas Tamazight", ""},
    {"", "zgh", "", "Standard Moroccan Tamazight", ""},
    {"", "shi", "", "Tachelhit", ""},
    {"", "luo", "", "Luo", ""},
    {"", "kam", "", "Kamba", ""},
    {"", "fon", "", "Fon", ""},
    {"", "dyu", "", "Dyula", ""},
    {"", "mos", "", "Mossi", ""},
    {"", "tum", "", "Tumbuka", ""},
    {"", "bem", "", "Bemba", ""},
    {"", "loz", "", "Lozi", ""},
    {"", "arn", "", "Mapudungun", ""},
    {"", "rmy", "", "Vlax Romani", ""},
    {"", "rom", "", "Romany", ""},
    {"", "grc", "", "Ancient Greek", ""},
    {"", "ang", "", "Old English", ""},
    {"", "cop", "", "Coptic", ""},
    {"", "jbo", "", "Lojban", ""},
};

// Withdrawn 639-1 codes some tools still write (CLD2 writes iw and jw).
constexpr std::pair<const char*, const char*> kLegacy[] = {
    {"iw", "he"}, {"in", "id"}, {"ji", "yi"}, {"jw", "jv"}, {"mo", "ro"}};

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

bool all_alpha(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
}

bool all_digit(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

const Lang* find_lang(std::string_view code) {
  std::string c = lower(code);
  for (const auto& [old_code, now] : kLegacy)
    if (c == old_code) c = now;
  if (c.size() != 2 && c.size() != 3) return nullptr;
  for (const Lang& l : kLangs)
    if (c == l.a1 || c == l.a3 || c == l.b) return &l;
  return nullptr;
}

std::string base_code(const Lang& l) { return *l.a1 ? l.a1 : l.a3; }

// Spelling-level equality for labels that are no known code: case and -/_ aside.
std::string folded(std::string_view s) {
  std::string r = lower(s);
  std::replace(r.begin(), r.end(), '_', '-');
  return r;
}

}  // namespace

std::string LangTag::str() const {
  std::string s = language;
  if (!script.empty()) s += "-" + script;
  if (!region.empty()) s += "-" + region;
  return s;
}

std::optional<LangTag> parse_lang_code(std::string_view code) {
  std::vector<std::string> parts;
  size_t at = 0;
  while (at <= code.size()) {
    size_t end = code.find_first_of("-_", at);
    if (end == std::string_view::npos) end = code.size();
    parts.emplace_back(code.substr(at, end - at));
    at = end + 1;
  }
  const Lang* l = find_lang(parts[0]);
  if (!l) return std::nullopt;
  LangTag t;
  t.language = base_code(*l);
  t.fallback = l->fallback;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p.size() == 4 && all_alpha(p) && t.script.empty() && t.region.empty()) {
      t.script = lower(p);
      t.script[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(t.script[0])));
    } else if (((p.size() == 2 && all_alpha(p)) || (p.size() == 3 && all_digit(p))) && t.region.empty()) {
      t.region = p;
      for (char& c : t.region) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    } else {
      return std::nullopt;  // variants and extensions: no LID emits them
    }
  }
  return t;
}

std::string canonical_lang_code(std::string_view code) {
  auto t = parse_lang_code(code);
  return t ? t->str() : std::string(code);
}

std::string language_name(std::string_view code) {
  const Lang* l = find_lang(code.substr(0, code.find_first_of("-_")));
  if (!l) return "";
  std::string name = l->name;
  auto t = parse_lang_code(code);
  if (t && !(t->script.empty() && t->region.empty()))
    name += " (" + t->script + (t->script.empty() || t->region.empty() ? "" : "-") + t->region + ")";
  return name;
}

std::string code_for_language_name(std::string_view name) {
  std::string n = lower(name);
  for (const Lang& l : kLangs)
    if (lower(l.name) == n) return base_code(l);
  return "";
}

namespace {

// The script a Chinese region implies, for tags that write none.
std::string implied_script(const LangTag& t) {
  if (!t.script.empty() || t.language != "zh") return t.script;
  if (t.region == "TW" || t.region == "HK" || t.region == "MO") return "Hant";
  if (t.region == "CN" || t.region == "SG" || t.region == "MY") return "Hans";
  return "";
}

std::vector<std::string> match_tag(const LangTag& want, const std::vector<std::string>& labels) {
  const std::string script = implied_script(want);
  std::vector<std::string> best;
  int best_score = -1;
  for (const auto& label : labels) {
    auto have = parse_lang_code(label);
    if (!have || have->language != want.language) continue;
    const std::string have_script = implied_script(*have);
    // A subtag on one side only is compatible (the LID does not tell it apart, or the user asked
    // for every variant); on both sides it must agree, and each agreement makes a closer match.
    if (!script.empty() && !have_script.empty() && script != have_script) continue;
    if (!want.region.empty() && !have->region.empty() && want.region != have->region) continue;
    int score = (!script.empty() && script == have_script) + (!want.region.empty() && want.region == have->region);
    if (score > best_score) {
      best.clear();
      best_score = score;
    }
    if (score == best_score) best.push_back(label);
  }
  return best;
}

}  // namespace

std::vector<std::string> match_lang_labels(std::string_view code, const std::vector<std::string>& labels) {
  auto want = parse_lang_code(code);
  if (!want) {
    std::vector<std::string> same;
    for (const auto& label : labels)
      if (folded(label) == folded(code)) same.push_back(label);
    return same;
  }
  auto found = match_tag(*want, labels);
  if (found.empty() && !want->fallback.empty()) {
    LangTag macro = *want;
    macro.language = want->fallback;
    found = match_tag(macro, labels);
  }
  return found;
}

std::vector<std::string> resolve_lang_codes(const std::vector<std::string>& codes,
                                            const std::vector<std::string>& labels,
                                            const std::string& lid_name, const std::string& key) {
  std::vector<std::string> kept;
  for (const auto& code : codes) {
    auto found = match_lang_labels(code, labels);
    if (found.empty()) {
      std::string what = "has " + echoed(code, 40);
      std::string name = language_name(code);
      if (!name.empty()) what += " (" + name + ")";
      what += ", which " + lid_name + " cannot identify";
      std::string fix;
      if (!parse_lang_code(code)) {
        std::string hint = code_for_language_name(code);
        fix = hint.empty() ? "use an ISO 639-1, ISO 639-3 or BCP 47 code; " : "did you mean " + hint + "? ";
      }
      // Compactly, so the line keeps within the message rule (core/message_check.h): as many
      // codes as fit, then how many more and where the full list is.
      std::set<std::string> sorted(labels.begin(), labels.end());
      const std::string head = fix + "it knows " + std::to_string(sorted.size()) + " codes:";
      const std::string tail = "; train a model for others (nativelm lid train)";
      // 80 bytes spare: " and N more (...)", the front end's name for the key ("--lang"), "; ".
      const size_t used = what.size() + head.size() + tail.size() + 80;
      const size_t budget = used < kMaxMessageBytes ? kMaxMessageBytes - used : 0;
      std::string list;
      size_t shown = 0;
      for (const auto& l : sorted) {
        if (list.size() + l.size() + 1 > budget) break;
        list += " " + l;
        ++shown;
      }
      if (shown < sorted.size()) list += " and " + std::to_string(sorted.size() - shown) + " more (nativelm lid labels)";
      fix = head + list + tail;
      opt::fail(key, what, fix);
    }
    for (auto& f : found)
      if (std::find(kept.begin(), kept.end(), f) == kept.end()) kept.push_back(f);
  }
  return kept;
}

}  // namespace nlm::curate
