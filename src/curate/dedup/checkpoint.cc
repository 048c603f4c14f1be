// Checkpoint files: <tag>.docs (binary: counts, sizes, values, read stats) and <tag>.done (text:
// one "band|exact <file name> <records> <bytes>" line a run). Little-endian host layout: checkpoints are
// scratch state of one machine's run, not an exchange format.
#include "curate/dedup/checkpoint.h"

#include <cstring>
#include <filesystem>
#include <sstream>
#include <type_traits>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"

namespace nlm::dedup {
namespace {

static_assert(std::is_trivially_copyable_v<corpus::ReadStats>);

template <class T>
void put(std::string& out, const T* data, size_t n) {
  uint64_t count = n;
  out.append(reinterpret_cast<const char*>(&count), sizeof count);
  out.append(reinterpret_cast<const char*>(data), n * sizeof(T));
}

template <class T>
bool get(std::string_view& in, std::vector<T>& out) {
  uint64_t count = 0;
  if (in.size() < sizeof count) return false;
  std::memcpy(&count, in.data(), sizeof count);
  in.remove_prefix(sizeof count);
  if (count > in.size() / sizeof(T)) return false;
  out.resize(count);
  if (count) std::memcpy(static_cast<void*>(out.data()), in.data(), count * sizeof(T));
  in.remove_prefix(count * sizeof(T));
  return true;
}

}  // namespace

std::string checkpoint_tag(const std::string& options_json, size_t index, const FileEntry& input) {
  std::string key = options_json + "\n" + std::to_string(index) + "\n" + input.path + "\n" +
                    std::to_string(input.bytes) + "\n" + input.hash;
  return "f" + std::to_string(index) + "-" + hash128(key).hex().substr(0, 16);
}

bool load_checkpoint(const std::string& dir, const std::string& tag, FileCheckpoint& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir + "/" + tag + ".done", ec)) return false;
  out = {};
  try {
    std::istringstream done(read_file(dir + "/" + tag + ".done"));
    std::string kind, name;
    uint64_t records = 0, bytes = 0;
    while (done >> kind >> name >> records >> bytes) {
      std::string path = dir + "/" + name;
      if (fs::file_size(path, ec) != bytes || ec) return false;
      (kind == "band" ? out.band_runs : out.exact_runs).emplace_back(path, records);
    }
    std::string docs = read_file(dir + "/" + tag + ".docs");
    std::string_view in(docs);
    std::vector<corpus::ReadStats> stats;
    if (!get(in, out.bytes) || !get(in, out.value) || !get(in, stats) || stats.size() != 1 || !in.empty())
      return false;
    out.stats = stats[0];
  } catch (const Error&) {
    return false;
  }
  return true;
}

void save_checkpoint(const std::string& dir, const std::string& tag, const FileCheckpoint& cp) {
  std::string docs;
  put(docs, cp.bytes.data(), cp.bytes.size());
  put(docs, cp.value.data(), cp.value.size());
  put(docs, &cp.stats, 1);
  write_file_atomic(dir + "/" + tag + ".docs", docs);
  std::string done;
  auto line = [&](const char* kind, const std::string& path, uint64_t n) {
    done += std::string(kind) + " " + std::filesystem::path(path).filename().string() + " " + std::to_string(n) +
            " " + std::to_string(std::filesystem::file_size(path)) + "\n";
  };
  for (auto& [path, n] : cp.band_runs) line("band", path, n);
  for (auto& [path, n] : cp.exact_runs) line("exact", path, n);
  write_file_atomic(dir + "/" + tag + ".done", done);
}

}  // namespace nlm::dedup
