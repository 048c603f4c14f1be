// The tokenizer commands and the pipeline's `tokenizer` and `tokenize` stages reach their options
// through one declaration each (tokenizer::declare, data::declare): the same settings give the same
// options JSON from the command line and from a pipeline file, and errors name the option as each
// caller spells it (`--flag` on the command line, `stage.key (file:line)` in a pipeline).
#include <gtest/gtest.h>

#include "cli/options_equivalence.h"

using namespace nlm::testing;

namespace {

// The tokenizer stage's own keys (the report's fertility table, the hashes of the files it names),
// which `tokenizer train` and `tokenizer extend` do not have.
const std::vector<std::string> kStageOnly = {"reference", "stats_docs", "base_hash", "reference_hash"};

struct Dir {
  TempDir dir;
  Dir() { write_text(dir.file("in.txt"), "Tá an aimsir go deas inniu.\n"); }
};

TEST(OptionsEquivalence, TokenizerTrain) {
  Dir d;
  const std::string train = "tokenizer train in.txt -o out";
  const std::vector<Case> cases = {
      {"tokenizer", train, "{}"},
      {"tokenizer", train + " --mode byte_level", "{mode: byte-level}"},
      {"tokenizer", train + " --mode byte-level", "{mode: byte_level}"},
      {"tokenizer", train + " --mode sentencepiece --char-coverage 0.99 --vocab-size 8000",
       "{mode: sentencepiece, char_coverage: 0.99, vocab_size: 8000}"},
      {"tokenizer", train + " --reserved 4", "{reserved_tokens: 4}"},
      {"tokenizer", train + " --special '<|bos|>' '<|eos|>' '<|pad|>'",
       "{special_tokens: ['<|bos|>', '<|eos|>', '<|pad|>']}"},
      {"tokenizer", train + " --vocab-size 16777216", "{vocab_size: 16777216}"},
      {"tokenizer", train + " --vocab-size 258", "{vocab_size: 258}"},
      {"tokenizer", train + " --pretokenizer cl100k --split-digits", "{pretokenizer: llama3, split_digits: true}"},
      {"tokenizer", train + " --pretokenizer qwen3", "{pretokenizer: qwen2}"},
      // Options a pipeline could not set before they were declared once.
      {"tokenizer", train + " --max-word-bytes 64 --lang-alpha 0.3 --lang-field language --no-add-bos",
       "{max_word_bytes: 64, lang_alpha: 0.3, lang_field: language, add_bos: false}"},
      {"tokenizer", train + " --min-frequency 5 --max-token-bytes 16 --whitespace-runs 4",
       "{min_frequency: 5, max_token_bytes: 16, whitespace_runs: 4}"},
  };
  for (const auto& c : cases) expect_same_in(c, d.dir, kStageOnly);

  // The JSON uses one key per option (the declaration's), not the flag's name.
  auto a = cli_options({"tokenizer", train + " --reserved 3 --mode byte_level", ""}, d.dir);
  EXPECT_EQ(a["reserved_tokens"], 3);
  EXPECT_FALSE(a.contains("reserved"));
  EXPECT_EQ(a["mode"], "byte-level");
  // The stage adds only its own keys.
  auto b = pipeline_options({"tokenizer", "", "{stats_docs: 10}"}, d.dir);
  EXPECT_EQ(b["stats_docs"], 10);
  EXPECT_EQ(b["reference"], "");
}

TEST(OptionsEquivalence, TokenizerExtend) {
  Dir d;
  auto r = run_nativelm("tokenizer train " + d.dir.file("in.txt") + " -o " + d.dir.file("base") + " --vocab-size 270",
                        d.dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string base = d.dir.file("base");
  const std::string extend = "tokenizer extend in.txt -t " + base + " -o out";
  const std::vector<Case> cases = {
      {"tokenizer", extend, "{base: " + base + "}"},
      {"tokenizer", extend + " --new-tokens 50 --min-frequency 3", "{base: " + base + ", new_tokens: 50, min_frequency: 3}"},
      {"tokenizer", extend + " --max-word-bytes 32 --lang-alpha 0.5 --max-token-bytes 12",
       "{base: " + base + ", max_word_bytes: 32, lang_alpha: 0.5, max_token_bytes: 12}"},
  };
  for (const auto& c : cases) expect_same_in(c, d.dir, kStageOnly);
  // Extending records the base by path (as given) and by content (the stage's fingerprint).
  auto p = pipeline_options({"tokenizer", "", "{base: " + base + "}"}, d.dir);
  EXPECT_EQ(p["base"], base);
  EXPECT_EQ(p["base_hash"].get<std::string>().size(), 32u);
  EXPECT_FALSE(p.contains("vocab_size"));
}

TEST(OptionsEquivalence, Tokenize) {
  Dir d;
  const std::string tokenize = "tokenize in.txt -t tok -o out";
  const std::vector<Case> cases = {
      {"tokenize", tokenize, "{}"},
      {"tokenize", tokenize + " --val-fraction 0.1", "{val_fraction: 0.1}"},
      {"tokenize", tokenize + " --bos auto --eos '<|end_of_text|>'", "{bos_token: auto, eos_token: '<|end_of_text|>'}"},
      {"tokenize", tokenize + " --max-shard-tokens 1000 --batch-docs 16", "{max_shard_tokens: 1000, batch_docs: 16}"},
  };
  for (const auto& c : cases) expect_same_in(c, d.dir);
}

TEST(OptionsEquivalence, TokenizerErrorsNameTheOptionAsEachCallerSpellsIt) {
  Dir d;
  TempDir& dir = d.dir;
  const std::string yaml = dir.file("p.yaml");
  auto pipeline = [&](const std::string& stages) {
    write_text(yaml, "work_dir: " + dir.file("w") + "\ninputs: [" + dir.file("in.txt") + "]\nstages:\n" + stages);
    return run_nativelm("build " + yaml, dir.path());
  };
  auto expect_error = [](const RunResult& r, const std::string& fragment) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << "want: " << fragment << "\ngot: " << r.err;
  };

  // One bound: the library's 2^24, on the command line and in a pipeline.
  expect_error(run_nativelm("tokenizer train in.txt -o out --vocab-size 4000000000", dir.path()),
               "--vocab-size must be between 256 and 16777216, got 4000000000");
  expect_error(pipeline("  tokenizer:\n    min_frequency: 1\n    vocab_size: 4000000000\n"),
               "tokenizer.vocab_size must be between 256 and 16777216, got 4000000000 (" + yaml + ":6)");
  // One choice: the same names both ways.
  expect_error(run_nativelm("tokenizer train in.txt -o out --mode bpe", dir.path()),
               "--mode must be one of byte-level|sentencepiece, got 'bpe'");
  expect_error(pipeline("  tokenizer:\n    mode: bpe\n"),
               "tokenizer.mode must be one of byte-level|sentencepiece, got 'bpe' (" + yaml + ":5)");
  // Cross-field checks of the library name the key in each caller's terms.
  expect_error(run_nativelm("tokenizer train in.txt -o out --pretokenizer gpt2 --split-digits", dir.path()),
               "--split-digits needs the llama3 or qwen2 pre-tokenizer, got gpt2");
  expect_error(pipeline("  tokenizer:\n    pretokenizer: gpt2\n    split_digits: true\n"),
               "tokenizer.split_digits needs the llama3 or qwen2 pre-tokenizer, got gpt2 (" + yaml + ":6)");
  expect_error(run_nativelm("tokenizer train in.txt -o out --special a b a", dir.path()),
               "--special holds the special token 'a' given twice");
  expect_error(pipeline("  tokenizer:\n    special_tokens: [a, b, a]\n"),
               "tokenizer.special_tokens holds the special token 'a' given twice (" + yaml + ":5)");
  expect_error(run_nativelm("tokenizer train in.txt -o out --reserved 4000000000", dir.path()),
               "--vocab-size is 32000, below the 4000000258 tokens");
  expect_error(pipeline("  tokenizer:\n    reserved_tokens: 4000000000\n"),
               "tokenizer.vocab_size is 32000, below the 4000000258 tokens");
  // Extending fixes the vocabulary layout.
  expect_error(pipeline("  tokenizer:\n    base: " + dir.file("in.txt") + "\n    vocab_size: 300\n"),
               "tokenizer.vocab_size does not apply when extending a base tokenizer (" + yaml + ":6)");
  expect_error(pipeline("  tokenizer:\n    base: " + dir.file("in.txt") + "\n    mode: sentencepiece\n"),
               "tokenizer.mode does not apply when extending a base tokenizer (" + yaml + ":6)");
  // tokenize: bounds, and an error the library finds while running (a token the tokenizer lacks).
  expect_error(run_nativelm("tokenize in.txt -t tok -o out --val-fraction 1", dir.path()), "--val-fraction must be in [0, 1)");
  expect_error(pipeline("  tokenize:\n    val_fraction: 1\n"), "tokenize.val_fraction must be in [0, 1), got 1 (" + yaml + ":5)");
  auto r = run_nativelm("tokenizer train " + dir.file("in.txt") + " -o " + dir.file("tok") + " --vocab-size 270", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_error(run_nativelm("tokenize " + dir.file("in.txt") + " -t " + dir.file("tok") + " -o " + dir.file("sh") +
                                " --eos '<|nope|>'",
                            dir.path()),
               "--eos names '<|nope|>', which is not in the tokenizer");
  expect_error(pipeline("  tokenizer:\n    vocab_size: 270\n  tokenize:\n    eos_token: '<|nope|>'\n"),
               "tokenize.eos_token names '<|nope|>', which is not in the tokenizer (" + yaml + ":7)");
  // extend: the output may not be the base's folder, named as each caller names the output.
  expect_error(run_nativelm("tokenizer extend " + dir.file("in.txt") + " -t " + dir.file("tok") + " -o " +
                                dir.file("tok") + "/.",
                            dir.path()),
               "--output is the base tokenizer's folder");
}

}  // namespace

namespace {

// A list flag takes each argument as typed: BERT-style special tokens keep their brackets, as
// they do in a pipeline file.
TEST(OptionsEquivalence, ListFlagsKeepSquareBrackets) {
  TempDir dir;
  write_text(dir.file("in.txt"), "Tá an aimsir go deas.\n");
  expect_same_in({"tokenizer", "tokenizer train in.txt -o out --vocab-size 300 --special '[PAD]' '[CLS]'",
                  "{vocab_size: 300, special_tokens: ['[PAD]', '[CLS]']}"},
                 dir, kStageOnly);
  auto j = cli_options({"tokenizer", "tokenizer train in.txt -o out --special '[PAD]' '[a,b]'", ""}, dir);
  EXPECT_EQ(j["special_tokens"], nlohmann::json({"[PAD]", "[a,b]"}));
}

}  // namespace
