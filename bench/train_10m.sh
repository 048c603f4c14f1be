#!/usr/bin/env bash
# Trains a ~10M-parameter Llama on a real multilingual corpus and prints the eval curve.
#
#   bench/train_10m.sh [WORKDIR] [STEPS]        (defaults: /tmp/nativelm-10m, 200)
#
# Corpus: every fortune file under /usr/share/games/fortunes (Debian fortunes-* packages: English,
# German, Spanish, Italian, Polish, Russian, Irish, Chinese, Brazilian Portuguese), one document
# per quote (quotes are separated by lines holding only "%"), as JSONL with a "lang" field taken
# from the folder or file name, shuffled with a fixed seed so each language is spread over the run;
# the last 500 quotes go to heldout.jsonl, which neither the tokenizer nor the model sees.
# Then: tokenizer train (byte-level BPE, vocab 8192) → tokenize with 2 % held out as val shards →
# train d=384, 4 layers, 6 heads / 2 KV heads, SwiGLU 1152, tied embeddings (10.0M parameters),
# batch 8 × 256, eval on the val shards every EVAL_EVERY steps → `eval ppl` on heldout.jsonl
# (text encoded with the model's tokenizer.json; bits per byte over the quotes' UTF-8 bytes).
# Prints steps, tokens/s and the eval loss / bits-per-byte curve from metrics.jsonl.
# Environment: NATIVELM (binary, default build/nativelm), THREADS (default 2), EVAL_EVERY (25).
set -euo pipefail
work=${1:-/tmp/nativelm-10m}
steps=${2:-200}
here=$(cd "$(dirname "$0")/.." && pwd)
nlm=${NATIVELM:-$here/build/nativelm}
threads=${THREADS:-2}
eval_every=${EVAL_EVERY:-25}
py=/usr/bin/python3
[[ -x $nlm ]] || { echo "train_10m.sh: no nativelm binary at $nlm (set NATIVELM)" >&2; exit 2; }
mkdir -p "$work"

# 1. Corpus: fortunes -> JSONL documents.
corpus=$work/corpus/fortunes.jsonl
if [[ ! -s $corpus || ! -s $work/corpus/heldout.jsonl ]]; then
  mkdir -p "$work/corpus"
  "$py" - "$corpus" <<'EOF'
import json, os, random, sys
root = "/usr/share/games/fortunes"
# Top-level files by language; folders (de, es, it, pl, ru, ga) name theirs.
zh = {"chinese", "tang300", "song100"}
it = {"definizioni", "formiche", "italia", "itatrek", "leggi", "luttazzi", "paolotedeschi", "zuse"}
pt = {"brasil"}
docs = []
for d, subdirs, files in os.walk(root):
    subdirs.sort()
    for f in sorted(files):
        p = os.path.join(d, f)
        if f.endswith((".dat", ".u8")) or os.path.islink(p):
            continue
        rel = os.path.relpath(p, root).split(os.sep)
        lang = rel[0] if len(rel) > 1 else "zh" if f in zh else "it" if f in it else "pt" if f in pt else "en"
        text = open(p, "rb").read().decode("utf-8", "replace")
        quote = []
        for line in text.split("\n") + ["%"]:
            if line.strip() == "%":
                q = "\n".join(quote).strip("\n")
                if q.strip():
                    docs.append({"id": f"{'/'.join(rel)}#{len(docs)}", "lang": lang, "text": q})
                quote = []
            else:
                quote.append(line.rstrip("\r"))
random.Random(1234).shuffle(docs)
heldout = os.path.join(os.path.dirname(sys.argv[1]), "heldout.jsonl")
for path, part in ((heldout, docs[-500:]), (sys.argv[1], docs[:-500])):
    with open(path + ".tmp", "w", encoding="utf-8") as out:
        for doc in part:
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
    os.replace(path + ".tmp", path)
langs = {}
for doc in docs:
    langs[doc["lang"]] = langs.get(doc["lang"], 0) + 1
print(f"corpus: {len(docs) - 500} quotes, {os.path.getsize(sys.argv[1])} bytes (+500 held out), "
      f"languages {dict(sorted(langs.items()))}")
EOF
fi

# 2. Tokenizer and token shards (2 % of the quotes held out).
[[ -s $work/tok/tokenizer.json ]] ||
  "$nlm" --threads "$threads" tokenizer train "$corpus" -o "$work/tok" --vocab-size 8192
[[ -s $work/shards/manifest.json ]] ||
  "$nlm" --threads "$threads" tokenize "$corpus" -t "$work/tok" -o "$work/shards" --val-fraction 0.02

train_shards=$(ls "$work"/shards/train-*.tok | paste -sd, -)
val_shards=$(ls "$work"/shards/val-*.tok | paste -sd, -)

# 3. Train.
cat > "$work/train.yaml" <<EOF
model: {vocab_size: 8192, hidden_size: 384, intermediate_size: 1152, num_hidden_layers: 4,
        num_attention_heads: 6, num_key_value_heads: 2, max_position_embeddings: 256,
        tie_word_embeddings: true, bos_token_id: 8190, eos_token_id: 8191}
data:
  train: [$train_shards]
  eval: [$val_shards]
tokenizer: $work/tok/tokenizer.json
batch_size: 8
seq_len: 256
steps: $steps
schedule: {type: cosine, lr: 2e-3, min_lr: 2e-4, warmup_steps: 30}
eval_every: $eval_every
eval_batches: 8
checkpoint_every: 0
log_every: 25
EOF
rm -rf "$work/run"
start=$(date +%s)
"$nlm" --threads "$threads" train "$work/train.yaml" --out "$work/run"
echo "wall: $(( $(date +%s) - start )) s"

# 4. Perplexity on the held-out quotes as text, and the curve from metrics.jsonl.
echo "held-out text ($work/corpus/heldout.jsonl):"
"$nlm" --threads "$threads" eval ppl -m "$work/run/model" "$work/corpus/heldout.jsonl"
"$py" - "$work/run/metrics.jsonl" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ev = [r for r in rows if "eval_loss" in r]
tr = [r for r in rows if "eval_loss" not in r and "loss" in r]
last = tr[-1]
print(f"steps {last['step']}, tokens {last['tokens']}, tokens/s {last['tokens_per_s']:.0f}, "
      f"MFU {100 * last['mfu']:.1f} %, final train loss {last['loss']:.4f}")
print(f"{'step':>6} {'eval_loss':>10} {'bits/byte':>10}")
for r in ev:
    print(f"{r['step']:>6} {r['eval_loss']:>10.4f} {r.get('eval_bits_per_byte', float('nan')):>10.4f}")
EOF
