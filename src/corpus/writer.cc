// JSONL serialisation and shard rollover.
#include "corpus/writer.h"

#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/compressed_stream.h"
#include "core/error.h"
#include "core/json_escape.h"
#include "core/options.h"
#include "core/stage_output.h"

namespace nlm::corpus {

void declare(opt::Schema& s, ShardOptions& o) {
  s.add("output", o.dir, "Output folder (shards, manifest.json, report.json)").flag("-o,--output").no_yaml().no_json();
  s.add("max_docs", o.max_docs, "Documents per output shard (0 = no cap)");
  s.size("max_bytes", o.max_bytes, "Uncompressed bytes per output shard (0 = no cap)", true);
  s.add("extension", o.extension, "Output shard extension; picks the codec: .jsonl, .jsonl.gz, .jsonl.zst, .jsonl.bz2");
}
namespace fs = std::filesystem;

void append_jsonl(std::string& out, const Document& doc, const WriteOptions& o) {
  out.push_back('{');
  bool first = true;
  auto key = [&](std::string_view k) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, k);
    out.push_back(':');
  };
  if (!doc.id.empty()) {
    key(o.id_field);
    append_json_string(out, doc.id);
  }
  key(o.text_field);
  append_json_string(out, doc.text);
  for (const auto& [k, v] : doc.fields) {
    if (k == o.text_field || k == o.id_field) continue;
    key(k);
    out.append(v);
  }
  out.append("}\n");
}

JsonlWriter::JsonlWriter(const std::string& path, const WriteOptions& options)
    : path_(path), options_(options), out_(OutputStream::create(path, options.level)) {}

JsonlWriter::~JsonlWriter() = default;

void JsonlWriter::write(const Document& doc) {
  line_.clear();
  append_jsonl(line_, doc, options_);
  out_->write(line_);
  ++docs_;
}

void JsonlWriter::commit() { out_->commit(); }
uint64_t JsonlWriter::bytes() const { return out_->bytes_in(); }
uint64_t JsonlWriter::file_bytes() const { return out_->bytes_out(); }

ShardWriter::ShardWriter(ShardOptions options) : options_(std::move(options)) {
  if (options_.dir.empty()) usage_error("no output folder given", "--output");
  make_dirs(options_.dir);
  retract_stage(options_.dir);
}

ShardWriter::~ShardWriter() = default;

std::string ShardWriter::shard_path(size_t index) const {
  char num[16];
  std::snprintf(num, sizeof num, "%05zu", index);
  return (fs::path(options_.dir) / (options_.prefix + "-" + num + options_.extension)).string();
}

void ShardWriter::roll() {
  if (!current_) return;
  current_->commit();
  FileEntry e = describe_file(current_->path(), fs::path(current_->path()).filename().string());
  e.records = current_->docs();
  shards_.push_back(std::move(e));
  current_.reset();
}

void ShardWriter::write(const Document& doc) {
  if (current_ && ((options_.max_docs && current_->docs() >= options_.max_docs) ||
                   (options_.max_bytes && current_->bytes() >= options_.max_bytes)))
    roll();
  if (!current_)
    current_ = std::make_unique<JsonlWriter>(shard_path(shards_.size()), options_.write);
  current_->write(doc);
  ++total_docs_;
}

const std::vector<FileEntry>& ShardWriter::close() {
  roll();
  // Stale shards from an earlier, longer run in the same folder.
  for (size_t i = shards_.size();; ++i) {
    std::error_code ec;
    if (!fs::remove(shard_path(i), ec)) break;
  }
  return shards_;
}

Manifest ShardWriter::finish(Manifest manifest) {
  manifest.outputs = close();
  publish_stage(options_.dir, manifest, manifest.seconds, manifest.stats_json);
  return manifest;
}

}  // namespace nlm::corpus
