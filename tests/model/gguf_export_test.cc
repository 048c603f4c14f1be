// `export gguf` end to end inside nativelm: a tiny model folder (Irish/Thai tokenizer, random
// weights) is exported and read back with the GGUF reader: llama.cpp's metadata keys and values,
// the tokenizer keys, tensor names and ggml dims, q/k rows permuted to interleaved RoPE pairs for
// llama and kept for qwen2, tied and llama3-scaled variants, per-type storage; and bad input
// (missing folder, unknown type, shapes and tokenizers llama.cpp cannot express, broken weights)
// gives a one-line error with the right exit code.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "model/gguf_export.h"
#include "model/gguf_reader.h"
#include "model/rope_table.h"
#include "model/safetensors.h"
#include "gguf_fixture.h"

namespace nlm::testing {
namespace {

using model::gguf::Reader;
using model::gguf::TensorType;

std::vector<float> hf_tensor(const std::string& dir, const std::string& name) {
  model::SafetensorsReader r(dir + "/model.safetensors");
  const auto* e = r.find(name);
  EXPECT_NE(e, nullptr) << name;
  if (!e) return {};
  std::vector<float> v(static_cast<size_t>(tensor::shape_numel(e->shape)));
  tensor::convert(r.data(*e), e->dtype, v.data(), tensor::DType::F32, v.size());
  return v;
}

struct ExportFixture : ::testing::Test {
  TempDir dir;
  tokenizer::Tokenizer tok = gguf_test_tokenizer(dir.path());
  std::string model_dir = dir.file("tiny");
  model::ModelConfig cfg = gguf_test_config(tok.vocab_size());
  void save() { save_gguf_test_model(model_dir, cfg, tok); }
};

TEST_F(ExportFixture, LlamaMetadataAsLlamaCppReadsIt) {
  save();
  Reader r(export_gguf_file(model_dir, dir.file("m.gguf"), model::GgufOutType::F32));
  EXPECT_EQ(r.version(), 3u);
  EXPECT_EQ(r.get_int("general.alignment"), 32);
  EXPECT_EQ(r.get_string("general.architecture"), "llama");
  EXPECT_EQ(r.get_string("general.name"), "tiny");
  EXPECT_EQ(r.get_int("general.file_type"), 0);
  EXPECT_EQ(r.get_int("llama.context_length"), 128);
  EXPECT_EQ(r.get_int("llama.embedding_length"), 64);
  EXPECT_EQ(r.get_int("llama.block_count"), 2);
  EXPECT_EQ(r.get_int("llama.feed_forward_length"), 96);
  EXPECT_EQ(r.get_int("llama.attention.head_count"), 4);
  EXPECT_EQ(r.get_int("llama.attention.head_count_kv"), 2);
  EXPECT_EQ(r.get_int("llama.rope.dimension_count"), 16);
  EXPECT_EQ(r.get_int("llama.vocab_size"), cfg.vocab_size);
  EXPECT_FLOAT_EQ(static_cast<float>(r.get_real("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
  EXPECT_EQ(r.get_real("llama.rope.freq_base"), 10000.0);
  EXPECT_EQ(r.find("llama.context_length")->type, model::gguf::ValueType::U32);

  EXPECT_EQ(r.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(r.get_string("tokenizer.ggml.pre"), "smaug-bpe");  // llama3 regex, merges always applied
  const auto& tokens = r.find("tokenizer.ggml.tokens")->texts;
  ASSERT_EQ(tokens.size(), tok.vocab_size());
  EXPECT_EQ(tokens[32], "Ġ");  // byte-level form of the space byte
  const auto& types = r.find("tokenizer.ggml.token_type")->numbers;
  const uint32_t bos = tok.post_prefix.at(0);
  EXPECT_EQ(tokens[bos], "<|begin_of_text|>");
  EXPECT_EQ(types[bos], 3);  // control
  EXPECT_EQ(types[100], 1);  // normal
  EXPECT_EQ(r.find("tokenizer.ggml.merges")->texts.size(), tok.model.merges.size());
  EXPECT_EQ(r.find("tokenizer.ggml.merges")->texts[0],
            tok.token_text(tok.model.merges[0].left) + " " + tok.token_text(tok.model.merges[0].right));
  EXPECT_EQ(r.get_int("tokenizer.ggml.bos_token_id"), bos);
  EXPECT_EQ(tokens[r.get_int("tokenizer.ggml.eos_token_id")], "<|end_of_text|>");
  EXPECT_TRUE(r.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_EQ(r.find("tokenizer.chat_template"), nullptr);  // the folder has none

  // 2 + 9 per layer tensors, untied: output.weight present; ggml dims are reversed.
  EXPECT_EQ(r.tensors().size(), 2u + 9 * 2 + 1);
  EXPECT_EQ(r.find_tensor("token_embd.weight")->dims, (std::vector<int64_t>{64, cfg.vocab_size}));
  EXPECT_EQ(r.find_tensor("blk.1.ffn_down.weight")->dims, (std::vector<int64_t>{96, 64}));
  EXPECT_EQ(r.find_tensor("blk.0.attn_k.weight")->dims, (std::vector<int64_t>{64, 32}));
  ASSERT_NE(r.find_tensor("output.weight"), nullptr);
  EXPECT_EQ(r.find_tensor("rope_freqs.weight"), nullptr);
  EXPECT_EQ(r.read_f32(*r.find_tensor("token_embd.weight")), hf_tensor(model_dir, "model.embed_tokens.weight"));
  EXPECT_EQ(r.read_f32(*r.find_tensor("blk.1.attn_norm.weight")),
            hf_tensor(model_dir, "model.layers.1.input_layernorm.weight"));
  EXPECT_EQ(r.read_f32(*r.find_tensor("blk.1.ffn_norm.weight")),
            hf_tensor(model_dir, "model.layers.1.post_attention_layernorm.weight"));
  EXPECT_EQ(r.read_f32(*r.find_tensor("blk.0.attn_v.weight")), hf_tensor(model_dir, "model.layers.0.self_attn.v_proj.weight"));
  EXPECT_EQ(r.read_f32(*r.find_tensor("output.weight")), hf_tensor(model_dir, "lm_head.weight"));
}

// Row h·hs + 2i + j of the GGUF matrix is HF row h·hs + j·hs/2 + i.
void expect_interleaved(const std::vector<float>& gguf, const std::vector<float>& hf, int64_t heads, int64_t hs,
                        int64_t cols) {
  ASSERT_EQ(gguf.size(), hf.size());
  ASSERT_NE(gguf, hf);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < hs / 2; ++i)
      for (int64_t j = 0; j < 2; ++j)
        for (int64_t c = 0; c < cols; ++c)
          ASSERT_EQ(gguf[(h * hs + 2 * i + j) * cols + c], hf[(h * hs + j * hs / 2 + i) * cols + c]);
}

TEST_F(ExportFixture, LlamaQueryAndKeyRowsAreInterleavedPerHead) {
  cfg.attention_bias = true;
  save();
  Reader r(export_gguf_file(model_dir, dir.file("m.gguf"), model::GgufOutType::F32));
  const std::string h = "model.layers.1.self_attn.";
  expect_interleaved(r.read_f32(*r.find_tensor("blk.1.attn_q.weight")), hf_tensor(model_dir, h + "q_proj.weight"), 4, 16, 64);
  expect_interleaved(r.read_f32(*r.find_tensor("blk.1.attn_k.weight")), hf_tensor(model_dir, h + "k_proj.weight"), 2, 16, 64);
  expect_interleaved(r.read_f32(*r.find_tensor("blk.1.attn_q.bias")), hf_tensor(model_dir, h + "q_proj.bias"), 4, 16, 1);
  expect_interleaved(r.read_f32(*r.find_tensor("blk.1.attn_k.bias")), hf_tensor(model_dir, h + "k_proj.bias"), 2, 16, 1);
  EXPECT_EQ(r.read_f32(*r.find_tensor("blk.1.attn_v.bias")), hf_tensor(model_dir, h + "v_proj.bias"));
}

TEST_F(ExportFixture, Qwen2KeepsHfRopeLayoutAndPre) {
  tok = gguf_test_tokenizer(dir.path(), tokenizer::SplitRule::Qwen2);
  cfg = gguf_test_config(tok.vocab_size());
  cfg.model_type = "qwen2";
  cfg.attention_bias = true;
  save();
  Reader r(export_gguf_file(model_dir, dir.file("m.gguf"), model::GgufOutType::F32));
  EXPECT_EQ(r.get_string("general.architecture"), "qwen2");
  EXPECT_EQ(r.get_int("qwen2.block_count"), 2);
  EXPECT_EQ(r.get_string("tokenizer.ggml.pre"), "qwen2");
  const std::string h = "model.layers.0.self_attn.";
  EXPECT_EQ(r.read_f32(*r.find_tensor("blk.0.attn_q.weight")), hf_tensor(model_dir, h + "q_proj.weight"));
  EXPECT_EQ(r.read_f32(*r.find_tensor("blk.0.attn_k.bias")), hf_tensor(model_dir, h + "k_proj.bias"));
}

TEST_F(ExportFixture, Qwen2WithoutBiasesGetsZeroBiases) {
  cfg.model_type = "qwen2";
  save();
  // nativelm reads qwen2 as biased unless config.json says otherwise.
  std::string c = read_text(model_dir + "/config.json");
  c.insert(c.find('{') + 1, "\n  \"attention_bias\": false,");
  write_text(model_dir + "/config.json", c);
  Reader r(export_gguf_file(model_dir, dir.file("m.gguf"), model::GgufOutType::F32));
  auto b = r.read_f32(*r.find_tensor("blk.1.attn_v.bias"));
  EXPECT_EQ(b, std::vector<float>(32, 0.0f));
}

TEST_F(ExportFixture, TiedEmbeddingsHaveNoOutputTensor) {
  cfg.tie_word_embeddings = true;
  save();
  Reader r(export_gguf_file(model_dir, dir.file("m.gguf"), model::GgufOutType::Q4_0));
  EXPECT_EQ(r.find_tensor("output.weight"), nullptr);
  // q4_0 keeps the matrix that makes the logits at Q8_0.
  EXPECT_EQ(r.find_tensor("token_embd.weight")->type, static_cast<uint32_t>(TensorType::Q8_0));
  EXPECT_EQ(r.find_tensor("blk.0.ffn_up.weight")->type, static_cast<uint32_t>(TensorType::Q4_0));
  EXPECT_EQ(r.get_int("general.file_type"), 2);
}

TEST_F(ExportFixture, Llama3RopeScalingBecomesRopeFreqs) {
  cfg.rope_scaling = {"llama3", 8.0, 1.0, 4.0, 32};
  save();
  Reader r(export_gguf_file(model_dir, dir.file("m.gguf"), model::GgufOutType::F16));
  const auto* t = r.find_tensor("rope_freqs.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dims, (std::vector<int64_t>{8}));
  EXPECT_EQ(t->type, static_cast<uint32_t>(TensorType::F32));
  auto f = r.read_f32(*t);
  model::ModelConfig plain = cfg;
  plain.rope_scaling = {};
  auto base = model::rope_inv_freq(plain), scaled = model::rope_inv_freq(cfg);
  for (size_t i = 0; i < f.size(); ++i) EXPECT_NEAR(base[i] / f[i], scaled[i], 1e-6 * scaled[i]) << i;
  EXPECT_EQ(f[0], 1.0f);  // the highest frequency is kept
  EXPECT_EQ(f[7], 8.0f);  // the lowest is divided by the factor
}

TEST_F(ExportFixture, StorageTypesPerTensor) {
  save();
  struct Case { model::GgufOutType type; TensorType matrices; int file_type; double tol; };
  for (Case c : {Case{model::GgufOutType::F16, TensorType::F16, 1, 2e-3}, Case{model::GgufOutType::BF16, TensorType::BF16, 32, 8e-3},
                 Case{model::GgufOutType::Q8_0, TensorType::Q8_0, 7, 1.5e-2}, Case{model::GgufOutType::Q4_0, TensorType::Q4_0, 2, 0.25}}) {
    Reader r(export_gguf_file(model_dir, dir.file("m.gguf"), c.type));
    EXPECT_EQ(r.get_int("general.file_type"), c.file_type);
    EXPECT_EQ(r.find_tensor("blk.0.attn_norm.weight")->type, 0u);  // 1-D stays F32
    EXPECT_EQ(r.find_tensor("blk.0.ffn_gate.weight")->type, static_cast<uint32_t>(c.matrices));
    auto got = r.read_f32(*r.find_tensor("blk.0.ffn_gate.weight"));
    auto want = hf_tensor(model_dir, "model.layers.0.mlp.gate_proj.weight");
    double amax = 0, err = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      amax = std::max(amax, std::fabs(double(want[i])));
      err = std::max(err, std::fabs(double(got[i]) - want[i]));
    }
    EXPECT_LE(err / amax, c.tol) << static_cast<int>(c.type);
  }
}

TEST_F(ExportFixture, RowsThatAreNotWholeBlocksFallBackToF16) {
  cfg.intermediate_size = 40;  // ffn_down rows of 40 are not whole blocks of 32
  save();
  model::ExportGgufOptions o;
  o.output = dir.file("m.gguf");
  o.type = model::GgufOutType::Q8_0;
  auto res = model::export_gguf(model_dir, o);
  Reader r(o.output);
  EXPECT_EQ(r.find_tensor("blk.0.ffn_down.weight")->type, static_cast<uint32_t>(TensorType::F16));
  EXPECT_EQ(r.find_tensor("blk.0.ffn_up.weight")->type, static_cast<uint32_t>(TensorType::Q8_0));
  ASSERT_FALSE(res.notes.empty());
  EXPECT_NE(res.notes[0].find("stored as F16"), std::string::npos);
}

TEST_F(ExportFixture, ChatTemplateAndVocabularyPadding) {
  cfg.vocab_size = tok.vocab_size() + 3;  // embedding rows beyond the tokenizer
  save();
  write_text(model_dir + "/chat_template.jinja", "{{ messages[0]['content'] }}");
  Reader r(export_gguf_file(model_dir, dir.file("m.gguf"), model::GgufOutType::F16));
  EXPECT_EQ(r.get_string("tokenizer.chat_template"), "{{ messages[0]['content'] }}");
  const auto& tokens = r.find("tokenizer.ggml.tokens")->texts;
  ASSERT_EQ(static_cast<int64_t>(tokens.size()), cfg.vocab_size);
  EXPECT_EQ(tokens.back(), "[PAD" + std::to_string(cfg.vocab_size - 1) + "]");
  EXPECT_EQ(r.find("tokenizer.ggml.token_type")->numbers.back(), 5);  // unused
}

TEST_F(ExportFixture, ShardedAndBf16CheckpointsExportAlike) {
  model::Llama m(cfg, tensor::backend_for("cpu"));
  m.init_random(7);
  model::save_hf_model(model_dir, m);
  tok.save(model_dir);
  const std::string one = read_text(export_gguf_file(model_dir, dir.file("one.gguf"), model::GgufOutType::BF16));
  model::SaveOptions sharded;
  sharded.max_shard_bytes = 40000;
  model::save_hf_model(dir.file("sharded"), m, sharded);
  tok.save(dir.file("sharded"));
  ASSERT_TRUE(std::filesystem::exists(dir.file("sharded/model.safetensors.index.json")));
  model::SaveOptions bf16;
  bf16.dtype = tensor::DType::BF16;
  model::save_hf_model(dir.file("bf16"), m, bf16);
  tok.save(dir.file("bf16"));
  // Byte for byte the same file, given the same general.name.
  model::ExportGgufOptions o;
  o.type = model::GgufOutType::BF16;
  o.name = "tiny";
  for (const char* folder : {"sharded", "bf16"}) {
    o.output = dir.file(std::string(folder) + ".gguf");
    model::export_gguf(dir.file(folder), o);
    EXPECT_EQ(read_text(o.output), one) << folder;
  }
}

// ---- bad input through the command line ------------------------------------------------------

TEST_F(ExportFixture, BadInputGivesOneLineErrors) {
  save();
  auto run = [&](const std::string& args) { return run_nativelm("export gguf " + args, dir.path()); };
  auto expect = [&](const RunResult& r, int code, const std::string& what) {
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    EXPECT_EQ(r.err.rfind("nativelm: error: ", 0), 0u) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file("out.gguf")));
  };
  const std::string out = " -o " + dir.file("out.gguf");
  expect(run(dir.file("absent") + out), 2, "model directory not found");
  expect(run(model_dir + out + " --type q5_k"), 2, "--type must be one of");
  expect(run(model_dir), 2, "--output is required");
  std::filesystem::create_directories(dir.file("empty"));
  expect(run(dir.file("empty") + out), 2, "no config.json");
  expect(run(model_dir + " -o " + dir.file("empty")), 2, "the output is a directory");

  // qwen2 with llama3 RoPE scaling: llama.cpp's qwen2 has no rope_freqs.
  std::string config = read_text(model_dir + "/config.json");
  auto edited = [&](const std::string& from, const std::string& to) {
    std::string c = config;
    c.replace(c.find(from), from.size(), to);
    write_text(model_dir + "/config.json", c);
  };
  edited("\"model_type\": \"llama\"", "\"model_type\": \"qwen2\"");
  std::string c2 = read_text(model_dir + "/config.json");
  c2.replace(c2.find("\"rope_scaling\": null"), 20,
             "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, "
             "\"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 32}");
  write_text(model_dir + "/config.json", c2);
  expect(run(model_dir + out), 2, "qwen2 architecture has no llama3 RoPE scaling");
  edited("\"model_type\": \"llama\"", "\"model_type\": \"gemma\"");
  auto r = run(model_dir + out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;

  // The tokenizer is larger than the embedding.
  edited("\"vocab_size\": " + std::to_string(cfg.vocab_size), "\"vocab_size\": 300");
  expect(run(model_dir + out), 2, "tokenizer has");
  write_text(model_dir + "/config.json", config);

  // A weight is missing; then a weight holds NaN (a runtime failure, exit 1).
  model::SafetensorsReader st(model_dir + "/model.safetensors");
  std::vector<model::SafetensorsTensor> kept;
  std::vector<std::vector<char>> bytes;
  bytes.reserve(st.entries().size());
  for (auto& e : st.entries()) {
    bytes.emplace_back(st.data(e), st.data(e) + (e.end - e.begin));
    kept.push_back({e.name, e.dtype, e.shape, bytes.back().data()});
  }
  std::vector<model::SafetensorsTensor> without(kept.begin() + 1, kept.end());
  model::write_safetensors(dir.file("w.safetensors"), without);
  std::filesystem::copy_file(dir.file("w.safetensors"), model_dir + "/model.safetensors",
                             std::filesystem::copy_options::overwrite_existing);
  expect(run(model_dir + out), 2, "the weights lack tensor '" + kept[0].name + "'");
  float nan = std::nanf("");
  std::memcpy(bytes[0].data(), &nan, 4);
  model::write_safetensors(model_dir + "/model.safetensors", kept);
  expect(run(model_dir + out), 1, "NaN or infinite");
}

TEST_F(ExportFixture, SentencePieceTokenizersBecomeTheLlamaModel) {
  tok = gguf_test_tokenizer(dir.path(), tokenizer::SplitRule::Llama3, tokenizer::TrainMode::SentencePiece);
  cfg = gguf_test_config(tok.vocab_size());
  save();
  Reader r(export_gguf_file(model_dir, dir.file("m.gguf"), model::GgufOutType::F16));
  EXPECT_EQ(r.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(r.find("tokenizer.ggml.pre"), nullptr);
  EXPECT_EQ(r.find("tokenizer.ggml.merges"), nullptr);
  EXPECT_TRUE(r.get_bool("tokenizer.ggml.add_space_prefix"));
  EXPECT_TRUE(r.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_EQ(r.get_int("tokenizer.ggml.unknown_token_id"), 0);
  EXPECT_EQ(r.get_int("tokenizer.ggml.bos_token_id"), 1);
  const auto& tokens = r.find("tokenizer.ggml.tokens")->texts;
  const auto& types = r.find("tokenizer.ggml.token_type")->numbers;
  const auto& scores = r.find("tokenizer.ggml.scores")->numbers;
  ASSERT_EQ(scores.size(), tokens.size());
  EXPECT_EQ(types[0], 2);  // <unk>: unknown
  EXPECT_EQ(types[1], 3);  // <s>: control
  const uint32_t byte_a = tok.model.fallback_ids['A'];
  EXPECT_EQ(tokens[byte_a], "<0x41>");
  EXPECT_EQ(types[byte_a], 6);  // byte
  // Merge ranks become descending scores: the first merge's token scores highest.
  const auto& merges = tok.model.merges;
  ASSERT_GE(merges.size(), 2u);
  EXPECT_EQ(scores[merges[0].merged], -1);
  EXPECT_EQ(scores[merges[1].merged], -2);
  EXPECT_EQ(tokens[merges[0].merged], tok.token_text(merges[0].merged));
}

TEST_F(ExportFixture, TokenizersLlamaCppCannotRunAreRefused) {
  auto expect_refused = [&](const std::string& what) {
    cfg = gguf_test_config(tok.vocab_size());
    save();
    auto r = run_nativelm("export gguf " + model_dir + " -o " + dir.file("out.gguf"), dir.path());
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
  };
  tok = gguf_test_tokenizer(dir.path(), tokenizer::SplitRule::Llama3, tokenizer::TrainMode::SentencePiece);
  tok.normalizers.insert(tok.normalizers.begin(), {tokenizer::NormalizerStep::Nfkc, {}, {}});
  tok.finalize();
  expect_refused("normalizer is not 'prepend");
  tok = gguf_test_tokenizer(dir.path(), tokenizer::SplitRule::None);
  expect_refused("pre-tokenizer has no llama.cpp equivalent");
  tok = gguf_test_tokenizer(dir.path());
  tok.pre_tokenizers.back().add_prefix_space = true;
  tok.raw_pre_tokenizer.clear();
  tok.finalize();
  expect_refused("adds a prefix space");
}

}  // namespace
}  // namespace nlm::testing
