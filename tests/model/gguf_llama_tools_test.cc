// nativelm's Q4_K_M and Q4_0 exports checked against llama.cpp's own command-line tools (built by
// scripts/build-llama-cpp.sh into build-peers/llama.cpp/build/bin, or LLAMA_CPP_BIN):
// llama-quantize turns nativelm's F32 export of the same model into Q4_K_M or Q4_0, and the two
// files must hold the same tensor types and the same bytes; llama-perplexity's figure on nativelm's Q4_K_M
// file must agree with nativelm's own perplexity, computed the way llama-perplexity computes it,
// on the weights that file holds. Skips with the reason when the tools are absent.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "test_paths.h"
#include "gguf_fixture.h"
#include "gguf_held_weights.h"
#include "model/decoder.h"
#include "model/gguf_reader.h"
#include "../../bench/llama_cpp_tools.h"  // the llama-perplexity runner bench_quant uses

namespace nlm::testing {
namespace {

namespace fs = std::filesystem;

std::string tools_dir() {
  const char* env = std::getenv("LLAMA_CPP_BIN");
  return env && *env ? env : std::string(NATIVELM_SOURCE_DIR) + "/build-peers/llama.cpp/build/bin";
}

#define REQUIRE_TOOL(name)                                                                                  \
  do {                                                                                                      \
    if (!fs::exists(tools_dir() + "/" name))                                                                \
      GTEST_SKIP() << tools_dir() << "/" name " is absent (scripts/build-llama-cpp.sh, or set LLAMA_CPP_BIN)"; \
  } while (0)

int run(const std::string& cmd) { return std::system(cmd.c_str()); }

struct ToolsFixture : ::testing::Test {
  TempDir dir;
  tokenizer::Tokenizer tok = gguf_test_tokenizer(dir.path());
  // A model folder of config `edit(gguf_test_config(...))`.
  std::string make(const std::string& name, const std::function<void(model::ModelConfig&)>& edit) {
    auto cfg = gguf_test_config(tok.vocab_size());
    edit(cfg);
    const std::string model_dir = dir.file(name);
    save_gguf_test_model(model_dir, cfg, tok);
    return model_dir;
  }
  // llama-quantize's `type` (Q4_K_M, Q4_0) of nativelm's F32 export of model_dir.
  std::string llama_quantize(const std::string& model_dir, const std::string& name, const std::string& type) {
    const std::string f32 = export_gguf_file(model_dir, dir.file(name + "-f32.gguf"), model::GgufOutType::F32);
    const std::string out = dir.file(name + "-llama-" + type + ".gguf"), log = dir.file("quantize.log");
    const int rc = run(tools_dir() + "/llama-quantize " + f32 + " " + out + " " + type + " 2 >" + log + " 2>&1");
    EXPECT_EQ(rc, 0) << read_text(log);
    return out;
  }
  // nativelm's `ours` export of model_dir against llama-quantize's `type` of its F32 export: the
  // same file type, tensor types and bytes (failures name the tensor). Returns the tensors per
  // type, and prints how many are byte-identical.
  std::map<std::string, int> expect_same_as_llama(const std::string& model_dir, const std::string& name,
                                                  model::GgufOutType ours_type, const std::string& type, int file_type) {
    std::map<std::string, int> types;
    const std::string ours = export_gguf_file(model_dir, dir.file(name + "-" + type + ".gguf"), ours_type);
    const std::string theirs = llama_quantize(model_dir, name, type);
    if (!fs::exists(theirs)) return types;
    model::gguf::Reader a(ours), b(theirs);
    EXPECT_EQ(a.get_int("general.file_type"), b.get_int("general.file_type")) << name;
    EXPECT_EQ(a.get_int("general.file_type"), file_type);
    EXPECT_EQ(a.tensors().size(), b.tensors().size()) << name;
    int same_bytes = 0;
    for (const auto& t : a.tensors()) {
      const auto* u = b.find_tensor(t.name);
      if (!u) {
        ADD_FAILURE() << name << " " << t.name << " is not in llama-quantize's file";
        continue;
      }
      EXPECT_EQ(t.type, u->type) << name << " " << t.name;
      ++types[std::string(model::gguf::tensor_type_name(static_cast<model::gguf::TensorType>(t.type)))];
      if (t.type != u->type || t.bytes != u->bytes) continue;
      const bool same = std::memcmp(a.data(t), b.data(*u), t.bytes) == 0;
      same_bytes += same;
      if (!same) {  // how far apart, for the failure message
        auto x = a.read_f32(t), y = b.read_f32(*u);
        float d = 0;
        for (size_t i = 0; i < x.size(); ++i) d = std::max(d, std::fabs(x[i] - y[i]));
        ADD_FAILURE() << name << " " << t.name << ": bytes differ, max |Δ| of the decoded values " << d;
      }
    }
    std::string mix;
    for (auto& [t, n] : types) mix += " " + std::to_string(n) + " " + t;
    std::printf("[ figures  ] %s: %d of %zu tensors byte-identical to llama-quantize's %s;%s\n", name.c_str(), same_bytes,
                a.tensors().size(), type.c_str(), mix.c_str());
    return types;
  }
  static std::function<void(model::ModelConfig&)> wide(bool tied, int layers) {
    return [=](model::ModelConfig& c) {
      c.hidden_size = 256, c.intermediate_size = 384, c.head_dim = 64, c.num_hidden_layers = layers;
      c.tie_word_embeddings = tied;
    };
  }
  struct Case {
    const char* name;
    std::function<void(model::ModelConfig&)> edit;
  };
  static std::vector<Case> cases() {
    return {Case{"wide8", wide(false, 8)}, Case{"tied4", wide(true, 4)}, Case{"h64", [](model::ModelConfig&) {}},
            Case{"h48", [](model::ModelConfig& m) { m.hidden_size = 48, m.intermediate_size = 72; }}};
  }
};

// 256-wide rows (Q4_K and Q6_K super-blocks) with a SwiGLU width of 384 (ffn_down falls back to
// Q5_0, or Q8_0 where the mix wants Q6_K), 8 layers so the use_more_bits rule picks layers 0, 3,
// 6 and 7; untied and tied; and the all-fallback shapes of hidden 64 and 48.
TEST_F(ToolsFixture, LlamaQuantizeWritesTheSameQ4_K_MBytes) {
  REQUIRE_TOOL("llama-quantize");
  for (const Case& c : cases()) {
    auto types = expect_same_as_llama(make(c.name, c.edit), c.name, model::GgufOutType::Q4_K_M, "Q4_K_M", 15);
    if (std::string(c.name) == "wide8") {
      EXPECT_EQ(types["Q4_K"], 1 + 8 * 5 + 4);  // token_embd, q/k/o/gate/up, attn_v of 4 layers
      EXPECT_EQ(types["Q6_K"], 1 + 4);          // output, attn_v of layers 0, 3, 6, 7
      EXPECT_EQ(types["Q8_0"], 4);              // ffn_down of those layers: Q6_K's fallback
      EXPECT_EQ(types["Q5_0"], 4);              // the other ffn_down: Q4_K's fallback
    }
  }
}

// Q4_0 too: every matrix Q4_0 but the logits matrix, Q6_K where its rows are whole super-blocks
// (wide8's output, tied4's token_embd), else Q8_0 (h64), and F16 where rows are not whole 32-blocks
// (h48).
TEST_F(ToolsFixture, LlamaQuantizeWritesTheSameQ4_0Bytes) {
  REQUIRE_TOOL("llama-quantize");
  for (const Case& c : cases()) {
    auto types = expect_same_as_llama(make(c.name, c.edit), c.name, model::GgufOutType::Q4_0, "Q4_0", 2);
    if (std::string(c.name) == "wide8") {
      EXPECT_EQ(types["Q6_K"], 1);  // output
      EXPECT_EQ(types["Q4_0"], 1 + 8 * 7);
    }
    if (std::string(c.name) == "tied4") {
      EXPECT_EQ(types["Q6_K"], 1);  // token_embd makes the logits
    }
  }
}

// llama-perplexity's protocol: the text's tokens (BOS when the tokenizer adds one) cut into chunks
// of n_ctx, each evaluated from an empty cache (its first token replaced by BOS when there is
// one), and the second half of each chunk scored: PPL = exp(mean NLL).
double perplexity_like_llama(const std::string& model_dir, const std::vector<uint32_t>& ids, int n_ctx, int chunks) {
  auto m = model::load_hf_model(model_dir, tensor::backend_for("cpu"));
  model::Decoder d(*m, {tensor::cpu::WeightFormat::F32, 1, 1, n_ctx, n_ctx});
  auto t = tokenizer::Tokenizer::load(model_dir + "/tokenizer.json");
  const auto with_bos = t.encode("", true);
  std::vector<float> z(static_cast<size_t>(d.vocab_size()));
  double nll = 0;
  int count = 0;
  for (int c = 0; c < chunks; ++c) {
    d.truncate(0, 0);
    for (int j = 0; j < n_ctx - 1; ++j) {
      int32_t id = static_cast<int32_t>(ids[static_cast<size_t>(c * n_ctx + j)]);
      if (j == 0 && !with_bos.empty()) id = static_cast<int32_t>(with_bos[0]);
      const int32_t slot = 0;
      if (j == 0) d.prefill(0, &id, 1, z.data());
      else d.step(&slot, &id, 1, z.data());
      if (j < n_ctx / 2) continue;
      const int32_t next = static_cast<int32_t>(ids[static_cast<size_t>(c * n_ctx + j + 1)]);
      double mx = z[0], sum = 0;
      for (float v : z) mx = std::max(mx, double(v));
      for (float v : z) sum += std::exp(double(v) - mx);
      nll += std::log(sum) + mx - z[static_cast<size_t>(next)];
      ++count;
    }
  }
  return std::exp(nll / count);
}

// Perplexity of the Q4_K_M file in llama.cpp vs nativelm on the weights it holds (llama.cpp also
// quantises the activations to 8 bits for its K-quant products), and of the F32 file vs nativelm
// on the original weights. Bounds in docs/export.md.
TEST_F(ToolsFixture, LlamaPerplexityAgreesWithNativelmOnTheQ4_K_MExport) {
  REQUIRE_TOOL("llama-perplexity");
  const std::string model_dir = make("wide", [](model::ModelConfig& c) {
    c.hidden_size = 256, c.intermediate_size = 512, c.head_dim = 64, c.num_hidden_layers = 4;
    c.initializer_range = 0.1;
  });
  std::string text;
  for (int i = 0; i < 4; ++i) text += kIrishThaiText;
  write_text(dir.file("text.txt"), text);
  const std::vector<uint32_t> ids = tok.encode(text, true);
  const int n_ctx = 64, chunks = 4;
  ASSERT_GE(static_cast<int>(ids.size()), n_ctx * (chunks + 1));  // the runner evaluates one chunk more
  const std::string f32 = export_gguf_file(model_dir, dir.file("f32.gguf"), model::GgufOutType::F32);
  const std::string q4km = export_gguf_file(model_dir, dir.file("q4km.gguf"), model::GgufOutType::Q4_K_M);
  const std::string ppl_bin = tools_dir() + "/llama-perplexity";
  const double f32_llama = bench::llama_perplexity(ppl_bin, f32, dir.file("text.txt"), n_ctx, chunks, 1);
  const double f32_ours = perplexity_like_llama(model_dir, ids, n_ctx, chunks);
  const double q_llama = bench::llama_perplexity(ppl_bin, q4km, dir.file("text.txt"), n_ctx, chunks, 1);
  const double q_ours = perplexity_like_llama(dequantized_copy(q4km, model_dir, dir.file("held")), ids, n_ctx, chunks);
  std::printf("[ figures  ] PPL over %d chunks of %d: f32 llama.cpp %.4f nativelm %.4f; q4_k_m llama.cpp %.4f, "
              "nativelm on the held weights %.4f (original weights %.4f)\n",
              chunks, n_ctx, f32_llama, f32_ours, q_llama, q_ours, f32_ours);
  ASSERT_GT(f32_llama, 0);
  ASSERT_GT(q_llama, 0);
  EXPECT_NEAR(std::log(f32_llama), std::log(f32_ours), 1e-3);
  EXPECT_NEAR(std::log(q_llama), std::log(q_ours), 5e-2);
}

}  // namespace
}  // namespace nlm::testing
