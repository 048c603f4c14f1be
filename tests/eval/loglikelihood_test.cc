// lm-eval's scoring primitives on a tiny random model: batching by length gives the same numbers
// as one request at a time, sums agree with a plain forward pass and with rolling perplexity,
// is_greedy agrees with KV-cache greedy decoding, and `eval logprobs` prints the per-token values
// that loglikelihood sums.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "eval/loglikelihood.h"
#include "eval/perplexity.h"
#include "model/hf_checkpoint.h"
#include "model/llama.h"
#include "tensor/backend.h"
#include "test_util.h"
#include "tiny_text_model.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/trainer.h"

namespace nlm::testing {
namespace {

std::vector<eval::TokenRequest> some_requests() {
  std::vector<eval::TokenRequest> r;
  for (int i = 0; i < 7; ++i) {
    eval::TokenRequest q;
    const int n = 3 + 5 * i;  // 3 .. 33 tokens, the longest over max_length below
    for (int t = 0; t < n; ++t) q.tokens.push_back((7 * t + 3 * i + 1) % 50);
    q.n_context = 1 + size_t(i % 3);
    r.push_back(q);
  }
  return r;
}

TEST(Loglikelihood, BatchedByLengthEqualsOneAtATime) {
  model::Llama m(tiny_config(50, 1), tensor::backend_for("cpu"));
  m.init_random(3);
  auto reqs = some_requests();
  eval::ScoringOptions one;
  one.batch_size = 1;
  one.max_length = 16;  // the longer requests need several windows
  one.top_k = 3;
  eval::ScoringOptions many = one;
  many.batch_size = 4;
  auto a = eval::score_tokens(m, reqs, one);
  auto b = eval::score_tokens(m, reqs, many);
  ASSERT_EQ(a.size(), reqs.size());
  for (size_t r = 0; r < reqs.size(); ++r) {
    ASSERT_EQ(a[r].size(), reqs[r].tokens.size() - reqs[r].n_context);
    ASSERT_EQ(a[r].size(), b[r].size());
    for (size_t k = 0; k < a[r].size(); ++k) {
      EXPECT_EQ(a[r][k].id, reqs[r].tokens[reqs[r].n_context + k]);
      EXPECT_EQ(a[r][k].id, b[r][k].id);
      EXPECT_NEAR(a[r][k].logprob, b[r][k].logprob, 1e-5);
      EXPECT_EQ(a[r][k].greedy, b[r][k].greedy);
      ASSERT_EQ(a[r][k].top.size(), 3u);
      EXPECT_EQ(a[r][k].top[0].first, b[r][k].top[0].first);
      EXPECT_GE(a[r][k].top[0].second, a[r][k].top[1].second);
      EXPECT_LE(a[r][k].logprob, a[r][k].top[0].second + 1e-12);
    }
  }
}

TEST(Loglikelihood, SumsMatchAForwardPassAndRollingPerplexity) {
  model::Llama m(tiny_config(50, 1), tensor::backend_for("cpu"));
  m.init_random(4);
  eval::TokenRequest q;
  q.tokens = {1, 5, 9, 11, 2, 40, 33, 7};
  q.n_context = 3;  // scores 11, 2, 40, 33, 7
  auto s = eval::score_tokens(m, {q}, eval::ScoringOptions{});
  double sum = 0;
  for (auto& t : s[0]) sum += t.logprob;
  model::Batch b;
  b.B = 1;
  b.T = 7;
  b.inputs = {1, 5, 9, 11, 2, 40, 33};
  b.targets = {-1, -1, 11, 2, 40, 33, 7};
  b.set_default_positions();
  m.forward(b);
  double nll = 0;
  for (double x : m.token_losses()) nll += x;
  EXPECT_NEAR(sum, -nll, 1e-4);
  // The rolling loglikelihood of a document is minus its rolling-perplexity NLL, window for window.
  eval::TokenRequest doc;
  doc.tokens = {1};
  std::vector<int32_t> body;
  for (int t = 0; t < 40; ++t) body.push_back((11 * t + 5) % 50);
  doc.tokens.insert(doc.tokens.end(), body.begin(), body.end());
  eval::ScoringOptions w;
  w.max_length = 12;
  w.batch_size = 3;
  double rolled = 0;
  const auto windowed = eval::score_tokens(m, {doc}, w);
  for (auto& t : windowed[0]) rolled += t.logprob;
  eval::PerplexityOptions p;
  p.max_length = 12;
  EXPECT_NEAR(rolled, -eval::rolling_perplexity(m, {body}, {}, p).nll, 1e-4);
}

TEST(Loglikelihood, IsGreedyAgreesWithKvCacheDecoding) {
  model::Llama m(tiny_config(50, 1), tensor::backend_for("cpu"));
  m.init_random(5);
  // Greedy continuation of [1, 8, 20] by the KV-cache decoder, an independent code path.
  std::vector<int32_t> seq = {1, 8, 20};
  m.reset_cache(32);
  auto logits = m.decode(seq);
  std::vector<int32_t> second_best;
  for (int k = 0; k < 5; ++k) {
    int32_t best = 0, next = -1;
    for (int32_t i = 1; i < 50; ++i)
      if (logits[i] > logits[best]) best = i;
    for (int32_t i = 0; i < 50; ++i)
      if (i != best && (next < 0 || logits[i] > logits[next])) next = i;
    seq.push_back(best);
    second_best.push_back(next);
    logits = m.decode({best});
  }
  eval::TokenRequest greedy{seq, 3};
  eval::TokenRequest off = greedy;
  off.tokens[5] = second_best[2];  // the third continuation token is not the argmax
  auto s = eval::score_tokens(m, {greedy, off}, eval::ScoringOptions{});
  for (auto& t : s[0]) EXPECT_TRUE(t.greedy);
  EXPECT_TRUE(s[1][0].greedy);
  EXPECT_TRUE(s[1][1].greedy);
  EXPECT_FALSE(s[1][2].greedy);
}

TEST(Loglikelihood, BadRequestsAreUsageErrors) {
  model::Llama m(tiny_config(50, 1), tensor::backend_for("cpu"));
  m.init_random(6);
  EXPECT_THROW(eval::score_tokens(m, {eval::TokenRequest{{1, 2}, 0}}, {}), Error);    // nothing before
  EXPECT_THROW(eval::score_tokens(m, {eval::TokenRequest{{1, 2}, 3}}, {}), Error);    // past the end
  EXPECT_THROW(eval::score_tokens(m, {eval::TokenRequest{{1, 50}, 1}}, {}), Error);   // outside the vocab
  eval::ScoringOptions big;
  big.max_length = 65;
  EXPECT_THROW(eval::score_tokens(m, {eval::TokenRequest{{1, 2}, 1}}, big), Error);  // longer than the model
}

// A byte-level tokenizer trained on a few sentences, and a model over its vocabulary.
TEST(LmScorer, EncodesPairsAsLmEval) {
  auto t = text_model();
  eval::LmScorer s(*t.model, t.tok, eval::ScoringOptions{});
  // The context's trailing space moves to the continuation.
  auto a = s.encode_pair("The cat ", "sat on the mat");
  auto b = s.encode_pair("The cat", " sat on the mat");
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.n_context, b.n_context);
  // Python's whitespace: a no-break space moves too.
  EXPECT_EQ(s.encode_pair("The cat\u00a0", "sat").tokens, s.encode_pair("The cat", "\u00a0sat").tokens);
  // An empty context is the prefix token (BOS here).
  auto e = s.encode_pair("", "The cat");
  EXPECT_EQ(e.tokens.front(), s.prefix_token());
  EXPECT_EQ(e.n_context, 1u);
  // With add_bos the sequence starts with BOS and the split stays the same.
  eval::ScoringOptions ob;
  ob.add_bos = true;
  eval::LmScorer sb(*t.model, t.tok, ob);
  auto c = sb.encode_pair("The cat", " sat");
  EXPECT_EQ(c.tokens.front(), s.prefix_token());
  EXPECT_EQ(c.n_context, b.n_context + 1);
  auto r = s.loglikelihood({{"The cat", " sat on the mat"}, {"", "The cat"}});
  EXPECT_LT(r[0].logprob, 0.0);
  auto roll = s.loglikelihood_rolling({"The cat sat"});
  EXPECT_NEAR(roll[0], s.loglikelihood({{"", "The cat sat"}})[0].logprob, 1e-9);
}

TEST(EvalLogprobs, CommandPrintsWhatLoglikelihoodSums) {
  TempDir dir;
  auto t = text_model();
  model::save_hf_model(dir.file("m"), *t.model);
  t.tok.save(dir.file("m"));
  write_text(dir.file("req.jsonl"),
             "{\"context\": \"The cat\", \"continuation\": \" sat on the mat\"}\n"
             "\n"
             "{\"text\": \"Tá sé\"}\n");
  auto r = run_nativelm("eval logprobs " + dir.file("m") + " " + dir.file("req.jsonl") + " --top-k 2 --batch-size 2",
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<nlohmann::json> lines;
  size_t i = 0;
  for (size_t j; (j = r.out.find('\n', i)) != std::string::npos; i = j + 1)
    lines.push_back(nlohmann::json::parse(r.out.substr(i, j - i)));
  ASSERT_EQ(lines.size(), 2u);
  auto loaded = model::load_hf_model(dir.file("m"), tensor::backend_for("cpu"));
  auto tok = tokenizer::Tokenizer::load(dir.file("m/tokenizer.json"));
  eval::LmScorer s(*loaded, tok, eval::ScoringOptions{});
  auto ll = s.loglikelihood({{"The cat", " sat on the mat"}});
  double sum = 0;
  std::string text;
  for (auto& tk : lines[0]["tokens"]) {
    sum += tk["logprob"].get<double>();
    text += tk["text"].get<std::string>();
    EXPECT_EQ(tk["top"].size(), 2u);
  }
  EXPECT_EQ(text, " sat on the mat");
  // The command scores with --batch-size 2 and the scorer with its default: the LM head runs
  // over differently sized row chunks, so fp32 rounding differs (about 1e-7 relative).
  EXPECT_NEAR(sum, ll[0].logprob, 1e-5);
  EXPECT_NEAR(lines[0]["logprob"].get<double>(), ll[0].logprob, 1e-5);
  EXPECT_EQ(lines[0]["is_greedy"].get<bool>(), ll[0].is_greedy);
  // A text without --bos: its first token has no prediction.
  EXPECT_TRUE(lines[1]["tokens"][0]["logprob"].is_null());
  EXPECT_EQ(lines[1]["index"].get<int>(), 1);
  // With --bos every token of the text is scored, after BOS.
  auto rb = run_nativelm("eval logprobs " + dir.file("m") + " " + dir.file("req.jsonl") + " --bos", dir.path());
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  auto last = nlohmann::json::parse(rb.out.substr(rb.out.rfind('\n', rb.out.size() - 2) + 1));
  EXPECT_FALSE(last["tokens"][0]["logprob"].is_null());
  // Bad records are usage errors naming the line.
  write_text(dir.file("bad.jsonl"), "{\"text\": \"ok\"}\n{\"context\": \"only\"}\n");
  auto bad = run_nativelm("eval logprobs " + dir.file("m") + " " + dir.file("bad.jsonl"), dir.path());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad.jsonl:2"), std::string::npos) << bad.err;
  write_text(dir.file("bad2.jsonl"), "not json\n");
  EXPECT_EQ(run_nativelm("eval logprobs " + dir.file("m") + " " + dir.file("bad2.jsonl"), dir.path()).exit_code, 2);
}

}  // namespace
}  // namespace nlm::testing
