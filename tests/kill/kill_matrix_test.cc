// The kill -9 matrix over every long stage: curate, dedup, dedup-lines, decontam, tokenizer
// train (and extend), tokenize, train and build, each killed with SIGKILL at NATIVELM_KILL_MOMENTS random
// moments (seed NATIVELM_KILL_SEED) on a small Irish, Thai and Cantonese corpus and rerun; the
// rerun must give the uninterrupted run's bytes and leave no temp file (kill_matrix.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/json_escape.h"
#include "kill_matrix.h"
#include "test_util.h"

namespace nlm::testing {
namespace {

namespace fs = std::filesystem;

const char* const kIrish[] = {"tá", "an", "teanga", "beo", "i", "measc", "na", "ndaoine", "sa", "bhaile",
                              "mór", "agus", "ar", "oileán", "thiar", "gach", "lá", "scéal", "ceol", "uisce"};
const char* const kThai[] = {"ภาษา", "ไทย", "เป็น", "ที่", "มี", "ผู้", "พูด", "มาก", "ใน",
                             "ประเทศ", "และ", "ใช้", "การ", "ศึกษา", "ทุก", "วัน"};
const char* const kCantonese[] = {"我哋", "今日", "去", "街市", "買", "餸", "佢", "話", "啲",
                                  "菜", "好", "平", "不過", "天氣", "熱", "食飯"};
// A test item planted in some documents, for decontam.
const char* const kBenchmarkText =
    "Cén fáth a bhfuil an fharraige goirt agus an t-uisce sna locha úr i gcónaí, a mhúinteoir?";

// Four JSONL files of documents in Irish, Thai and Cantonese: exact copies and near copies for
// dedup, a boilerplate line repeated across documents for dedup-lines, the benchmark text in a
// few, and one malformed record.
void write_corpus(const std::string& dir) {
  uint64_t x = 2026;
  auto rnd = [&x] { return (x = x * 6364136223846793005ull + 1442695040888963407ull) >> 33; };
  for (int f = 0; f < 4; ++f) {
    std::string out;
    for (int i = 0; i < 150; ++i) {
      std::string text;
      int lang = (f + i) % 3;
      for (int s = 0; s < 6; ++s) {
        for (int w = 0; w < 14; ++w) {
          if (lang == 0) text += std::string(kIrish[rnd() % 20]) + " ";
          else if (lang == 1) text += std::string(kThai[rnd() % 16]) + " ";
          else text += kCantonese[rnd() % 16];
        }
        text += std::to_string(rnd() % 1000) + (lang == 2 ? "。\n" : ".\n");
      }
      if (i % 7 == 0) text += "Cóipcheart © an suíomh seo, gach ceart ar cosaint.\n";
      if (i % 17 == 5) text += std::string(kBenchmarkText) + "\n";
      std::string id = "d" + std::to_string(f) + "-" + std::to_string(i);
      out += "{\"id\":" + json_quote(id) + ",\"text\":" + json_quote(text) + ",\"meta\":{\"file\":" +
             std::to_string(f) + "}}\n";
      if (i % 9 == 0) out += "{\"id\":" + json_quote("copy-" + id) + ",\"text\":" + json_quote(text) + "}\n";
      if (i % 11 == 0)
        out += "{\"id\":" + json_quote("near-" + id) + ",\"text\":" + json_quote(text + "Críoch.\n") + "}\n";
    }
    if (f == 1) out += "{broken json\n";
    write_text(dir + "/" + std::to_string(f) + ".jsonl", out);
  }
}

// The corpus, a tokenizer and token shards made from it, shared by the matrix's cases.
class KillMatrix : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new TempDir;
    write_corpus(data_->file("in"));
    write_text(data_->file("bench.jsonl"), "{\"id\":\"q1\",\"question\":" + json_quote(kBenchmarkText) + "}\n");
    auto r = run_nativelm("-q --threads 1 tokenizer train " + data_->file("in") + " -o " + data_->file("tok") +
                              " --vocab-size 500 --min-frequency 1",
                          data_->path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run_nativelm("-q --threads 1 tokenize " + data_->file("in") + " -t " + data_->file("tok") + " -o " +
                         data_->file("shards") + " --val-fraction 0.1 --max-shard-tokens 30000",
                     data_->path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
  }
  static std::string in() { return data_->file("in"); }
  static std::string file(const std::string& name) { return data_->file(name); }

  // The tokenizer's vocabulary size (model and added tokens).
  static int64_t vocab_size() {
    auto tok = nlohmann::json::parse(read_text(file("tok/tokenizer.json")));
    int64_t n = 0;
    for (auto& [piece, id] : tok["model"]["vocab"].items()) n = std::max<int64_t>(n, id.get<int64_t>() + 1);
    for (auto& a : tok["added_tokens"]) n = std::max<int64_t>(n, a["id"].get<int64_t>() + 1);
    return n;
  }

  void run(const std::string& name, std::vector<std::string> argv, std::vector<std::string> outputs,
           std::function<std::string()> rerun_says = {}) {
    // Quiet, unless the rerun's log is checked.
    std::vector<std::string> all = {"--threads", "1"};
    if (!rerun_says) all.insert(all.begin(), "-q");
    all.insert(all.end(), argv.begin(), argv.end());
    run_kill_matrix({name, all, outputs, rerun_says}, kill_moments(), kill_seed());
  }

  TempDir out_;
  static TempDir* data_;
};
TempDir* KillMatrix::data_ = nullptr;

TEST_F(KillMatrix, Curate) {
  // Several input files, so a kill can land between shards; rejects are an output too.
  run("curate", {"curate", in(), "-o", out_.file("docs"), "--rejects", out_.file("rejects"), "--extension", ".jsonl"},
      {out_.file("docs"), out_.file("rejects")});
}

TEST_F(KillMatrix, Dedup) {
  run("dedup",
      {"dedup", in(), "-o", out_.file("docs"), "--extension", ".jsonl", "--max-docs", "150", "--memory", "16M",
       "--jaccard-check"},
      {out_.file("docs")});
}

TEST_F(KillMatrix, DedupLines) {
  run("dedup-lines", {"dedup-lines", in(), "-o", out_.file("docs"), "--extension", ".jsonl", "--max-docs", "150"},
      {out_.file("docs")});
}

TEST_F(KillMatrix, Decontam) {
  run("decontam",
      {"decontam", in(), "-o", out_.file("docs"), "-b", file("bench.jsonl"), "--ngram", "8", "--extension",
       ".jsonl.zst", "--max-docs", "150"},
      {out_.file("docs")});
}

TEST_F(KillMatrix, TokenizerTrain) {
  run("tokenizer train",
      {"tokenizer", "train", in(), "-o", out_.file("tok"), "--vocab-size", "500", "--min-frequency", "1"},
      {out_.file("tok")});
}

TEST_F(KillMatrix, TokenizerExtend) {
  // Not among the long stages, but it publishes three files and a manifest.
  run("tokenizer extend",
      {"tokenizer", "extend", in(), "-t", file("tok"), "-o", out_.file("tok"), "--new-tokens", "100",
       "--min-frequency", "1"},
      {out_.file("tok")});
}

TEST_F(KillMatrix, Tokenize) {
  run("tokenize",
      {"tokenize", in(), "-t", file("tok"), "-o", out_.file("shards"), "--val-fraction", "0.1", "--max-shard-tokens",
       "30000"},
      {out_.file("shards")});
}

TEST_F(KillMatrix, Train) {
  // A tiny model for a few dozen steps with rotated checkpoints; every run passes --resume, as a
  // user rerunning a killed job does (with no checkpoint yet it starts from step 0), and a rerun
  // that finds a checkpoint must say it resumed from the newest.
  write_text(out_.file("c.yaml"), "model:\n  vocab_size: " + std::to_string(vocab_size()) +
                                      "\n  hidden_size: 32\n  intermediate_size: 64\n  num_hidden_layers: 2\n"
                                      "  num_attention_heads: 2\n  max_position_embeddings: 64\n"
                                      "batch_size: 4\nseq_len: 32\nsteps: 30\ncheckpoint_every: 4\n"
                                      "keep_checkpoints: 2\neval_every: 10\neval_batches: 2\nlog_every: 0\n"
                                      "schedule: {lr: 0.01, warmup_steps: 4}\n");
  std::vector<std::string> argv = {"train", out_.file("c.yaml"), "--out", out_.file("run"), "--resume",
                                   "--tokenizer", file("tok/tokenizer.json"), "--eval", file("shards/val-00000.tok"),
                                   "--train"};
  for (auto& e : fs::directory_iterator(file("shards")))
    if (e.path().filename().string().starts_with("train-")) argv.push_back(e.path().string());
  const size_t first_shard = 10;
  ASSERT_GT(argv.size(), first_shard);
  std::sort(argv.begin() + first_shard, argv.end());
  const std::string checkpoints = out_.file("run") + "/checkpoints";
  auto newest_checkpoint = [checkpoints]() -> std::string {
    std::string newest;
    std::error_code ec;
    for (auto it = fs::directory_iterator(checkpoints, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.starts_with("step-") && fs::exists(it->path() / "trainer_state.json") && name > newest) newest = name;
    }
    return newest.empty() ? "" : "resumed from " + checkpoints + "/" + newest + " at step " +
                                     std::to_string(std::stoll(newest.substr(5)));
  };
  run("train", argv, {out_.file("run")}, newest_checkpoint);
}

TEST_F(KillMatrix, Build) {
  write_text(out_.file("p.yaml"),
             "name: kill matrix\nwork_dir: " + out_.file("work") + "\ninputs: [" + in() +
                 "]\n"
                 "stages:\n"
                 "  curate:\n    steps: [normalize, gopher_repetition, pii]\n    extension: .jsonl\n"
                 "    rejects: true\n"
                 "  dedup:\n    memory: 16M\n    extension: .jsonl\n"
                 "  tokenizer:\n    vocab_size: 400\n    min_frequency: 1\n"
                 "    special_tokens: [\"<|begin_of_text|>\", \"<|end_of_text|>\"]\n"
                 "  tokenize:\n    val_fraction: 0.1\n    max_shard_tokens: 30000\n"
                 "  train:\n    model: {hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2,\n"
                 "            num_attention_heads: 2, max_position_embeddings: 64}\n"
                 "    batch_size: 4\n    seq_len: 32\n    steps: 20\n    checkpoint_every: 5\n"
                 "    eval_every: 10\n    eval_batches: 2\n    schedule: {lr: 0.01, warmup_steps: 4}\n"
                 "  eval:\n    max_docs: 20\n    samples: [\"tá an teanga\"]\n    max_new_tokens: 8\n");
  run("build", {"build", out_.file("p.yaml")}, {out_.file("work")});
}

}  // namespace
}  // namespace nlm::testing
