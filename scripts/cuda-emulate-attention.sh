#!/usr/bin/env bash
# Kept for old instructions: the attention part of scripts/cuda-emulate.sh.
exec "$(dirname "$0")/cuda-emulate.sh" attention "$@"
