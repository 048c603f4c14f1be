// Trains HF tokenizers (npm `tokenizers`, Rust) on a text file with the same pipeline nativelm
// uses (Llama 3 split + byte-level), for bench_tokenizer. The Node binding's train() always uses
// the default BpeTrainer (vocab 30,000, min_frequency 0), so the benchmark compares at 30,000.
// Usage: node tokenizer_hf_train.js CORPUS OUT_TOKENIZER_JSON REGEX
const { Tokenizer } = require('tokenizers');
const [corpus, out, regex] = process.argv.slice(2);
const spec = {
  version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
  pre_tokenizer: { type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
  post_processor: null,
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null,
           end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false,
           vocab: {}, merges: [] },
};
const tok = Tokenizer.fromString(JSON.stringify(spec));
const t0 = process.hrtime.bigint();
tok.train([corpus]);
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
tok.save(out, false);
console.log(`hf_train_seconds ${secs.toFixed(3)} vocab ${tok.getVocabSize(true)}`);
