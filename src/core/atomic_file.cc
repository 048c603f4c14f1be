// Temp-file + fsync + rename publication, and small file helpers.
#include "core/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
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
constexpr std::string_view kTempTag = ".tmp.";

// The writer's pid when `name` is an AtomicFile temp (".NAME.tmp.PID.N"), else -1.
long temp_owner(const std::string& name) {
  auto digits = [](std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == s.npos; };
  if (name.size() < 2 || name[0] != '.') return -1;
  size_t dot = name.rfind('.');
  size_t tag = name.rfind(kTempTag, dot == 0 ? 0 : dot - 1);
  if (dot == std::string::npos || tag == std::string::npos || tag == 0) return -1;
  std::string_view pid(name.data() + tag + kTempTag.size(), dot - tag - kTempTag.size());
  if (!digits(pid) || !digits(std::string_view(name).substr(dot + 1)) || pid.size() > 9) return -1;
  return std::stol(std::string(pid));
}

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
  std::string name = "." + p.filename().string() + std::string(kTempTag) + std::to_string(::getpid()) + "." +
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

size_t remove_stale_temps(const std::string& dir) {
  size_t removed = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir.empty() ? "." : dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    long pid = temp_owner(it->path().filename().string());
    if (pid <= 0 || pid == ::getpid()) continue;
    // A live process (or one we may not signal) may still commit its temp.
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::error_code rm;
    removed += fs::remove(it->path(), rm);
  }
  return removed;
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
