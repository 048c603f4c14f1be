// Document read throughput: parse and iterate JSONL in plain, zstd and gzip form, one thread, so
// the figure is MB/s per core (of uncompressed JSONL). Also prints the bare decompression rate,
// which bounds what the reader can reach on compressed input.
//   usage: bench_read [MB=256] [runs=5]
// Goals (issue 2): plain >= 500 MB/s per core, zstd >= 300 MB/s per core.
#include <cstdlib>
#include <filesystem>
#include <random>

#include "core/compressed_stream.h"
#include "corpus/reader.h"
#include "corpus/writer.h"
#include "harness.h"

using namespace nlm;

namespace {

// Web-like documents: mixed-length paragraphs of multilingual words, with metadata fields.
void make_corpus(const std::string& path, size_t target_bytes) {
  std::mt19937_64 rng(7);
  const char* words[] = {"the", "language", "model", "Gaeilge", "teanga", "euskara", "hizkuntza",
                         "粵語", "廣東話", "basa", "Jawa", "corpus", "data", "text,", "quality.",
                         "\"quoted\"", "naïve", "Übersetzung", "tokenizer", "2024", "a", "of"};
  corpus::JsonlWriter w(path);
  corpus::Document d;
  size_t written = 0;
  for (uint64_t i = 0; written < target_bytes; ++i) {
    d.clear();
    d.id = "doc-" + std::to_string(i);
    size_t paragraphs = 1 + rng() % 6;
    for (size_t p = 0; p < paragraphs; ++p) {
      size_t n = 20 + rng() % 120;
      for (size_t k = 0; k < n; ++k) {
        d.text += words[rng() % (sizeof words / sizeof *words)];
        d.text += ' ';
      }
      d.text += "\n\n";
    }
    d.set_string_field("url", "https://example.org/page/" + std::to_string(i));
    d.set_string_field("lang", "ga");
    d.set_field("meta", "{\"source\":\"bench\",\"score\":0.87,\"tags\":[\"a\",\"b\"]}");
    written += d.text.size() + 120;
    w.write(d);
  }
  w.commit();
}

}  // namespace

int main(int argc, char** argv) {
  size_t mb = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 256;
  int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  std::string dir = (std::filesystem::temp_directory_path() / "nativelm-bench-read").string();
  std::filesystem::create_directories(dir);
  std::string plain = dir + "/corpus.jsonl";
  if (!std::filesystem::exists(plain) || std::filesystem::file_size(plain) < mb * 900000) {
    std::printf("generating %zu MB of JSONL in %s ...\n", mb, dir.c_str());
    make_corpus(plain, mb << 20);
  }
  double bytes = static_cast<double>(std::filesystem::file_size(plain));
  for (const char* ext : {".gz", ".zst"}) {
    std::string path = plain + ext;
    if (!std::filesystem::exists(path)) {
      auto in = InputStream::open(plain);
      auto out = OutputStream::create(path);
      std::vector<char> buf(1 << 20);
      size_t n;
      while ((n = in->read(buf.data(), buf.size())) > 0) out->write({buf.data(), n});
      out->commit();
    }
  }
  std::printf("corpus: %.1f MB uncompressed JSONL; rates are MB of uncompressed JSONL per second, 1 thread\n",
              bytes / 1e6);
  for (const char* ext : {"", ".zst", ".gz"}) {
    std::string path = plain + ext;
    std::string name = std::string("jsonl") + (*ext ? ext : " (plain)");
    uint64_t docs = 0;
    auto read_docs = [&] {
      corpus::DocumentReader r(path, {});
      corpus::Document d;
      docs = 0;
      while (r.next(d)) ++docs;
    };
    auto s = bench::time_runs(read_docs, runs);
    bench::report_rate("read+parse " + name, bytes / 1e6, s, "MB/s/core");
    auto decompress = [&] {
      auto in = InputStream::open(path);
      std::vector<char> buf(1 << 20);
      while (in->read(buf.data(), buf.size()) > 0) {
      }
    };
    auto d = bench::time_runs(decompress, runs);
    bench::report_rate("decompress only " + name, bytes / 1e6, d, "MB/s/core");
    std::printf("      %llu documents\n", static_cast<unsigned long long>(docs));
  }
  return 0;
}
