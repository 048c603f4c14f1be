// `tokenize`: shards decode back to the documents, EOS/BOS placement, the validation split, and
// identical bytes for any thread count.
#include "data/tokenize_shards.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/runtime.h"
#include "data/token_shard.h"
#include "test_util.h"
#include "tokenizer/trainer.h"

namespace {

using namespace nlm;

struct Fixture {
  nlm::testing::TempDir dir;
  std::vector<std::string> texts;
  std::string corpus, tok_dir;
  Fixture() {
    std::string jsonl;
    for (int i = 0; i < 600; ++i) {
      std::string t = "Document " + std::to_string(i) + ": naïve café, 日本語 " + std::string(i % 7, 'x') +
                      " the quick brown fox " + std::to_string(i * 7919);
      texts.push_back(t);
      jsonl += nlohmann::json({{"text", t}}).dump() + "\n";
    }
    corpus = dir.file("docs.jsonl");
    nlm::testing::write_text(corpus, jsonl);
    tokenizer::TrainOptions o;
    o.vocab_size = 400;
    tok_dir = dir.file("tok");
    tokenizer::train_bpe({corpus}, o).save(tok_dir);
  }
};

TEST(Tokenize, ShardsDecodeToDocumentsWithEosAndBos) {
  Fixture f;
  data::TokenizeOptions o;
  o.tokenizer = f.tok_dir;
  o.output = f.dir.file("out");
  o.bos_token = "auto";
  o.val_fraction = 0.2;
  auto r = data::tokenize_to_shards({f.corpus}, o);
  EXPECT_EQ(r.docs, 600u);
  EXPECT_GT(r.val_docs, 60u);
  EXPECT_LT(r.val_docs, 180u);
  auto tok = tokenizer::Tokenizer::load(f.tok_dir);
  uint32_t bos = tok.token_id("<|begin_of_text|>"), eos = tok.token_id("<|end_of_text|>");
  std::set<std::string> seen;
  for (const char* name : {"train-00000.tok", "val-00000.tok"}) {
    data::TokShardReader rd(o.output + "/" + name);
    EXPECT_EQ(rd.header().tokenizer_hash, tok.hash());
    EXPECT_EQ(rd.dtype_bytes(), 2u);
    for (uint64_t d = 0; d < rd.docs(); ++d) {
      auto ids = rd.document(d);
      ASSERT_GE(ids.size(), 2u);
      EXPECT_EQ(ids.front(), bos);
      EXPECT_EQ(ids.back(), eos);
      seen.insert(tok.decode({ids.begin() + 1, ids.end() - 1}));
    }
  }
  EXPECT_EQ(seen, std::set<std::string>(f.texts.begin(), f.texts.end()));
  EXPECT_TRUE(std::filesystem::exists(o.output + "/manifest.json"));
}

TEST(Tokenize, SameBytesForAnyThreadCountAndShardRollover) {
  Fixture f;
  data::TokenizeOptions o;
  o.tokenizer = f.tok_dir;
  o.val_fraction = 0.1;
  o.max_shard_tokens = 3000;
  o.batch_docs = 64;
  set_runtime_options({1, true});
  o.output = f.dir.file("a");
  auto ra = data::tokenize_to_shards({f.corpus}, o);
  set_runtime_options({3, true});
  o.output = f.dir.file("b");
  auto rb = data::tokenize_to_shards({f.corpus}, o);
  set_runtime_options({0, true});
  EXPECT_GT(ra.shards, 3u);
  ASSERT_EQ(ra.shards, rb.shards);
  for (auto& e : std::filesystem::directory_iterator(f.dir.file("a"))) {
    if (e.path().extension() != ".tok") continue;
    EXPECT_EQ(nlm::testing::read_text(e.path().string()),
              nlm::testing::read_text(f.dir.file("b") + "/" + e.path().filename().string()))
        << e.path();
  }
}

TEST(Tokenize, UnknownEosIsAUsageError) {
  Fixture f;
  data::TokenizeOptions o;
  o.tokenizer = f.tok_dir;
  o.output = f.dir.file("c");
  o.eos_token = "<nope>";
  EXPECT_THROW(data::tokenize_to_shards({f.corpus}, o), nlm::Error);
}

}  // namespace
