// Streaming decompression and compression for gzip (multi-member), zstd (multi-frame) and bzip2
// (multi-stream). Readers pick the codec by magic bytes, so a mislabelled file still reads;
// writers pick it by extension. A stream that ends before its codec says it is complete raises
// a runtime nlm::Error that names the file, so callers can count the truncation and go on.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace nlm {

enum class Compression { None, Gzip, Zstd, Bzip2 };

const char* compression_name(Compression c);
// By the file name's last extension: .gz, .zst/.zstd, .bz2; anything else is None.
Compression compression_from_extension(std::string_view path);
// By the leading bytes (needs up to 4); None when no codec's magic matches.
Compression compression_from_magic(const unsigned char* data, size_t size);

class InputStream {
 public:
  virtual ~InputStream() = default;
  // Opens `path` ("-" is stdin) and detects the codec from its first bytes.
  static std::unique_ptr<InputStream> open(const std::string& path);
  // Fills up to n decompressed bytes; returns 0 only at a clean end of data.
  virtual size_t read(char* buffer, size_t n) = 0;
  // Compressed bytes consumed from the file so far (for progress against the file size).
  virtual uint64_t raw_bytes_read() const = 0;
  virtual Compression compression() const = 0;
  const std::string& path() const { return path_; }

 protected:
  std::string path_;
};

// Compresses into an atomically published file (see AtomicFile): nothing appears under the final
// name until commit().
class OutputStream {
 public:
  // compression defaults to the one named by the path's extension; level < 0 is the codec default.
  static std::unique_ptr<OutputStream> create(const std::string& path, int level = -1);
  static std::unique_ptr<OutputStream> create(const std::string& path, Compression compression,
                                              int level = -1);
  virtual ~OutputStream() = default;
  virtual void write(std::string_view data) = 0;
  // Finishes the codec's frame and publishes the file.
  virtual void commit() = 0;
  virtual uint64_t bytes_in() const = 0;   // uncompressed bytes written
  virtual uint64_t bytes_out() const = 0;  // bytes in the file (valid after commit)
};

}  // namespace nlm
