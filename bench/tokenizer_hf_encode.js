// Encode throughput of HF tokenizers (npm `tokenizers`) for bench_tokenizer: encodes every line of
// a text file in batches of 1,000 and prints seconds and tokens. Run with RAYON_NUM_THREADS=1 for
// a per-core figure. Usage: node tokenizer_hf_encode.js TOKENIZER_JSON TEXT_FILE
const fs = require('fs');
const { Tokenizer } = require('tokenizers');
async function main() {
  const [tokPath, textPath] = process.argv.slice(2);
  const tok = Tokenizer.fromFile(tokPath);
  const lines = fs.readFileSync(textPath, 'utf8').split('\n');
  const t0 = process.hrtime.bigint();
  let tokens = 0;
  for (let i = 0; i < lines.length; i += 1000) {
    const encs = await tok.encodeBatch(lines.slice(i, i + 1000), { addSpecialTokens: false });
    for (const e of encs) tokens += e.getIds().length;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`hf_encode_seconds ${secs.toFixed(4)} tokens ${tokens}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
