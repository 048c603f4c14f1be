// Temp-file + fsync + rename publication, and small file helpers.
#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace nlm {
namespace fs = std::filesystem;

namespace {
std::atomic<uint64_t> g_counter{0};
constexpr size_t kBufferSize = 1 << 20;

void write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      runtime_error("write failed: " + errno_text(errno), path, "check free disk space");
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}
}  // namespace

void make_dirs(const std::string& path) {
  if (path.empty()) return;
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) runtime_error("cannot create directory: " + ec.message(), path);
}

void sync_dir(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

AtomicFile::AtomicFile(std::string final_path) : final_path_(std::move(final_path)) {
  fs::path p(final_path_);
  std::string dir = p.parent_path().string();
  make_dirs(dir);
  std::string name = "." + p.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
                     std::to_string(g_counter.fetch_add(1));
  temp_path_ = (dir.empty() ? fs::path(name) : fs::path(dir) / name).string();
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) runtime_error("cannot create output file: " + errno_text(errno), temp_path_);
  buffer_.reserve(kBufferSize);
}

AtomicFile::~AtomicFile() {
  if (!done_) abort();
}

void AtomicFile::write(std::string_view data) {
  if (done_) runtime_error("write after commit", final_path_);
  bytes_ += data.size();
  if (buffer_.size() + data.size() > kBufferSize) {
    flush();
    if (data.size() >= kBufferSize) {
      write_all(fd_, data.data(), data.size(), temp_path_);
      return;
    }
  }
  buffer_.insert(buffer_.end(), data.begin(), data.end());
}

void AtomicFile::flush() {
  if (!buffer_.empty()) {
    write_all(fd_, buffer_.data(), buffer_.size(), temp_path_);
    buffer_.clear();
  }
}

void AtomicFile::commit() {
  if (done_) return;
  flush();
  if (::fsync(fd_) != 0) runtime_error("fsync failed: " + errno_text(errno), temp_path_);
  if (::close(fd_) != 0) runtime_error("close failed: " + errno_text(errno), temp_path_);
  fd_ = -1;
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
    runtime_error("cannot publish output: " + errno_text(errno), final_path_);
  done_ = true;
  sync_dir(fs::path(final_path_).parent_path().string());
}

void AtomicFile::abort() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!done_) ::unlink(temp_path_.c_str());
  done_ = true;
}

void write_file_atomic(const std::string& path, std::string_view content) {
  AtomicFile f(path);
  f.write(content);
  f.commit();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) runtime_error("cannot open file: " + errno_text(errno), path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace nlm
