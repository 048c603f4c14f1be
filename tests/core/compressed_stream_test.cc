// Round trips through every codec, multi-member/multi-frame streams, magic-byte detection, and
// truncated or corrupt compressed input (which must raise a clear error, never crash).
#include <gtest/gtest.h>

#include <random>

#include "core/compressed_stream.h"
#include "core/error.h"
#include "test_util.h"

using namespace nlm;
using nlm::testing::TempDir;

namespace {

std::string read_all(const std::string& path) {
  auto in = InputStream::open(path);
  std::string out;
  std::vector<char> buf(7919);  // odd size to exercise partial reads
  size_t n;
  while ((n = in->read(buf.data(), buf.size())) > 0) out.append(buf.data(), n);
  return out;
}

std::string write_with(const std::string& path, const std::string& data) {
  auto out = OutputStream::create(path);
  // write in uneven pieces
  size_t pos = 0, step = 1;
  while (pos < data.size()) {
    size_t n = std::min(step, data.size() - pos);
    out->write(std::string_view(data).substr(pos, n));
    pos += n;
    step = step * 3 + 1;
  }
  out->commit();
  return path;
}

std::string sample_data(size_t n) {
  std::mt19937 rng(42);
  std::string s;
  const char* words[] = {"Gaeilge ", "粵語 ", "euskara ", "basa Jawa ", "\n", "{\"text\":1} "};
  while (s.size() < n) s += words[rng() % 6];
  return s;
}

class CodecRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(CodecRoundTrip, BytesSurviveExactly) {
  TempDir dir;
  std::string data = sample_data(3 << 20);
  std::string path = write_with(dir.file("data" + GetParam()), data);
  EXPECT_EQ(read_all(path), data);
}

TEST_P(CodecRoundTrip, EmptyStream) {
  TempDir dir;
  std::string path = write_with(dir.file("empty" + GetParam()), "");
  EXPECT_EQ(read_all(path), "");
}

class CompressedCodec : public ::testing::TestWithParam<std::string> {};

TEST_P(CompressedCodec, TruncatedStreamRaisesError) {
  TempDir dir;
  std::string path = write_with(dir.file("t" + GetParam()), sample_data(1 << 20));
  std::string bytes = nlm::testing::read_text(path);
  nlm::testing::write_text(path, bytes.substr(0, bytes.size() / 2));
  try {
    read_all(path);
    FAIL() << "expected a truncation error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecRoundTrip,
                         ::testing::Values(".txt", ".gz", ".zst", ".bz2"));
INSTANTIATE_TEST_SUITE_P(Compressed, CompressedCodec, ::testing::Values(".gz", ".zst", ".bz2"));

TEST(CompressedStream, ConcatenatedMembersAndFramesReadAsOne) {
  TempDir dir;
  for (std::string ext : {".gz", ".zst", ".bz2"}) {
    std::string a = write_with(dir.file("a" + ext), "first part\n");
    std::string b = write_with(dir.file("b" + ext), "second part\n");
    std::string cat = nlm::testing::read_text(a) + nlm::testing::read_text(b);
    nlm::testing::write_text(dir.file("cat" + ext), cat);
    EXPECT_EQ(read_all(dir.file("cat" + ext)), "first part\nsecond part\n") << ext;
  }
}

TEST(CompressedStream, DetectsCodecByMagicNotName) {
  TempDir dir;
  std::string z = write_with(dir.file("x.zst"), "hello zstd\n");
  std::rename(z.c_str(), dir.file("misnamed.jsonl").c_str());
  auto in = InputStream::open(dir.file("misnamed.jsonl"));
  EXPECT_EQ(in->compression(), Compression::Zstd);
  EXPECT_EQ(read_all(dir.file("misnamed.jsonl")), "hello zstd\n");
}

TEST(CompressedStream, GarbageAfterGzipHeaderIsCorrupt) {
  TempDir dir;
  std::string junk = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + std::string(200, '\xff');
  nlm::testing::write_text(dir.file("bad.gz"), junk);
  EXPECT_THROW(read_all(dir.file("bad.gz")), Error);
}

TEST(CompressedStream, MissingFileIsUsageError) {
  try {
    InputStream::open("/nonexistent/file.jsonl");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
  }
}

TEST(CompressedStream, ExtensionMapping) {
  EXPECT_EQ(compression_from_extension("a.jsonl.gz"), Compression::Gzip);
  EXPECT_EQ(compression_from_extension("a.jsonl.zst"), Compression::Zstd);
  EXPECT_EQ(compression_from_extension("a.xml.bz2"), Compression::Bzip2);
  EXPECT_EQ(compression_from_extension("a.jsonl"), Compression::None);
}

}  // namespace
