// lm-evaluation-harness's scoring primitives on nativelm's own forward pass:
//   loglikelihood(context, continuation) -> (sum of the continuation's log-probabilities,
//     whether greedy decoding would have produced exactly the continuation);
//   loglikelihood_rolling(text) -> the text's total log-probability, predicted from a prefix
//     token (BOS, else EOS) in windows of at most max_length tokens, every token once;
// and the per-token log-probabilities (with greedy flags and top-k alternatives) under both.
// Requests are encoded as lm-eval encodes them (a context's trailing whitespace moves to the
// continuation; the continuation is what the whole string's tokens add after the context's),
// cut into windows, sorted by length and run batch_size windows per forward, right-padded:
// with causal attention a row's padding cannot change its real positions, so batched and
// unbatched scoring agree (up to float rounding in the matrix products).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nlm::model {
class Llama;
}
namespace nlm::tokenizer {
class Tokenizer;
}
namespace nlm::opt {
class Schema;
}

namespace nlm::eval {

struct ScoringOptions {
  int max_length = 0;         // tokens a window sees; 0 = the model's max_position_embeddings
  int batch_size = 8;         // windows per forward pass (memory: batch·length·vocab floats)
  int top_k = 0;              // alternatives reported per scored token (0 = none)
  bool add_bos = false;       // start every sequence with BOS (lm-eval's add_bos_token)
  int32_t prefix_token = -1;  // token before an empty context / a rolling text; −1 = BOS, else EOS
};
void declare(opt::Schema& schema, ScoringOptions& options);

// Token ids of one sequence; tokens[n_context..] are scored, each predicted from the tokens
// before it (at most max_length of them). n_context must be at least 1.
struct TokenRequest {
  std::vector<int32_t> tokens;
  size_t n_context = 1;
};

struct TokenScore {
  int32_t id = 0;
  double logprob = 0;     // natural log
  bool greedy = false;    // id is the argmax of its distribution
  std::vector<std::pair<int32_t, double>> top;  // top_k (id, logprob), best first
};

// One vector of scores per request, in request order, one score per scored token. Usage errors
// for ids outside the vocabulary, n_context 0 or past the end, and a window longer than the model.
std::vector<std::vector<TokenScore>> score_tokens(model::Llama& model, const std::vector<TokenRequest>& requests,
                                                  const ScoringOptions& options);

struct Loglikelihood {
  double logprob = 0;     // sum over the continuation's tokens
  bool is_greedy = true;  // every continuation token was the argmax
};

// lm-eval's requests over text, through `tok` (the model's tokenizer.json).
class LmScorer {
 public:
  LmScorer(model::Llama& model, const tokenizer::Tokenizer& tok, const ScoringOptions& options);
  // (context, continuation) as lm-eval's _encode_pair: an empty context becomes the prefix token.
  TokenRequest encode_pair(const std::string& context, const std::string& continuation) const;
  // A whole text after the prefix token (the rolling loglikelihood's sequence).
  TokenRequest encode_rolling(const std::string& text) const;
  std::vector<Loglikelihood> loglikelihood(const std::vector<std::pair<std::string, std::string>>& requests);
  std::vector<double> loglikelihood_rolling(const std::vector<std::string>& texts);
  int32_t prefix_token() const { return prefix_; }

 private:
  std::vector<int32_t> encode(const std::string& text) const;
  model::Llama& model_;
  const tokenizer::Tokenizer& tok_;
  ScoringOptions o_;
  int32_t prefix_ = 0;
  int32_t bos_ = -1;
};

}  // namespace nlm::eval
