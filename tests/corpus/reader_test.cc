// DocumentReader: JSONL fields kept verbatim, ids, malformed records skipped and counted (or
// fatal with --strict), invalid UTF-8 repaired, truncated archives, text modes, a 100 MB line.
#include <gtest/gtest.h>

#include "core/compressed_stream.h"
#include "core/error.h"
#include "corpus/reader.h"
#include "corpus/writer.h"
#include "text/utf8.h"
#include "test_util.h"

using namespace nlm;
using namespace nlm::corpus;
using nlm::testing::TempDir;
using nlm::testing::write_text;

namespace {

std::vector<Document> read_all(const std::string& path, ReadOptions opt = {}, ReadStats* stats = nullptr) {
  DocumentReader r(path, opt);
  std::vector<Document> docs;
  Document d;
  while (r.next(d)) docs.push_back(d);
  if (stats) *stats = r.stats();
  return docs;
}

TEST(JsonlReader, KeepsUnknownFieldsVerbatim) {
  TempDir dir;
  write_text(dir.file("a.jsonl"),
             R"({"id":"d1","text":"Dia dhuit","lang":"ga","meta":{"url":"http://x","n":[1,2]},"score":0.5,"ok":true,"none":null})"
             "\n"
             R"({"text":"second","id":42})"
             "\n");
  auto docs = read_all(dir.file("a.jsonl"));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].id, "d1");
  EXPECT_EQ(docs[0].text, "Dia dhuit");
  ASSERT_EQ(docs[0].fields.size(), 5u);
  EXPECT_EQ(*docs[0].field("meta"), R"({"url":"http://x","n":[1,2]})");
  EXPECT_EQ(docs[0].string_field("lang").value(), "ga");
  EXPECT_DOUBLE_EQ(docs[0].number_field("score").value(), 0.5);
  EXPECT_EQ(*docs[0].field("ok"), "true");
  EXPECT_EQ(*docs[0].field("none"), "null");
  EXPECT_EQ(docs[1].id, "42");
  EXPECT_EQ(docs[1].line, 2u);

  // Written back, every field is still there.
  std::string line;
  append_jsonl(line, docs[0]);
  EXPECT_EQ(line,
            R"({"id":"d1","text":"Dia dhuit","lang":"ga","meta":{"url":"http://x","n":[1,2]},"score":0.5,"ok":true,"none":null})"
            "\n");
}

TEST(JsonlReader, UnescapesText) {
  TempDir dir;
  write_text(dir.file("a.jsonl"), R"({"text":"line1\nline2 \"q\" \u7cb5 \ud83d\ude00"})" "\n");
  auto docs = read_all(dir.file("a.jsonl"));
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].text, "line1\nline2 \"q\" 粵 😀");
}

TEST(JsonlReader, MalformedRecordsAreSkippedAndCounted) {
  TempDir dir;
  write_text(dir.file("bad.jsonl"),
             "{\"text\":\"good one\"}\n"
             "{\"text\": \"unterminated\n"
             "[1,2,3]\n"
             "{\"title\":\"no text\"}\n"
             "{\"text\": 17}\n"
             "\n"
             "   \n"
             "{\"text\":\"trailing\"} junk\n"
             "{\"text\":\"good two\"}\n");
  ReadStats st;
  auto docs = read_all(dir.file("bad.jsonl"), {}, &st);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].text, "good one");
  EXPECT_EQ(docs[1].text, "good two");
  EXPECT_EQ(docs[1].line, 9u);
  EXPECT_EQ(st.bad_json, 3u);
  EXPECT_EQ(st.missing_text, 1u);
  EXPECT_EQ(st.wrong_type, 1u);
  EXPECT_EQ(st.skipped(), 5u);
}

// A member nesting 512 levels or more (kMaxJsonDepth, with the record's own level) is a
// counted bad record: simdjson skips nested values without a depth limit, and the member would
// be written out again for later readers to recurse through. 511 levels still read.
TEST(JsonlReader, DeepNestingIsACountedSkip) {
  TempDir dir;
  auto nested = [](size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  write_text(dir.file("deep.jsonl"), "{\"text\":\"shallow\",\"m\":" + nested(511) + "}\n" +
                                         "{\"text\":\"deep\",\"m\":" + nested(512) + "}\n" +
                                         "{\"text\":\"very deep\",\"m\":{\"a\":" + nested(5'000'000) + "}}\n" +
                                         "{\"text\":\"after\"}\n");
  ReadStats st;
  auto docs = read_all(dir.file("deep.jsonl"), {}, &st);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].text, "shallow");
  EXPECT_EQ(docs[1].text, "after");
  EXPECT_EQ(st.bad_json, 2u);
  ReadOptions strict;
  strict.strict = true;
  try {
    read_all(dir.file("deep.jsonl"), strict);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nests arrays and objects deeper than 512 levels (" + dir.file("deep.jsonl") + ":2)"),
              std::string::npos)
        << e.what();
  }
}

TEST(JsonlReader, StrictMakesMalformedFatalWithLocation) {
  TempDir dir;
  write_text(dir.file("bad.jsonl"), "{\"text\":\"ok\"}\n{oops}\n");
  ReadOptions opt;
  opt.strict = true;
  try {
    read_all(dir.file("bad.jsonl"), opt);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2"), std::string::npos) << e.what();
  }
}

TEST(JsonlReader, CustomFieldNames) {
  TempDir dir;
  write_text(dir.file("a.jsonl"), R"({"content":"body","doc_id":"x7","text":"other"})" "\n");
  ReadOptions opt;
  opt.text_field = "content";
  opt.id_field = "doc_id";
  auto docs = read_all(dir.file("a.jsonl"), opt);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].text, "body");
  EXPECT_EQ(docs[0].id, "x7");
  EXPECT_EQ(*docs[0].field("text"), "\"other\"");
}

TEST(JsonlReader, InvalidUtf8IsRepairedAndCounted) {
  TempDir dir;
  write_text(dir.file("a.jsonl"), "{\"text\":\"caf\xE9 \xFF ok\"}\n{\"text\":\"clean\"}\n");
  ReadStats st;
  auto docs = read_all(dir.file("a.jsonl"), {}, &st);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].text, "caf\xEF\xBF\xBD \xEF\xBF\xBD ok");
  EXPECT_EQ(st.invalid_utf8_docs, 1u);
  EXPECT_EQ(st.utf8_replacements, 2u);
}

TEST(JsonlReader, TruncatedArchiveKeepsEarlierDocuments) {
  TempDir dir;
  {
    JsonlWriter w(dir.file("big.jsonl.gz"));
    Document d;
    for (int i = 0; i < 20000; ++i) {
      d.text = "document number " + std::to_string(i) + " with some filler text to compress";
      w.write(d);
    }
    w.commit();
  }
  std::string bytes = nlm::testing::read_text(dir.file("big.jsonl.gz"));
  write_text(dir.file("cut.jsonl.gz"), bytes.substr(0, bytes.size() * 2 / 3));
  ReadStats st;
  auto docs = read_all(dir.file("cut.jsonl.gz"), {}, &st);
  EXPECT_GT(docs.size(), 1000u);
  EXPECT_LT(docs.size(), 20000u);
  EXPECT_EQ(st.truncated_files, 1u);
  for (size_t i = 0; i < docs.size(); ++i)
    ASSERT_EQ(docs[i].text.rfind("document number " + std::to_string(i) + " ", 0), 0u);
  ReadOptions strict;
  strict.strict = true;
  EXPECT_THROW(read_all(dir.file("cut.jsonl.gz"), strict), Error);
}

// Issue 11: a record whose string id is long while its text is short overran simdjson's string
// buffer (sized for one decoding of each string of the line; the id was decoded twice) and
// crashed every command that reads JSONL. Ids of every length from 1 to 1500 bytes, in rising
// order so each line re-sizes the parser to exactly that line, with escapes and non-ASCII mixed
// in, through plain, .gz and .zst files.
TEST(JsonlReader, LongIdsWithShortTextAreReadIntact) {
  TempDir dir;
  std::vector<std::string> ids, texts;
  std::string lines;
  for (size_t len = 1; len <= 1500; ++len) {
    // The id is len bytes decoded; every 7th ends in an escaped quote, every 11th starts with
    // an \u escape for a two-byte character.
    std::string id(len, 'x'), json_id(len, 'x');
    if (len % 7 == 0) {
      id.back() = '"';
      json_id = json_id.substr(0, len - 1) + "\\\"";
    }
    if (len % 11 == 0) {
      id.replace(0, 2, "\xC3\xA9");
      json_id.replace(0, 2, "\\u00e9");
    }
    std::string text = len % 3 == 0 ? "hi" : len % 3 == 1 ? "" : "h\xC3\xA9";
    std::string json_text = len % 3 == 0 ? "hi" : len % 3 == 1 ? "" : "h\\u00e9";
    ids.push_back(id);
    texts.push_back(text);
    lines += "{\"id\": \"" + json_id + "\", \"text\": \"" + json_text + "\"";
    if (len % 5 == 0) lines += ", \"url\": \"" + std::string(len, 'u') + "\"";
    lines += "}\n";
  }
  // Then the crash's own shape: the same 300-byte id on many lines.
  for (int i = 0; i < 200; ++i) {
    ids.push_back(std::string(300, 'x'));
    texts.push_back("hi");
    lines += "{\"id\": \"" + std::string(300, 'x') + "\", \"text\": \"hi\"}\n";
  }
  for (std::string name : {"ids.jsonl", "ids.jsonl.gz", "ids.jsonl.zst"}) {
    SCOPED_TRACE(name);
    auto out = OutputStream::create(dir.file(name));
    out->write(lines);
    out->commit();
    ReadStats st;
    auto docs = read_all(dir.file(name), {}, &st);
    EXPECT_EQ(st.bad_json, 0u);
    ASSERT_EQ(docs.size(), ids.size());
    for (size_t i = 0; i < docs.size(); ++i) {
      ASSERT_EQ(docs[i].id, ids[i]) << "line " << i + 1;
      ASSERT_EQ(docs[i].text, texts[i]) << "line " << i + 1;
    }
  }
  // Each single-record file alone, so the parser is sized by that one line.
  for (size_t len : {200, 250, 300, 320, 400, 500, 1000}) {
    std::string path = dir.file("one" + std::to_string(len) + ".jsonl");
    write_text(path, "{\"id\": \"" + std::string(len, 'x') + "\", \"text\": \"hi\"}\n");
    auto docs = read_all(path);
    ASSERT_EQ(docs.size(), 1u);
    EXPECT_EQ(docs[0].id, std::string(len, 'x'));
    EXPECT_EQ(docs[0].text, "hi");
  }
}

TEST(JsonlReader, HundredMegabyteLine) {
  TempDir dir;
  const size_t n = 100u << 20;
  {
    auto out = OutputStream::create(dir.file("huge.jsonl"));
    out->write("{\"id\":\"big\",\"text\":\"");
    std::string chunk(1 << 20, 'a');
    for (size_t i = 0; i < n / chunk.size(); ++i) out->write(chunk);
    out->write("\"}\n{\"text\":\"after\"}\n");
    out->commit();
  }
  auto docs = read_all(dir.file("huge.jsonl"));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].text.size(), n);
  EXPECT_EQ(docs[1].text, "after");
}

TEST(TextReader, Modes) {
  TempDir dir;
  write_text(dir.file("t.txt"), "first line\nsecond line\n\n\nnew para\r\nstill para\n");
  ReadOptions opt;
  opt.text_mode = TextMode::Line;
  auto lines = read_all(dir.file("t.txt"), opt);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2].text, "new para");
  EXPECT_EQ(lines[2].id, dir.file("t.txt") + ":5");

  opt.text_mode = TextMode::Paragraph;
  auto paras = read_all(dir.file("t.txt"), opt);
  ASSERT_EQ(paras.size(), 2u);
  EXPECT_EQ(paras[0].text, "first line\nsecond line");
  EXPECT_EQ(paras[1].text, "new para\nstill para");

  opt.text_mode = TextMode::File;
  auto files = read_all(dir.file("t.txt"), opt);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].text, "first line\nsecond line\n\n\nnew para\nstill para");
}

TEST(TextReader, EmptyFileGivesNoDocuments) {
  TempDir dir;
  write_text(dir.file("empty.txt"), "");
  write_text(dir.file("empty.jsonl"), "");
  for (auto mode : {TextMode::Line, TextMode::Paragraph, TextMode::File}) {
    ReadOptions opt;
    opt.text_mode = mode;
    EXPECT_TRUE(read_all(dir.file("empty.txt"), opt).empty());
  }
  EXPECT_TRUE(read_all(dir.file("empty.jsonl")).empty());
}

TEST(TextReader, BinaryGarbageDoesNotCrash) {
  TempDir dir;
  std::string junk;
  for (int i = 0; i < 100000; ++i) junk.push_back(static_cast<char>((i * 7919) & 0xFF));
  write_text(dir.file("junk.bin"), junk);
  write_text(dir.file("junk.jsonl"), junk);
  ReadStats st;
  auto docs = read_all(dir.file("junk.bin"), {}, &st);
  EXPECT_GT(st.invalid_utf8_docs, 0u);
  for (auto& d : docs) EXPECT_TRUE(text::utf8_valid(d.text));
  read_all(dir.file("junk.jsonl"), {}, &st);
  EXPECT_GT(st.skipped(), 0u);
}

}  // namespace
