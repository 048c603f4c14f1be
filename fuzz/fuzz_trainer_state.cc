// Fuzzes checkpoint reading on resume: the fuzzed bytes become trainer_state.json of a real
// checkpoint (a tiny model saved once per process), train::load_checkpoint reads it with the
// weights and optimizer state, and its data cursor is restored into LmBatches over a small
// shard, in both reading orders, and one batch is drawn from where it points.
#include "data/token_shard.h"
#include "fuzz_util.h"
#include "model/llama.h"
#include "tensor/backend.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/lm_batches.h"

namespace {

struct Fixture {
  std::unique_ptr<nlm::model::Llama> model;
  std::unique_ptr<nlm::train::AdamW> optimizer;
  std::string checkpoint;
  std::string shard;

  Fixture() {
    nlm::model::ModelConfig c;
    c.vocab_size = 13;
    c.hidden_size = 8;
    c.intermediate_size = 12;
    c.num_hidden_layers = 1;
    c.num_attention_heads = 2;
    c.num_key_value_heads = 2;
    c.max_position_embeddings = 16;
    model = std::make_unique<nlm::model::Llama>(c, nlm::tensor::backend_for("cpu"));
    model->init_random(1);
    optimizer = std::make_unique<nlm::train::AdamW>(*model, nlm::train::AdamWOptions{});
    const std::string dir = nlm::fuzz::scratch_dir();
    shard = dir + "/train.tok";
    nlm::data::TokShardWriter writer(shard, c.vocab_size, nlm::Hash128{});
    for (uint32_t d = 0; d < 3; ++d) {
      std::vector<uint32_t> doc = {1, 2 + d, 3 + d, 4, 5 + d, 6};
      writer.add_document(doc);
    }
    writer.finish();
    nlm::train::TrainerState state;
    state.step = 1;
    state.fingerprint = "fuzz";
    nlm::train::LmBatches batches({{{shard}, 1.0}}, 1, 4, true, 7, c.vocab_size);
    state.data_state = batches.state_json();
    checkpoint = nlm::train::save_checkpoint(dir + "/run", *model, *optimizer, state, 1, "");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  nlm::fuzz::expect_only_nlm_errors([&] {
    nlm::fuzz::write_input("run/checkpoints/" +
                               std::filesystem::path(fixture.checkpoint).filename().string() +
                               "/trainer_state.json",
                           nlm::fuzz::as_view(data, size));
    nlm::train::TrainerState state =
        nlm::train::load_checkpoint(fixture.checkpoint, *fixture.model, *fixture.optimizer);
    for (bool shuffle : {false, true}) {
      nlm::fuzz::expect_only_nlm_errors([&] {
        nlm::train::LmBatches batches({{{fixture.shard}, 1.0}}, 1, 4, true, 7,
                                      fixture.model->config().vocab_size, shuffle);
        batches.restore(state.data_state);
        batches.next();
      });
    }
  });
  return 0;
}
