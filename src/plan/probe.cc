// Short real training runs for `nativelm plan --probe`: the same run_train that `nativelm train`
// uses, with the settings of the train YAML the plan writes (micro-batch, sequence length,
// recompute, document shuffling), so the measured tokens/s is what a train run of that YAML gets
// on this backend.
#include "plan/probe.h"

#include <unistd.h>

#include <filesystem>

#include "core/hash.h"
#include "data/token_shard.h"
#include "train/trainer.h"

namespace nlm::plan {

std::vector<ProbeResult> probe_shapes(const std::vector<model::ModelConfig>& shapes, const ProbeSetup& setup) {
  namespace fs = std::filesystem;
  static int calls = 0;
  const fs::path tmp = fs::temp_directory_path() /
                       ("nativelm-probe-" + std::to_string(getpid()) + "-" + std::to_string(calls++));
  fs::create_directories(tmp);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{tmp};
  std::vector<ProbeResult> out;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const auto& shape = shapes[i];
    std::vector<std::string> files = setup.train_files;
    if (files.empty()) {
      // Random tokens: throughput does not depend on what the tokens are.
      const std::string path = (tmp / ("synthetic-" + std::to_string(i) + ".tok")).string();
      data::TokShardWriter w(path, static_cast<uint64_t>(shape.vocab_size), Hash128{});
      uint64_t state = 0x9e3779b97f4a7c15ull;
      std::vector<uint32_t> doc(static_cast<size_t>(setup.rows) * (setup.seq_len + 1) * 2);
      for (auto& t : doc) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        t = static_cast<uint32_t>((state >> 33) % static_cast<uint64_t>(shape.vocab_size));
      }
      w.add_document(doc);
      w.finish();
      files = {path};
    }
    train::TrainOptions t;
    t.out_dir = (tmp / ("run-" + std::to_string(i))).string();
    t.model = shape;
    t.model.max_position_embeddings = std::max<int64_t>(shape.max_position_embeddings, setup.seq_len);
    t.train_data = {train::DataSource{files, 1.0}};
    t.batch_size = setup.rows;
    t.seq_len = setup.seq_len;
    t.recompute = setup.recompute;
    t.shuffle_documents = true;
    t.steps = setup.steps;
    t.log_every = 0;
    t.eval_every = 0;
    t.checkpoint_every = 0;
    t.device = setup.device;
    t.schedule.warmup_steps = 1;
    train::TrainResult r = train::run_train(t);
    ProbeResult p;
    p.shape = shape;
    p.rows = setup.rows;
    p.recompute = setup.recompute;
    p.params = static_cast<double>(shape.parameter_count());
    p.tokens_per_second = r.tokens_per_second;
    p.achieved_tflops = 8 * p.params * r.tokens_per_second / 1e12;
    out.push_back(p);
  }
  return out;
}

}  // namespace nlm::plan
