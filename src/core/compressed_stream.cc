// Codec implementations for InputStream/OutputStream on zlib, libzstd and libbz2.
#include "core/compressed_stream.h"

#include <bzlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"

namespace nlm {

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::None: return "none";
    case Compression::Gzip: return "gzip";
    case Compression::Zstd: return "zstd";
    case Compression::Bzip2: return "bzip2";
  }
  return "none";
}

Compression compression_from_extension(std::string_view path) {
  auto ends = [&](std::string_view suf) {
    return path.size() >= suf.size() && path.substr(path.size() - suf.size()) == suf;
  };
  if (ends(".gz")) return Compression::Gzip;
  if (ends(".zst") || ends(".zstd")) return Compression::Zstd;
  if (ends(".bz2")) return Compression::Bzip2;
  return Compression::None;
}

Compression compression_from_magic(const unsigned char* d, size_t n) {
  if (n >= 2 && d[0] == 0x1f && d[1] == 0x8b) return Compression::Gzip;
  if (n >= 4 && d[0] == 0x28 && d[1] == 0xb5 && d[2] == 0x2f && d[3] == 0xfd)
    return Compression::Zstd;
  if (n >= 3 && d[0] == 'B' && d[1] == 'Z' && d[2] == 'h') return Compression::Bzip2;
  return Compression::None;
}

namespace {

constexpr size_t kRawChunk = 1 << 18;

// Raw file bytes with a small look-ahead so the codec can be sniffed before decoding starts.
class RawFile {
 public:
  explicit RawFile(const std::string& path) : path_(path) {
    if (path == "-") {
      fd_ = 0;
      owned_ = false;
    } else {
      fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) {
        int err = errno;
        if (err == ENOENT)
          usage_error("input file not found", path, "check the path");
        runtime_error("cannot open input: " + errno_text(err), path);
      }
    }
  }
  ~RawFile() {
    if (owned_ && fd_ >= 0) ::close(fd_);
  }
  size_t read(char* buf, size_t n) {
    for (;;) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) {
        total_ += static_cast<uint64_t>(r);
        return static_cast<size_t>(r);
      }
      if (errno == EINTR) continue;
      if (errno == EISDIR) usage_error("input is a directory, not a file", path_);
      runtime_error("read failed: " + errno_text(errno), path_);
    }
  }
  uint64_t total() const { return total_; }

 private:
  std::string path_;
  int fd_ = -1;
  bool owned_ = true;
  uint64_t total_ = 0;
};

// Shared plumbing: a raw input buffer that codecs consume from.
class CodecInput : public InputStream {
 public:
  CodecInput(std::unique_ptr<RawFile> raw, std::vector<char> pending)
      : raw_(std::move(raw)), in_(std::move(pending)) {
    in_.reserve(kRawChunk);
  }
  uint64_t raw_bytes_read() const override { return raw_->total() - (in_.size() - pos_); }

 protected:
  // Makes sure there are unread raw bytes; returns false at end of file.
  bool refill() {
    if (pos_ < in_.size()) return true;
    if (eof_) return false;
    in_.resize(kRawChunk);
    size_t n = raw_->read(in_.data(), kRawChunk);
    in_.resize(n);
    pos_ = 0;
    if (n == 0) eof_ = true;
    return n > 0;
  }
  [[noreturn]] void truncated() const {
    runtime_error(std::string("truncated ") + compression_name(compression()) + " stream",
                  path_, "the file ends before the compressed data does; re-download or re-create it");
  }
  [[noreturn]] void corrupt(const std::string& what) const {
    runtime_error(std::string("corrupt ") + compression_name(compression()) + " data: " + what,
                  path_);
  }
  std::unique_ptr<RawFile> raw_;
  std::vector<char> in_;
  size_t pos_ = 0;
  bool eof_ = false;
};

class PlainInput : public CodecInput {
 public:
  using CodecInput::CodecInput;
  size_t read(char* buf, size_t n) override {
    if (!refill()) return 0;
    size_t k = std::min(n, in_.size() - pos_);
    std::memcpy(buf, in_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  Compression compression() const override { return Compression::None; }
};

class GzipInput : public CodecInput {
 public:
  GzipInput(std::unique_ptr<RawFile> raw, std::vector<char> pending)
      : CodecInput(std::move(raw), std::move(pending)) {
    std::memset(&zs_, 0, sizeof zs_);
    if (inflateInit2(&zs_, 15 + 32) != Z_OK) runtime_error("zlib init failed", path_);
  }
  ~GzipInput() override { inflateEnd(&zs_); }
  Compression compression() const override { return Compression::Gzip; }
  size_t read(char* buf, size_t n) override {
    if (finished_) return 0;
    zs_.next_out = reinterpret_cast<Bytef*>(buf);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    while (zs_.avail_out > 0) {
      if (!refill()) {
        if (in_member_) truncated();
        finished_ = true;
        break;
      }
      if (!in_member_) {
        // Between members: allow trailing zero padding, else expect another gzip header.
        unsigned char c = static_cast<unsigned char>(in_[pos_]);
        if (c == 0) {
          ++pos_;
          continue;
        }
        in_member_ = true;
      }
      zs_.next_in = reinterpret_cast<Bytef*>(in_.data() + pos_);
      zs_.avail_in = static_cast<uInt>(in_.size() - pos_);
      int rc = inflate(&zs_, Z_NO_FLUSH);
      pos_ = in_.size() - zs_.avail_in;
      if (rc == Z_STREAM_END) {
        in_member_ = false;
        inflateReset(&zs_);
      } else if (rc == Z_BUF_ERROR) {
        continue;  // needs more input
      } else if (rc != Z_OK) {
        corrupt(zs_.msg ? zs_.msg : "inflate error");
      }
      if (zs_.avail_out < n) break;  // return what we have promptly
    }
    return n - zs_.avail_out;
  }

 private:
  z_stream zs_;
  bool in_member_ = false;
  bool finished_ = false;
};

class ZstdInput : public CodecInput {
 public:
  ZstdInput(std::unique_ptr<RawFile> raw, std::vector<char> pending)
      : CodecInput(std::move(raw), std::move(pending)), ds_(ZSTD_createDStream()) {
    ZSTD_initDStream(ds_);
  }
  ~ZstdInput() override { ZSTD_freeDStream(ds_); }
  Compression compression() const override { return Compression::Zstd; }
  size_t read(char* buf, size_t n) override {
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos < out.size) {
      if (!refill()) {
        if (last_ != 0) truncated();
        break;
      }
      ZSTD_inBuffer in{in_.data(), in_.size(), pos_};
      size_t rc = ZSTD_decompressStream(ds_, &out, &in);
      pos_ = in.pos;
      if (ZSTD_isError(rc)) corrupt(ZSTD_getErrorName(rc));
      last_ = rc;
      if (out.pos > 0 && (rc == 0 || pos_ < in_.size())) break;
    }
    return out.pos;
  }

 private:
  ZSTD_DStream* ds_;
  size_t last_ = 0;
};

class Bzip2Input : public CodecInput {
 public:
  Bzip2Input(std::unique_ptr<RawFile> raw, std::vector<char> pending)
      : CodecInput(std::move(raw), std::move(pending)) {
    init();
  }
  ~Bzip2Input() override { BZ2_bzDecompressEnd(&bz_); }
  Compression compression() const override { return Compression::Bzip2; }
  size_t read(char* buf, size_t n) override {
    bz_.next_out = buf;
    bz_.avail_out = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
    unsigned want = bz_.avail_out;
    while (bz_.avail_out > 0) {
      if (!refill()) {
        if (in_stream_) truncated();
        break;
      }
      if (!in_stream_) {  // another bzip2 stream follows (pbzip2 and cat-ed files)
        char* next_out = bz_.next_out;
        unsigned avail_out = bz_.avail_out;
        BZ2_bzDecompressEnd(&bz_);
        init();
        bz_.next_out = next_out;
        bz_.avail_out = avail_out;
        in_stream_ = true;
      }
      bz_.next_in = in_.data() + pos_;
      bz_.avail_in = static_cast<unsigned>(in_.size() - pos_);
      int rc = BZ2_bzDecompress(&bz_);
      pos_ = in_.size() - bz_.avail_in;
      if (rc == BZ_STREAM_END) {
        in_stream_ = false;
      } else if (rc != BZ_OK) {
        corrupt("bzip2 error " + std::to_string(rc));
      }
      if (bz_.avail_out < want) break;
    }
    return want - bz_.avail_out;
  }

 private:
  void init() {
    std::memset(&bz_, 0, sizeof bz_);
    if (BZ2_bzDecompressInit(&bz_, 0, 0) != BZ_OK) runtime_error("bzip2 init failed", path_);
  }
  bz_stream bz_;
  bool in_stream_ = true;
};

}  // namespace

std::unique_ptr<InputStream> InputStream::open(const std::string& path) {
  auto raw = std::make_unique<RawFile>(path);
  std::vector<char> head(4);
  size_t got = 0;
  while (got < head.size()) {
    size_t r = raw->read(head.data() + got, head.size() - got);
    if (r == 0) break;
    got += r;
  }
  head.resize(got);
  Compression c =
      compression_from_magic(reinterpret_cast<const unsigned char*>(head.data()), head.size());
  std::unique_ptr<InputStream> s;
  switch (c) {
    case Compression::Gzip: s = std::make_unique<GzipInput>(std::move(raw), std::move(head)); break;
    case Compression::Zstd: s = std::make_unique<ZstdInput>(std::move(raw), std::move(head)); break;
    case Compression::Bzip2: s = std::make_unique<Bzip2Input>(std::move(raw), std::move(head)); break;
    case Compression::None: s = std::make_unique<PlainInput>(std::move(raw), std::move(head)); break;
  }
  s->path_ = path;
  return s;
}

namespace {

class OutputBase : public OutputStream {
 public:
  explicit OutputBase(const std::string& path) : file_(path) {}
  uint64_t bytes_in() const override { return in_; }
  uint64_t bytes_out() const override { return file_.bytes_written(); }

 protected:
  AtomicFile file_;
  uint64_t in_ = 0;
  std::vector<char> buf_ = std::vector<char>(1 << 18);
};

class PlainOutput : public OutputBase {
 public:
  using OutputBase::OutputBase;
  void write(std::string_view d) override {
    in_ += d.size();
    file_.write(d);
  }
  void commit() override { file_.commit(); }
};

class GzipOutput : public OutputBase {
 public:
  GzipOutput(const std::string& path, int level) : OutputBase(path) {
    std::memset(&zs_, 0, sizeof zs_);
    if (deflateInit2(&zs_, level < 0 ? 6 : level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      runtime_error("zlib init failed", path);
  }
  ~GzipOutput() override { deflateEnd(&zs_); }
  void write(std::string_view d) override {
    in_ += d.size();
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(d.data()));
    zs_.avail_in = static_cast<uInt>(d.size());
    pump(Z_NO_FLUSH);
  }
  void commit() override {
    zs_.avail_in = 0;
    pump(Z_FINISH);
    file_.commit();
  }

 private:
  void pump(int flush) {
    for (;;) {
      zs_.next_out = reinterpret_cast<Bytef*>(buf_.data());
      zs_.avail_out = static_cast<uInt>(buf_.size());
      int rc = deflate(&zs_, flush);
      file_.write({buf_.data(), buf_.size() - zs_.avail_out});
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (zs_.avail_in == 0 && zs_.avail_out != 0)) break;
      if (rc != Z_OK && rc != Z_BUF_ERROR) runtime_error("gzip compression failed", file_.final_path());
    }
  }
  z_stream zs_;
};

class ZstdOutput : public OutputBase {
 public:
  ZstdOutput(const std::string& path, int level) : OutputBase(path), cs_(ZSTD_createCStream()) {
    ZSTD_CCtx_setParameter(cs_, ZSTD_c_compressionLevel, level < 0 ? 3 : level);
    ZSTD_CCtx_setParameter(cs_, ZSTD_c_checksumFlag, 1);
  }
  ~ZstdOutput() override { ZSTD_freeCStream(cs_); }
  void write(std::string_view d) override {
    in_ += d.size();
    ZSTD_inBuffer in{d.data(), d.size(), 0};
    while (in.pos < in.size) {
      ZSTD_outBuffer out{buf_.data(), buf_.size(), 0};
      size_t rc = ZSTD_compressStream2(cs_, &out, &in, ZSTD_e_continue);
      if (ZSTD_isError(rc)) runtime_error(ZSTD_getErrorName(rc), file_.final_path());
      file_.write({buf_.data(), out.pos});
    }
  }
  void commit() override {
    ZSTD_inBuffer in{nullptr, 0, 0};
    size_t rc;
    do {
      ZSTD_outBuffer out{buf_.data(), buf_.size(), 0};
      rc = ZSTD_compressStream2(cs_, &out, &in, ZSTD_e_end);
      if (ZSTD_isError(rc)) runtime_error(ZSTD_getErrorName(rc), file_.final_path());
      file_.write({buf_.data(), out.pos});
    } while (rc != 0);
    file_.commit();
  }

 private:
  ZSTD_CStream* cs_;
};

class Bzip2Output : public OutputBase {
 public:
  Bzip2Output(const std::string& path, int level) : OutputBase(path) {
    std::memset(&bz_, 0, sizeof bz_);
    if (BZ2_bzCompressInit(&bz_, level < 1 || level > 9 ? 9 : level, 0, 0) != BZ_OK)
      runtime_error("bzip2 init failed", path);
  }
  ~Bzip2Output() override { BZ2_bzCompressEnd(&bz_); }
  void write(std::string_view d) override {
    in_ += d.size();
    bz_.next_in = const_cast<char*>(d.data());
    bz_.avail_in = static_cast<unsigned>(d.size());
    while (bz_.avail_in > 0) {
      bz_.next_out = buf_.data();
      bz_.avail_out = static_cast<unsigned>(buf_.size());
      if (BZ2_bzCompress(&bz_, BZ_RUN) != BZ_RUN_OK)
        runtime_error("bzip2 compression failed", file_.final_path());
      file_.write({buf_.data(), buf_.size() - bz_.avail_out});
    }
  }
  void commit() override {
    int rc;
    do {
      bz_.next_out = buf_.data();
      bz_.avail_out = static_cast<unsigned>(buf_.size());
      rc = BZ2_bzCompress(&bz_, BZ_FINISH);
      if (rc != BZ_FINISH_OK && rc != BZ_STREAM_END)
        runtime_error("bzip2 compression failed", file_.final_path());
      file_.write({buf_.data(), buf_.size() - bz_.avail_out});
    } while (rc != BZ_STREAM_END);
    file_.commit();
  }

 private:
  bz_stream bz_;
};

}  // namespace

std::unique_ptr<OutputStream> OutputStream::create(const std::string& path, int level) {
  return create(path, compression_from_extension(path), level);
}

std::unique_ptr<OutputStream> OutputStream::create(const std::string& path, Compression c,
                                                   int level) {
  switch (c) {
    case Compression::Gzip: return std::make_unique<GzipOutput>(path, level);
    case Compression::Zstd: return std::make_unique<ZstdOutput>(path, level);
    case Compression::Bzip2: return std::make_unique<Bzip2Output>(path, level);
    case Compression::None: break;
  }
  return std::make_unique<PlainOutput>(path);
}

}  // namespace nlm
