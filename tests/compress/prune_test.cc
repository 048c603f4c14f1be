// `nativelm prune`: a layer made the identity has zero cosine importance and is dropped first,
// and removing it leaves the logits unchanged; dead FFN neurons and a dead KV group are the ones
// width pruning removes, again without changing the logits; impossible requests are named.
#include "compress/prune.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "eval/tiny_text_model.h"
#include "model/hf_checkpoint.h"
#include "test_util.h"

namespace nlm::testing {
namespace {

using tensor::DType;

struct Fixture {
  TempDir dir;
  TextModel t = text_model(64, 5);
  std::unique_ptr<model::Llama> m;
  Fixture() {
    model::ModelConfig c = t.model->config();
    c.num_hidden_layers = 4;
    m = std::make_unique<model::Llama>(c, tensor::backend_for("cpu"));
    m->init_random(6);
    std::string text;
    for (int i = 0; i < 40; ++i) text += (i % 2 ? "The cat sat on the mat. Tá sé." : "Tá sé the cat on the mat sat.") + std::string("\n\n");
    write_text(dir.file("calib.txt"), text);
  }
  void zero_rows(const std::string& name, const std::vector<int64_t>& rows) {
    model::Param* p = m->find(name);
    const int64_t width = p->value.dim(1);
    std::vector<float> v(static_cast<size_t>(p->value.numel()));
    m->backend().download(p->value, v.data(), DType::F32);
    for (int64_t r : rows)
      for (int64_t k = 0; k < width; ++k) v[size_t(r * width + k)] = 0;
    m->backend().upload(p->value, v.data(), DType::F32);
  }
  void save() {
    model::save_hf_model(dir.file("m"), *m);
    t.tok.save(dir.file("m"));
  }
  std::vector<float> logits(model::Llama& model) {
    model::Batch b;
    b.B = 1;
    b.T = 6;
    b.inputs = {1, 4, 9, 2, 7, 3};
    b.targets = {4, 9, 2, 7, 3, 1};
    b.set_default_positions();
    model.forward(b);
    return model.logits();
  }
};

void expect_same(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4 * std::max(1.0f, std::abs(a[i]))) << i;
}

TEST(Prune, AnIdentityLayerIsDroppedFirstAndNothingChanges) {
  Fixture f;
  const int64_t C = f.m->config().hidden_size;
  std::vector<int64_t> all_c(static_cast<size_t>(C));
  for (int64_t i = 0; i < C; ++i) all_c[size_t(i)] = i;
  f.zero_rows("model.layers.2.self_attn.o_proj.weight", all_c);  // o_proj and down_proj write nothing:
  f.zero_rows("model.layers.2.mlp.down_proj.weight", all_c);     // layer 2 passes its input through
  f.save();
  compress::PruneOptions o;
  o.calibration = {f.dir.file("calib.txt")};
  o.drop_layers = 1;
  o.output = f.dir.file("small");
  auto r = compress::prune_model(f.dir.file("m"), o);
  ASSERT_EQ(r.layer_importance.size(), 4u);
  EXPECT_NEAR(r.layer_importance[2], 0.0, 1e-6);
  for (int l : {0, 1, 3}) EXPECT_GT(r.layer_importance[size_t(l)], 1e-4) << l;
  EXPECT_EQ(r.dropped_layers, std::vector<int>{2});
  EXPECT_GT(r.calibration_tokens, 100);
  EXPECT_NE(r.summary().find("layer   2  0.000000  dropped"), std::string::npos) << r.summary();
  auto small = model::load_hf_model(f.dir.file("small"), tensor::backend_for("cpu"));
  EXPECT_EQ(small->config().num_hidden_layers, 3);
  EXPECT_LT(r.parameters_after, r.parameters_before);
  expect_same(f.logits(*small), f.logits(*f.m));
  EXPECT_TRUE(std::filesystem::exists(f.dir.file("small/tokenizer.json")));
  // The loss metric: skipping the identity layer changes nothing.
  o.depth_metric = "loss";
  o.output.clear();
  auto by_loss = compress::prune_model(f.dir.file("m"), o);
  EXPECT_NEAR(by_loss.layer_importance[2], 0.0, 1e-6);
  EXPECT_GT(std::abs(by_loss.layer_importance[0]), 1e-4);
  // The CLI prints the ranking.
  auto cli = run_nativelm("prune " + f.dir.file("m") + " " + f.dir.file("calib.txt") + " --drop-layers 1", f.dir.path());
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("dropped"), std::string::npos) << cli.out;
}

TEST(Prune, DeadNeuronsAndADeadKvGroupAreTheOnesRemoved) {
  Fixture f;
  const auto& c = f.m->config();
  const int64_t hs = c.hs(), group = c.num_attention_heads / c.num_key_value_heads;
  for (int l = 0; l < 4; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    f.zero_rows(p + "mlp.gate_proj.weight", {3, 7, 11});
    f.zero_rows(p + "mlp.up_proj.weight", {3, 7, 11});
    // KV group 1: its KV head and its query heads see nothing and add nothing.
    std::vector<int64_t> qrows, kvrows;
    for (int64_t h = group; h < 2 * group; ++h)
      for (int64_t d = 0; d < hs; ++d) qrows.push_back(h * hs + d);
    for (int64_t d = 0; d < hs; ++d) kvrows.push_back(hs + d);
    f.zero_rows(p + "self_attn.q_proj.weight", qrows);
    f.zero_rows(p + "self_attn.k_proj.weight", kvrows);
    f.zero_rows(p + "self_attn.v_proj.weight", kvrows);
  }
  f.save();
  compress::PruneOptions o;
  o.calibration = {f.dir.file("calib.txt")};
  o.ffn_size = c.intermediate_size - 3;
  o.kv_heads = int(c.num_key_value_heads) - 1;
  o.output = f.dir.file("narrow");
  compress::prune_model(f.dir.file("m"), o);
  auto narrow = model::load_hf_model(f.dir.file("narrow"), tensor::backend_for("cpu"));
  EXPECT_EQ(narrow->config().intermediate_size, c.intermediate_size - 3);
  EXPECT_EQ(narrow->config().num_key_value_heads, c.num_key_value_heads - 1);
  EXPECT_EQ(narrow->config().num_attention_heads, c.num_attention_heads - group);
  expect_same(f.logits(*narrow), f.logits(*f.m));
}

TEST(Prune, ImpossibleRequestsAreNamed) {
  Fixture f;
  f.save();
  auto error_of = [&](compress::PruneOptions o) -> std::string {
    if (o.calibration.empty()) o.calibration = {f.dir.file("calib.txt")};
    try {
      compress::prune_model(f.dir.file("m"), o);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  compress::PruneOptions o;
  o.drop_layers = 4;
  EXPECT_NE(error_of(o).find("drop_layers"), std::string::npos);
  o = {};
  o.ffn_size = 1000;
  EXPECT_NE(error_of(o).find("ffn_size"), std::string::npos);
  o = {};
  o.kv_heads = 9;
  EXPECT_NE(error_of(o).find("kv_heads"), std::string::npos);
  write_text(f.dir.file("empty.txt"), "");
  o = {};
  o.calibration = {f.dir.file("empty.txt")};
  EXPECT_NE(error_of(o).find("calibration"), std::string::npos);
  auto cli = run_nativelm("prune " + f.dir.file("m") + " " + f.dir.file("calib.txt") + " --drop-layers 9", f.dir.path());
  EXPECT_EQ(cli.exit_code, 2);
  EXPECT_NE(cli.err.find("--drop-layers"), std::string::npos) << cli.err;
}

}  // namespace
}  // namespace nlm::testing
