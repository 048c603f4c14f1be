// Sequential read → ShardWriter copy with progress and a manifest.
#include "corpus/reshard.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/manifest.h"
#include "core/options.h"
#include "core/progress.h"
#include "core/stage_output.h"
#include "corpus/inputs.h"
#include "corpus/reader.h"

namespace nlm::corpus {

std::string ReshardResult::summary() const {
  return "wrote " + std::to_string(docs) + " documents in " + std::to_string(shards) +
         " shards; skipped " + std::to_string(read.skipped()) + " malformed records, " +
         std::to_string(read.truncated_files) + " truncated files, repaired " +
         std::to_string(read.invalid_utf8_docs) + " documents with invalid UTF-8";
}

void declare(opt::Schema& s, ReshardOptions& o) {
  declare(s, o.shards);
  s.add("level", o.shards.write.level, "Compression level of the shard codec (-1 = the codec's default)").range(-1, 22);
}

ReshardResult reshard(const std::vector<std::string>& files, const ReshardOptions& options) {
  auto start = std::chrono::steady_clock::now();
  Manifest manifest = plan_stage("corpus.shard",
                                 opt::with_member(opt::json_of(options), "read", opt::json_of(options.read)), files);

  ShardWriter writer(options.shards);
  Diagnostics diag(options.read.max_reported, options.read.strict);
  Progress progress("corpus shard", total_size(files));
  ReshardResult result;
  Document doc;
  for (const auto& f : files) {
    DocumentReader reader(f, options.read, &diag);
    uint64_t last = 0;
    while (reader.next(doc)) {
      writer.write(doc);
      progress.add(1, reader.raw_bytes_read() - last);
      last = reader.raw_bytes_read();
    }
    result.read.merge(reader.stats());
  }
  progress.finish();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  manifest.seconds = result.seconds;
  manifest.stats_json = nlohmann::json{{"documents", writer.docs()},
                                       {"skipped", result.read.skipped()},
                                       {"truncated_files", result.read.truncated_files},
                                       {"invalid_utf8_documents", result.read.invalid_utf8_docs}}
                            .dump();
  Manifest written = writer.finish(manifest);
  result.docs = writer.docs();
  result.shards = written.outputs.size();
  return result;
}

}  // namespace nlm::corpus
