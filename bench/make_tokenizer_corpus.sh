#!/usr/bin/env bash
# Builds the tokenizer benchmark corpus (plain text, ~220 MB by default) from Debian text:
# gettext catalogues (100+ languages, via msgunfmt), fortunes (zh, de, es, ru, ...), man pages
# (roff source incl. translations) and /usr/share/doc texts. Usage: make_tokenizer_corpus.sh OUT [MB]
set -u  # no -e/pipefail: `break` out of a producer loop ends its pipe early on purpose
out=$1
cap=$(( ${2:-220} * 1024 * 1024 ))
tmp="$out.tmp.$$"
: > "$tmp"
add() { cat >> "$tmp"; }
size() { stat -c %s "$tmp"; }
# 1. gettext catalogues: msgstr texts in many languages (capped at a third of the corpus).
find /usr/share/locale -name '*.mo' | sort | while read -r f; do
  msgunfmt "$f" 2>/dev/null | sed -n 's/^msgstr "\(.*\)"$/\1/p' | sed 's/\\n/\n/g' | grep -v '^$' || true
  [[ $(size) -gt $((cap / 3)) ]] && break
done | add
# 2. fortunes (all languages).
find /usr/share/games/fortunes -type f ! -name '*.dat' ! -name '*.u8' | sort | xargs cat | sed 's/^%$//' | add
# 3. man pages, then docs, until the cap.
for dir in /usr/share/man /usr/share/doc; do
  find "$dir" -type f -name '*.gz' | sort | while read -r f; do
    zcat "$f" 2>/dev/null | iconv -f utf-8 -t utf-8 -c || true
    echo
    [[ $(size) -gt $cap ]] && break
  done | add
  [[ $(size) -gt $cap ]] && break
done
# Catalogues and fortunes in legacy encodings, and the cut at the cap, leave invalid UTF-8: drop it
# (HF tokenizers refuses to train on a file with invalid UTF-8).
head -c "$cap" "$tmp" | python3 -c 'import sys; sys.stdout.buffer.write(sys.stdin.buffer.read().decode("utf-8", "ignore").encode())' > "$out"
rm -f "$tmp"
echo "corpus: $(stat -c %s "$out") bytes -> $out"
