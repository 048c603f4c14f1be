#!/usr/bin/env bash
# The README's first command: sets up a fresh Debian machine (packages + build) and runs the main
# job on the built-in default corpus. Today the main job is corpus ingestion and statistics:
# real multilingual text from Debian's fortune packages (German, Spanish, Italian, Russian,
# Polish, Irish, Chinese, Portuguese, English) becomes compressed JSONL shards with a manifest,
# and `nativelm corpus stats` describes them. The pipeline (`nativelm build`) will grow this
# into the whole path from raw text to a model.
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

"$NATIVELM" corpus shard "$RAW" --text-mode paragraph -o "$WORK/corpus" --max-docs 20000
echo
"$NATIVELM" corpus stats "$WORK/corpus"
"$NATIVELM" -q corpus stats --json "$WORK/corpus" >"$WORK/corpus-stats.json"
echo
echo "demo: shards and manifest.json in $WORK/corpus, statistics in $WORK/corpus-stats.json"
