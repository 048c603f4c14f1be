// Text end to end through the real tokenizer: tokenizer train → tokenize → train (bits per byte
// from tokenizer.json) → generate from a text prompt with a stop string → eval ppl with bits per
// byte first.
#include <gtest/gtest.h>

#include <filesystem>

#include "corpus/read_options.h"
#include "eval/perplexity.h"
#include "model/hf_checkpoint.h"
#include "tensor/backend.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "train/trainer.h"

namespace nlm::testing {
namespace {

// Writes `text` to DIR/c.txt, trains DIR/tok (byte-level BPE of `vocab` tokens) on it and, with
// `shards`, tokenizes it into DIR/shards; false (with the error in `err`) when a command fails.
bool tokenizer_and_shards(const TempDir& dir, const std::string& text, int vocab, bool shards, std::string& err) {
  write_text(dir.file("c.txt"), text);
  auto r = run_nativelm("--threads 1 tokenizer train " + dir.file("c.txt") + " -o " + dir.file("tok") +
                            " --vocab-size " + std::to_string(vocab) + " --min-frequency 1",
                        dir.path());
  if (r.exit_code == 0 && shards)
    r = run_nativelm("--threads 1 tokenize " + dir.file("c.txt") + " -t " + dir.file("tok") + " -o " +
                         dir.file("shards"),
                     dir.path());
  err = r.err;
  return r.exit_code == 0;
}

TEST(Cli, TextPipelineWithTokenizer) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += "Der Hund läuft im Park. The dog runs in the park. El perro corre en el parque " +
            std::to_string(i) + ".\n\n";
  std::string err;
  ASSERT_TRUE(tokenizer_and_shards(dir, text, 300, true, err)) << err;
  RunResult r;
  std::string shard;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir.file("shards")))
    if (e.path().extension() == ".tok") shard = e.path().string();
  ASSERT_FALSE(shard.empty());
  write_text(dir.file("c.yaml"),
             "model:\n  vocab_size: 300\n  hidden_size: 32\n  intermediate_size: 64\n  num_hidden_layers: 1\n"
             "  num_attention_heads: 4\n  num_key_value_heads: 2\n  max_position_embeddings: 128\n"
             "batch_size: 2\nseq_len: 32\nlog_every: 0\nsteps: 20\neval_batches: 1\n"
             "schedule: {lr: 0.01, min_lr: 0.001, warmup_steps: 2}\n");
  r = run_nativelm("--threads 1 train " + dir.file("c.yaml") + " --out " + dir.file("run") + " --train " + shard +
                       " --eval " + shard + " --tokenizer " + dir.file("tok/tokenizer.json"),
                   dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("eval bits/byte"), std::string::npos) << r.out;
  EXPECT_NE(read_text(dir.file("run/metrics.jsonl")).find("eval_bits_per_byte"), std::string::npos);

  r = run_nativelm("--threads 1 generate -m " + dir.file("run/model") +
                       " 'The dog' --max-tokens 12 --temperature 0 --stop 'zzz_never'",
                   dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("The dog", 0), 0u) << r.out;
  EXPECT_GT(r.out.size(), std::string("The dog\n").size());

  r = run_nativelm("--threads 1 eval ppl -m " + dir.file("run/model") + " " + shard, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("bits_per_byte", 0), 0u) << r.out;  // shown first
  EXPECT_EQ(r.out.find("n/a"), std::string::npos) << r.out;
}

// Multilingual text (Chinese and Russian need several byte-level pieces per character with a small
// vocabulary), as JSONL with the text in a non-default field.
std::vector<std::string> multilingual_docs() {
  std::vector<std::string> docs;
  for (int i = 0; i < 30; ++i)
    docs.push_back("Собака бежит в парке " + std::to_string(i) + ". 狗在公园里跑。\nDer Hund läuft im Park.");
  docs.push_back("\"Quoted\" text\twith a tab and 長い文字列");
  return docs;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out + "\"";
}

TEST(TokenBytes, SumToTheDocumentBytesWhereDecodingIdsAloneDoesNot) {
  TempDir dir;
  std::string text;
  for (auto& d : multilingual_docs()) text += d + "\n\n";
  std::string err;
  ASSERT_TRUE(tokenizer_and_shards(dir, text, 280, false, err)) << err;
  auto tok = tokenizer::Tokenizer::load(dir.file("tok/tokenizer.json"));
  auto bytes = train::token_byte_lengths(tok);
  ASSERT_EQ(bytes.size(), tok.vocab_size());
  uint32_t eos = tok.token_id("<|end_of_text|>");
  ASSERT_LT(eos, bytes.size());
  EXPECT_EQ(bytes[eos], 0u);  // stands for no text
  uint64_t sum = 0, alone = 0;
  for (uint32_t id : tok.encode(text)) {
    sum += bytes[id];
    alone += tok.decode({id}).size();
  }
  EXPECT_EQ(sum, text.size());
  EXPECT_NE(alone, text.size());  // partial UTF-8 pieces decode alone to U+FFFD
}

TEST(Cli, EvalPplOnJsonlTextUsesTheModelTokenizerAndUtf8Bytes) {
  TempDir dir;
  auto docs = multilingual_docs();
  std::string text, jsonl;
  uint64_t total_bytes = 0;
  for (auto& d : docs) {
    text += d + "\n\n";
    jsonl += "{\"id\":\"d\",\"content\":" + json_string(d) + "}\n";
    total_bytes += d.size();
  }
  jsonl += "not json\n";  // a malformed record: skipped and counted, not fatal
  write_text(dir.file("docs.jsonl"), jsonl);
  std::string err;
  ASSERT_TRUE(tokenizer_and_shards(dir, text, 300, true, err)) << err;
  RunResult r;
  write_text(dir.file("c.yaml"),
             "model:\n  vocab_size: 300\n  hidden_size: 16\n  intermediate_size: 32\n  num_hidden_layers: 1\n"
             "  num_attention_heads: 2\n  max_position_embeddings: 64\n  bos_token_id: 298\n"
             "batch_size: 2\nseq_len: 32\nlog_every: 0\nsteps: 5\n");
  r = run_nativelm("--threads 1 train " + dir.file("c.yaml") + " --out " + dir.file("run") + " --train " +
                       dir.file("shards/train-00000.tok") + " --tokenizer " + dir.file("tok/tokenizer.json"),
                   dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // Encoded with the model's tokenizer, BOS as the prefix, bytes = UTF-8 bytes of the texts.
  r = run_nativelm("--threads 1 eval ppl -m " + dir.file("run/model") + " " + dir.file("docs.jsonl") +
                       " --text-field content --json",
                   dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto tok = tokenizer::Tokenizer::load(dir.file("tok/tokenizer.json"));
  std::vector<std::vector<int32_t>> ids;
  uint64_t tokens = 0;
  for (auto& d : docs) {
    auto e = tok.encode(d);
    ids.emplace_back(e.begin(), e.end());
    tokens += e.size();
  }
  EXPECT_NE(r.out.find("\"bytes\":" + std::to_string(total_bytes) + ","), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"tokens\":" + std::to_string(tokens) + ","), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"documents\":" + std::to_string(docs.size()) + "}"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("skipped 1 malformed"), std::string::npos) << r.err;
  // The same numbers as scoring the ids through the library.
  auto m = model::load_hf_model(dir.file("run/model"), tensor::backend_for("cpu"));
  std::vector<uint64_t> doc_bytes;
  for (auto& d : docs) doc_bytes.push_back(d.size());
  auto want = eval::rolling_perplexity(*m, ids, doc_bytes, {});
  char bpb[64];
  std::snprintf(bpb, sizeof bpb, "{\"bits_per_byte\":%f,", want.bits_per_byte());
  EXPECT_EQ(r.out.rfind(bpb, 0), 0u) << r.out << " vs " << bpb;
  // Library entry point: text and shards in one call keep order and max_docs counts across both.
  auto both = eval::read_eval_documents(dir.file("run/model"),
                                        {dir.file("shards/train-00000.tok"), dir.file("docs.jsonl")},
                                        [] {
                                          corpus::ReadOptions ro;
                                          ro.text_field = "content";
                                          return ro;
                                        }(),
                                        docs.size() + 3, m->config().vocab_size);
  ASSERT_EQ(both.tokens.size(), docs.size() + 3);
  ASSERT_EQ(both.bytes.size(), both.tokens.size());
  EXPECT_EQ(both.bytes[0], docs[0].size());  // the shard's EOS is not text
  EXPECT_EQ(both.tokens.back(), ids[2]);
  EXPECT_EQ(both.bytes.back(), docs[2].size());

  // Plain text in paragraph mode, and the text field missing: every record skipped, nothing scored.
  r = run_nativelm("--threads 1 eval ppl -m " + dir.file("run/model") + " " + dir.file("c.txt") + " --json", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"bytes\":" + std::to_string(total_bytes) + ","), std::string::npos) << r.out;
  r = run_nativelm("--threads 1 eval ppl -m " + dir.file("run/model") + " " + dir.file("docs.jsonl") + " --json",
                   dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"documents\":0"), std::string::npos) << r.out;

  // Text needs the model's tokenizer: a one-line usage error without it.
  std::filesystem::remove(dir.file("run/model/tokenizer.json"));
  r = run_nativelm("eval ppl -m " + dir.file("run/model") + " " + dir.file("docs.jsonl"), dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("tokenizer.json"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nlm::testing
