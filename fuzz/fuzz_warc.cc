// Fuzzes WARC/WET archives the way curate reads them: curate::open_source picks the WARC source,
// which parses records (corpus::WarcReader), decodes each HTML response's charset (charset.h) and
// extracts its main text with gumbo (html_extract.h). The first byte chooses a plain or .gz name
// and the HTML limits; the charset and extraction functions are also run on the whole input.
#include "core/compressed_stream.h"
#include "corpus/read_options.h"
#include "curate/charset.h"
#include "curate/doc_context.h"
#include "curate/html_extract.h"
#include "curate/source.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view body = nlm::fuzz::as_view(data + 1, size - 1);

  nlm::curate::HtmlOptions html;
  if (mode & 0x10) {
    html.max_depth = 64;
    html.max_html_bytes = 512;
    html.length_low = 5;
    html.length_high = 20;
  }
  nlm::fuzz::expect_only_nlm_errors([&] {
    std::string path;
    if ((mode & 0x03) == 1) {
      path = nlm::fuzz::write_input("in.warc.gz", body);
    } else if ((mode & 0x03) == 2) {
      path = nlm::fuzz::scratch_dir() + "/in.warc.gz";  // a well-formed gzip of the fuzzed records
      auto out = nlm::OutputStream::create(path, 1);
      out->write(body);
      out->commit();
    } else {
      path = nlm::fuzz::write_input((mode & 0x04) ? "in.warc.wet" : "in.warc", body);
    }
    nlm::corpus::ReadOptions read;
    read.max_reported = 0;
    nlm::corpus::Diagnostics diagnostics(0, false);
    auto source = nlm::curate::open_source(path, read, html, &diagnostics);
    nlm::corpus::Document doc;
    while (source->next(doc)) nlm::fuzz::check_document(doc);
    nlm::curate::Counters counters;
    source->add_counters(counters);
  });
  if (mode & 0x20) {
    // The same bytes as one page body: charset chain, then extraction of the decoded text.
    nlm::fuzz::expect_only_nlm_errors([&] {
      auto decoded = nlm::curate::decode_to_utf8(body, "text/html", true);
      nlm::curate::extract_html_text(decoded.text, html);
    });
  }
  return 0;
}
