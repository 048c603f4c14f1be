// Fuzzes MediaWiki XML dumps through curate::open_source (corpus::MediaWikiReader, then
// curate::strip_wikitext on each article), and strip_wikitext alone on the raw bytes, since
// wikitext markup nests and unbalanced markup must not run away. The first byte picks which.
#include "corpus/read_options.h"
#include "curate/html_extract.h"
#include "curate/source.h"
#include "curate/wikitext.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view body = nlm::fuzz::as_view(data + 1, size - 1);
  nlm::fuzz::expect_only_nlm_errors([&] {
    if (mode & 0x01) {
      std::string text = nlm::curate::strip_wikitext(body);
      // Markup is ASCII, so stripping valid UTF-8 must leave valid UTF-8.
      if (nlm::text::utf8_valid(body) && !nlm::text::utf8_valid(text)) std::abort();
      return;
    }
    std::string path = nlm::fuzz::write_input("enwiki-latest-pages-articles.xml", body);
    nlm::corpus::ReadOptions read;
    read.max_reported = 0;
    nlm::corpus::Diagnostics diagnostics(0, false);
    auto source = nlm::curate::open_source(path, read, nlm::curate::HtmlOptions{}, &diagnostics);
    nlm::corpus::Document doc;
    while (source->next(doc)) nlm::fuzz::check_document(doc);
  });
  return 0;
}
