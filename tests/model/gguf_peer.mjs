// Peer checks of an exported GGUF file, run by gguf_peer_test.cc:
//   node gguf_peer.mjs meta FILE              @huggingface/gguf's parse: metadata and tensor infos
//   node gguf_peer.mjs run FILE PROMPT_FILE N llama.cpp (node-llama-cpp, CPU): the prompt's tokens
//     (with BOS when the file asks for it), the raw logits after every prompt token, and N greedy
//     tokens chosen by argmax over the raw logits, with their detokenized text. The KV cache is
//     F32 unless GGUF_PEER_KV_TYPE names another type (F16 is llama.cpp's default).
//   node gguf_peer.mjs tokenize FILE TEXTS_JSON  llama.cpp's token ids of each text (no BOS)
// Prints one JSON value on stdout.
import { readFileSync } from "node:fs";

const [mode, file, promptFile, nText] = process.argv.slice(2);

function plain(v) {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

async function load(file) {
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  return { llama, model };
}

if (mode === "meta") {
  const { gguf } = await import("@huggingface/gguf");
  const { metadata, tensorInfos } = await gguf(file, { allowLocalFile: true });
  const meta = {};
  for (const [k, v] of Object.entries(metadata)) meta[k] = plain(v);
  const tensors = tensorInfos.map((t) => ({ name: t.name, shape: plain(t.shape), dtype: t.dtype }));
  process.stdout.write(JSON.stringify({ metadata: meta, tensors }));
} else if (mode === "tokenize") {
  const { llama, model } = await load(file);
  const texts = JSON.parse(readFileSync(promptFile, "utf8"));
  process.stdout.write(JSON.stringify(texts.map((t) => model.tokenize(t, false))));
  await model.dispose();
  await llama.dispose();
} else if (mode === "run") {
  const { llama, model } = await load(file);
  // An F32 KV cache (llama.cpp's default is F16), so the comparison measures the exported weights.
  const kv = process.env.GGUF_PEER_KV_TYPE || "F32";
  const context = await model.createContext({
    contextSize: 256, threads: 1, flashAttention: false,
    experimentalKvCacheKeyType: kv, experimentalKvCacheValueType: kv,
  });
  const seq = context.getSequence();
  const text = readFileSync(promptFile, "utf8");
  const tokens = model.tokenize(text, false);
  if (model.tokens.shouldPrependBosToken && model.tokens.bos !== null) tokens.unshift(model.tokens.bos);
  const vocab = model.fileInfo.metadata.tokenizer.ggml.tokens.length;
  const dense = (m) => {
    const row = new Array(vocab).fill(null);
    for (const [t, l] of m) row[t] = l;
    return row;
  };
  const argmax = (row) => row.reduce((best, v, i) => (v > row[best] ? i : best), 0);
  const out = await seq.controlledEvaluate(tokens.map((t) => [t, { generateNext: { logits: true } }]));
  const logits = out.map((o) => dense(o.next.logits));
  const greedy = [];
  let next = argmax(logits[logits.length - 1]);
  for (let i = 0; i < Number(nText); ++i) {
    greedy.push(next);
    const r = await seq.controlledEvaluate([[next, { generateNext: { logits: true } }]]);
    next = argmax(dense(r[0].next.logits));
  }
  process.stdout.write(JSON.stringify({ tokens, logits, greedy, text: model.detokenize(greedy) }));
  await context.dispose();
  await model.dispose();
  await llama.dispose();
} else {
  console.error("usage: gguf_peer.mjs meta FILE | tokenize FILE TEXTS_JSON | run FILE PROMPT_FILE N");
  process.exit(2);
}
