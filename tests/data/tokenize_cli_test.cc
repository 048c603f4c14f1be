// CLI tests of `nativelm tokenize`, run through the built binary on the corpus of the tokenizer
// CLI tests (tests/tokenizer/cli_fixture.h): shards read back with TokShardReader decode to the
// documents, with the same bytes for any thread count, and a rerun replaces the folder; bad input
// must give exit 2 (usage) or 1 (runtime) with exactly one "nativelm: error: ..." line.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "data/token_shard.h"
#include "test_util.h"
#include "tokenizer/cli_fixture.h"
#include "tokenizer/tokenizer.h"

namespace nlm::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using tokenizer::Tokenizer;

class TokenizeCli : public TokenizerCli {};

struct ShardDoc {
  std::vector<uint32_t> ids;
  bool val;
};

std::vector<ShardDoc> read_shards(const std::string& dir, const Tokenizer& tok, size_t* shards) {
  std::vector<std::string> files;
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".tok") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  *shards = files.size();
  std::vector<ShardDoc> docs;
  for (auto& path : files) {
    data::TokShardReader rd(path);
    EXPECT_EQ(rd.header().vocab_size, tok.vocab_size());
    EXPECT_EQ(rd.header().tokenizer_hash, tok.hash());
    EXPECT_EQ(rd.dtype_bytes(), 2u);
    bool val = fs::path(path).filename().string().rfind("val-", 0) == 0;
    for (uint64_t d = 0; d < rd.docs(); ++d) docs.push_back({rd.document(d), val});
  }
  return docs;
}

TEST_F(TokenizeCli, WritesShardsThatDecodeToTheDocuments) {
  Tokenizer tok = train("tok");
  const uint32_t bos = tok.token_id("<|begin_of_text|>"), eos = tok.token_id("<|end_of_text|>");
  // Invalid UTF-8 in a text file is repaired, not fatal.
  write_text(f("inv.txt"), "ok \xff\xfe bad \xc3\n\nfine\n");
  auto r = ok("tokenize " + f("c.txt") + " " + f("c.jsonl") + " " + f("inv.txt") + " -t " + f("tok") + " -o " +
              f("shards") + " --val-fraction 0.3 --bos auto --max-shard-tokens 2000");
  std::vector<std::string> want;
  for (auto& d : tdocs) want.push_back(d);
  for (auto& d : jdocs) want.push_back(d.text);
  want.push_back("ok \xEF\xBF\xBD\xEF\xBF\xBD bad \xEF\xBF\xBD");
  want.push_back("fine");
  EXPECT_NE(r.out.find("tokenized " + std::to_string(want.size()) + " docs"), std::string::npos) << r.out;

  size_t shards = 0;
  auto got = read_shards(f("shards"), tok, &shards);
  EXPECT_GT(shards, 3u);
  ASSERT_EQ(got.size(), want.size());
  std::vector<std::string> train_text, val_text;
  uint64_t tokens = 0;
  for (auto& d : got) {
    ASSERT_GE(d.ids.size(), 2u);
    EXPECT_EQ(d.ids.front(), bos);
    EXPECT_EQ(d.ids.back(), eos);
    tokens += d.ids.size();
    std::vector<uint32_t> body(d.ids.begin() + 1, d.ids.end() - 1);
    EXPECT_EQ(body, tok.encode(tok.decode(body)));
    (d.val ? val_text : train_text).push_back(tok.decode(body));
  }
  EXPECT_FALSE(train_text.empty());
  EXPECT_FALSE(val_text.empty());
  // Training documents keep the input order; together with validation they are the input.
  std::vector<std::string> train_want;
  std::multiset<std::string> val_set(val_text.begin(), val_text.end());
  for (auto& w : want) {
    auto it = val_set.find(w);
    if (it != val_set.end()) val_set.erase(it);
    else train_want.push_back(w);
  }
  EXPECT_TRUE(val_set.empty());
  EXPECT_EQ(train_text, train_want);
  // The manifest lists every shard with its token count.
  json m = json::parse(read_text(f("shards/manifest.json")));
  ASSERT_EQ(m.at("outputs").size(), shards);
  uint64_t listed = 0;
  for (auto& o : m["outputs"]) listed += o.at("records").get<uint64_t>();
  EXPECT_EQ(listed, tokens);

  // Same bytes with one thread.
  ok("--threads 1 tokenize " + f("c.txt") + " " + f("c.jsonl") + " " + f("inv.txt") + " -t " + f("tok") + " -o " +
     f("shards1") + " --val-fraction 0.3 --bos auto --max-shard-tokens 2000");
  for (auto& e : fs::directory_iterator(f("shards"))) {
    if (e.path().extension() != ".tok") continue;
    EXPECT_TRUE(read_text(e.path().string()) == read_text(f("shards1/") + e.path().filename().string())) << e.path();
  }
  // A rerun into the same folder replaces it: no shards of the earlier run stay behind (only
  // one train shard this time), and files that are not shards are left alone. An explicit --eos
  // and no BOS.
  write_text(f("shards/notes.txt"), "mine");
  write_text(f("shards/train-x.tok"), "not a shard name");
  ok("tokenize " + f("c.jsonl") + " -t " + f("tok/tokenizer.json") + " -o " + f("shards") + " --eos '<|begin_of_text|>'");
  EXPECT_EQ(read_text(f("shards/notes.txt")), "mine");
  EXPECT_TRUE(fs::exists(f("shards/train-x.tok")));
  fs::remove(f("shards/train-x.tok"));
  got = read_shards(f("shards"), tok, &shards);
  EXPECT_EQ(shards, 1u);
  ASSERT_EQ(got.size(), jdocs.size());
  for (size_t i = 0; i < got.size(); ++i) {
    std::vector<uint32_t> want_ids = tok.encode(jdocs[i].text);
    want_ids.push_back(bos);
    EXPECT_EQ(got[i].ids, want_ids);
  }
}

TEST_F(TokenizeCli, RejectsBadInput) {
  train("tok");
  write_text(f("empty.jsonl"), "");
  write_text(f("bad.json"), "{\"model\":");
  const std::string tz = "tokenize " + f("c.jsonl") + " -t " + f("tok") + " -o " + f("sh");
  bad("tokenize " + f("missing.jsonl") + " -t " + f("tok") + " -o " + f("sh"), 2, "input not found");
  bad("tokenize " + f("c.jsonl") + " -t " + f("nowhere") + " -o " + f("sh"), 1, "nowhere/tokenizer.json");
  bad("tokenize " + f("c.jsonl") + " -t " + f("bad.json") + " -o " + f("sh"), 2, "invalid JSON");
  bad(tz + " --val-fraction 1", 2, "--val-fraction");
  bad(tz + " --val-fraction -0.1", 2, "--val-fraction");
  bad(tz + " --val-fraction nan", 2, "--val-fraction");
  bad(tz + " --val-fraction half", 2, "--val-fraction");
  bad(tz + " --eos '<|nope|>'", 2, "--eos");
  bad(tz + " --bos '<|nope|>'", 2, "--bos");
  bad(tz + " --max-shard-tokens 0", 2, "--max-shard-tokens");
  bad("tokenize " + f("c.jsonl") + " -t " + f("tok") + " -o ''", 2, "empty output folder");
  ok("tokenizer train " + f("c.jsonl") + " -o " + f("own") + " --vocab-size 300 --special '<|bos|>' '<|eos|>'");
  bad("tokenize " + f("c.jsonl") + " -t " + f("own") + " -o " + f("sh"), 2, "--eos is not given");
  bad("tokenize " + f("c.jsonl") + " -t " + f("own") + " -o " + f("sh") + " --eos '<|eos|>' --bos auto", 2, "--bos is not given");
  bad("tokenize " + f("c.jsonl") + " -t " + f("tok") + " -o " + f("c.jsonl") + "/sub", 1, "c.jsonl");
  bad("tokenize " + f("empty.jsonl") + " -t " + f("tok") + " -o " + f("sh2"), 1, "no documents");
  EXPECT_FALSE(fs::exists(f("sh")));
}

}  // namespace
}  // namespace nlm::testing
