// Runs curate's document sources and, on request, the language identifier over every input file,
// and totals CorpusStats.
#include "curate/corpus_stats.h"

#include <algorithm>
#include <memory>

#include "core/options.h"
#include "core/progress.h"
#include "core/runtime.h"
#include "core/thread_pool.h"
#include "corpus/inputs.h"
#include "curate/lid.h"
#include "curate/source.h"

namespace nlm::curate {

void declare(opt::Schema& s, CorpusStatsOptions& o) {
  s.add("json", o.json, "Print JSON instead of a table").no_yaml().no_json();
  s.add("languages", o.languages,
        "Also count documents and bytes per language, as the lid step's identifier sees them");
  s.add("lid_model", o.lid_model, "fastText model for --languages (from nativelm lid train); empty uses CLD2");
  s.add("lid_max_bytes", o.lid_max_bytes, "Bytes of each document the identifier examines").min(1);
}

corpus::CorpusStats corpus_stats(const std::vector<std::string>& files, const CorpusStatsOptions& o) {
  corpus::Diagnostics diag(o.read.max_reported, o.read.strict);
  LidOptions lid;
  lid.backend = o.lid_model.empty() ? "cld2" : "fasttext";
  lid.model = o.lid_model;
  lid.max_bytes = o.lid_max_bytes;
  // One identifier per worker; the first is made before any file is read, so a model that
  // cannot be loaded is an error before the pass rather than inside it.
  std::string lid_name;
  if (o.languages) lid_name = LanguageDetector(lid).name();

  Progress progress("corpus stats", corpus::total_size(files));
  ThreadPool pool(static_cast<int>(std::max<size_t>(1, std::min<size_t>(files.size(), static_cast<size_t>(thread_count())))));
  struct Worker {
    corpus::CorpusStats stats;
    Counters counters;
    std::unique_ptr<LanguageDetector> lid;
  };
  std::vector<Worker> workers(static_cast<size_t>(pool.size()));
  const HtmlOptions html;  // curate's default extraction
  pool.parallel_for_worker(files.size(), [&](size_t i, int w) {
    Worker& wk = workers[static_cast<size_t>(w)];
    if (o.languages && !wk.lid) wk.lid = std::make_unique<LanguageDetector>(lid);
    auto source = open_source(files[i], o.read, html, &diag);
    corpus::Document doc;
    uint64_t last_raw = 0;
    while (source->next(doc)) {
      uint64_t raw = source->raw_bytes_read();
      progress.add(1, raw - last_raw);
      last_raw = raw;
      if (source->rejection()) continue;  // a page that gave no text: counted by the source
      wk.stats.add(doc);
      if (wk.lid) {
        auto& t = wk.stats.languages[wk.lid->detect(doc.text).lang];
        ++t.docs;
        t.bytes += doc.text.size();
      }
    }
    wk.stats.read.merge(source->read_stats());
    source->add_counters(wk.counters);
  });
  progress.finish();
  corpus::CorpusStats total;
  total.lid = lid_name;
  for (const auto& wk : workers) {
    total.merge(wk.stats);
    for (const auto& [group, counts] : wk.counters)
      for (const auto& [name, n] : counts) total.source_counts[group + "." + name] += n;
  }
  return total;
}

}  // namespace nlm::curate
