// Atomic publication of output files: bytes go to a hidden temp file beside the target, and
// commit() fsyncs it, renames it over the final name and fsyncs the directory. A process killed
// at any moment therefore leaves either the old file or the new one, never a torn file; the temp
// it leaves behind (".NAME.tmp.PID.N") is swept by remove_stale_temps when a rerun publishes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nlm {

class AtomicFile {
 public:
  // Creates the parent directory if needed. Throws nlm::Error if the temp file cannot be made.
  explicit AtomicFile(std::string final_path);
  ~AtomicFile();  // discards the temp file unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view data);
  void flush();
  void commit();
  void abort();

  const std::string& final_path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }
  uint64_t bytes_written() const { return bytes_; }

 private:
  std::string final_path_;
  std::string temp_path_;
  int fd_ = -1;
  std::vector<char> buffer_;
  uint64_t bytes_ = 0;
  bool done_ = false;
};

// Removes the temp files that AtomicFile writers killed before commit() left in `dir` (not its
// subfolders): those of a process that no longer runs. This process's own temps, and those of a
// live process, stay. Returns how many were removed. Stages call it when they publish a folder.
size_t remove_stale_temps(const std::string& dir);

// Writes a whole file atomically.
void write_file_atomic(const std::string& path, std::string_view content);
// Reads a whole (small) file; throws nlm::Error if it cannot.
std::string read_file(const std::string& path);
// mkdir -p; throws nlm::Error on failure.
void make_dirs(const std::string& path);
// fsync a directory so a rename inside it is durable.
void sync_dir(const std::string& dir);

}  // namespace nlm
