#!/usr/bin/env bash
# Installs every Debian package nativelm builds, tests and demos with. Idempotent: packages that
# are already present are skipped, `apt-get update` runs at most once, and nothing prompts.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # clang with libFuzzer and the sanitizer runtimes, and its OpenMP, for scripts/fuzz.sh
  clang-14 libclang-rt-14-dev libomp-14-dev
  # libraries (see ../shared/DEPS.md for how CMake finds each)
  libopenblas-dev libsimdjson-dev libzstd-dev zstd zlib1g-dev libbz2-dev bzip2 libxxhash-dev
  libicu-dev libcld2-dev libfasttext-dev libopencc-dev libopencc-data libgumbo-dev
  libuchardet-dev libvectorscan-dev libre2-dev libfmt-dev libspdlog-dev libcli11-dev
  nlohmann-json3-dev libyaml-cpp-dev libcpp-httplib-dev libgtest-dev libgmock-dev
  libbenchmark-dev libopenmpi-dev openmpi-bin
  # real multilingual text for the demo and tests
  fortune-mod fortunes-min fortunes-de fortunes-es fortunes-it fortunes-zh fortunes-ru
  fortunes-ga fortunes-pl fortunes-br
  # tokenizer benchmark peer (spm_train)
  sentencepiece
  # headless browser for the report test (tests/pipeline/report_browser_test.cc) and the chat
  # page test (tests/serve/chat_page_test.cc)
  chromium
  # bench_train's PyTorch CPU comparison (the tests do not need it); OpenBLAS keeps torch fast
  python3-torch libopenblas0-pthread
  # the reference Jinja2 engine for the chat-template differential test (tests/data/chat_template_hf_test.cc)
  python3-jinja2
  # an independent JSON Schema validator for structured output (tests/serve/json_schema_keywords_test.cc)
  python3-jsonschema
)
# Extra packages can be added by later stages through NATIVELM_EXTRA_PACKAGES.
if [[ -n "${NATIVELM_EXTRA_PACKAGES:-}" ]]; then
  read -r -a extra <<<"$NATIVELM_EXTRA_PACKAGES"
  PACKAGES+=("${extra[@]}")
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
else
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm peers for the tokenizer interop tests and benchmark (idempotent; skips without npm).
bash "$(dirname "$0")/install-npm-peers.sh"
