// Fuzzes JSONL/text documents through the compressed-stream layer and corpus::DocumentReader.
// The first byte picks the reader options and how the rest reaches the reader: as raw bytes
// (plain, or under a .gz name so corrupt codec data is also tried) or compressed by the library's
// own OutputStream (gzip, zstd, bzip2) so the decoders feed the JSONL parser well-formed streams.
#include "core/compressed_stream.h"
#include "corpus/reader.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view body = nlm::fuzz::as_view(data + 1, size - 1);

  nlm::corpus::ReadOptions options;
  options.max_reported = 0;
  options.format = (mode & 0x08) ? nlm::corpus::InputFormat::Text : nlm::corpus::InputFormat::Jsonl;
  options.text_mode = static_cast<nlm::corpus::TextMode>((mode >> 4) % 3);
  options.strict = (mode & 0x80) != 0;

  nlm::fuzz::expect_only_nlm_errors([&] {
    std::string path;
    switch (mode & 0x07) {
      case 0: path = nlm::fuzz::write_input("in.jsonl", body); break;
      case 1: path = nlm::fuzz::write_input("in.jsonl.gz", body); break;
      default: {
        static const char* const kNames[] = {"in.jsonl.gz", "in.jsonl.zst", "in.jsonl.bz2"};
        path = nlm::fuzz::scratch_dir() + "/" + kNames[(mode & 0x07) % 3];
        auto out = nlm::OutputStream::create(path, 1);
        out->write(body);
        out->commit();
      }
    }
    nlm::corpus::Diagnostics diagnostics(0, options.strict);
    nlm::corpus::DocumentReader reader(path, options, &diagnostics);
    nlm::corpus::Document doc;
    uint64_t bytes = 0;
    while (reader.next(doc)) {
      nlm::fuzz::check_document(doc);
      bytes += doc.text.size();
    }
    if (reader.stats().text_bytes != bytes) std::abort();  // the counters must agree with what came out
  });
  return 0;
}
