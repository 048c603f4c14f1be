// Peak memory and time of a training step with the chunked classifier (model/classifier.h), at the
// shape where the logits dominate: V = 32000, N = 8 x 1024 = 8192 tokens per step, a narrow 2-layer
// model (C = 128) so the [N, V] logits (1 GiB in fp32) are most of what the step holds. Run one
// setting per process, since the peak RSS only grows:
//   bench_classifier [chunk_rows] [fused|split]
// chunk_rows 0 (the default) is the automatic chunk; 8192 puts all rows in one chunk, the layout
// before chunking (one [N, V] buffer, the gradient computed in place). "split" runs forward() then
// backward() (which recomputes the head's logits) instead of the fused forward_backward().
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "harness.h"
#include "model/classifier.h"
#include "model/llama.h"
#include "tensor/backend.h"

int main(int argc, char** argv) {
  using namespace nlm;
  const int64_t chunk = argc > 1 ? std::atoll(argv[1]) : 0;
  const bool fused = argc <= 2 || std::string(argv[2]) != "split";
  model::ModelConfig c;
  c.vocab_size = 32000;
  c.hidden_size = 128;
  c.intermediate_size = 256;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 4;
  c.max_position_embeddings = 1024;
  const int B = 8, T = 1024, N = B * T;
  auto& be = tensor::backend_for("cpu");
  model::ModelOptions o;
  o.classifier_chunk_rows = chunk;
  model::Llama m(c, be, o);
  m.init_random(1);
  std::mt19937 rng(2);
  model::Batch batch;
  batch.B = B;
  batch.T = T;
  for (int i = 0; i < N; ++i) {
    batch.inputs.push_back(static_cast<int32_t>(rng() % c.vocab_size));
    batch.targets.push_back(static_cast<int32_t>(rng() % c.vocab_size));
  }
  batch.set_default_positions();
  const int64_t rows = model::classifier_chunk_rows(chunk, N, c.vocab_size, tensor::DType::F32);
  std::printf("classifier: V %lld, N %d, %lld rows per chunk (%.0f MiB of logits), %s\n",
              static_cast<long long>(c.vocab_size), N, static_cast<long long>(rows),
              double(rows) * double(c.vocab_size) * 4 / (1 << 20), fused ? "forward_backward" : "forward + backward");
  double loss = 0;
  bench::Sample s = bench::time_runs(
      [&] {
        m.zero_grad();
        if (fused) {
          loss = m.forward_backward(batch);
        } else {
          loss = m.forward(batch);
          m.backward();
        }
      },
      2, 1);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("loss %.6f\n", loss);
  const std::string tag = "classifier_chunk" + std::to_string(rows) + (fused ? "" : "_split");
  bench::report_value(tag + "_step_s", s.median, "s");
  bench::report_value(tag + "_peak_rss_mib", double(ru.ru_maxrss) / 1024, "MiB");
  return 0;
}
