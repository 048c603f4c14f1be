// JSONL document output: a single atomically published file (JsonlWriter), and a sharded writer
// that rolls over to a new file at a document or byte cap and records every shard in the
// folder's manifest.json. Records are written as {"id", "text", ...other fields in order}.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/manifest.h"
#include "corpus/document.h"

namespace nlm {
class OutputStream;
}
namespace nlm::opt {
class Schema;
}

namespace nlm::corpus {

struct WriteOptions {
  // JSON member names for the text and the id (the id is omitted when empty).
  std::string text_field = "text";
  std::string id_field = "id";
  // Codec level; < 0 uses the codec default (zstd 3, gzip 6, bzip2 9).
  int level = -1;
};

// Appends one JSONL record (with the trailing newline) for `doc` to `out`.
void append_jsonl(std::string& out, const Document& doc, const WriteOptions& options = {});

class JsonlWriter {
 public:
  // The codec comes from the path's extension (.jsonl, .jsonl.gz, .jsonl.zst, .jsonl.bz2).
  explicit JsonlWriter(const std::string& path, const WriteOptions& options = {});
  ~JsonlWriter();  // without commit(), the file is discarded
  void write(const Document& doc);
  // Publishes the file atomically.
  void commit();
  uint64_t docs() const { return docs_; }
  uint64_t bytes() const;  // uncompressed bytes written so far
  uint64_t file_bytes() const;  // compressed size (after commit)
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  WriteOptions options_;
  std::unique_ptr<OutputStream> out_;
  std::string line_;
  uint64_t docs_ = 0;
};

struct ShardOptions {
  // Output folder (created if needed).
  std::string dir;
  // Shard file names are <prefix>-NNNNN<extension>.
  std::string prefix = "part";
  std::string extension = ".jsonl.zst";
  // Start a new shard after this many documents (0 = no limit).
  uint64_t max_docs = 0;
  // Start a new shard after this many uncompressed bytes (0 = no limit). Default 256 MB.
  uint64_t max_bytes = 256ull << 20;
  WriteOptions write;
};

// The shard options' keys and flags: -o/--output (not a YAML key: a pipeline stage owns its
// folder), max_docs, max_bytes, extension.
void declare(opt::Schema& schema, ShardOptions& options);

class ShardWriter {
 public:
  // Removes any previous manifest.json in the folder first, so an interrupted run is never taken
  // for a finished one.
  explicit ShardWriter(ShardOptions options);
  ~ShardWriter();
  void write(const Document& doc);
  // Publishes the last shard and deletes stale shards of an earlier run that this run did not
  // rewrite. Returns the shard list, for the caller's manifest.
  const std::vector<FileEntry>& close();
  // close(), then writes manifest.json with `manifest`'s stage, options and inputs plus the
  // shard list. Returns the manifest written.
  Manifest finish(Manifest manifest);
  uint64_t docs() const { return total_docs_; }
  const std::vector<FileEntry>& shards() const { return shards_; }

 private:
  void roll();
  std::string shard_path(size_t index) const;
  ShardOptions options_;
  std::unique_ptr<JsonlWriter> current_;
  std::vector<FileEntry> shards_;
  uint64_t total_docs_ = 0;
};

}  // namespace nlm::corpus
