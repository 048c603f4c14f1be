// Encodes strings with HF tokenizers (npm `tokenizers`, the Rust library) to give the tokenizer
// tests their expected ids. Usage: node hf_encode.js TOKENIZER_JSON INPUT_JSONL > OUTPUT_JSONL
// Input lines are JSON strings; output lines are {"ids": [...], "special": [...], "decoded": "..."}.
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

async function main() {
  const [tokPath, inPath] = process.argv.slice(2);
  const tok = Tokenizer.fromFile(tokPath);
  const lines = fs.readFileSync(inPath, 'utf8').split('\n').filter((l) => l.length > 0);
  const out = [];
  for (const line of lines) {
    const text = JSON.parse(line);
    const plain = await tok.encode(text, null, { addSpecialTokens: false });
    const special = await tok.encode(text, null, { addSpecialTokens: true });
    const ids = plain.getIds();
    const decoded = await tok.decode(ids, false);
    out.push(JSON.stringify({ ids, special: special.getIds(), decoded }));
  }
  fs.writeFileSync(1, out.join('\n') + '\n');
}
main().catch((e) => { console.error(e); process.exit(1); });
