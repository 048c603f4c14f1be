// How the training commands (train, sft, dpo, distill) end: a run stopped by SIGINT/SIGTERM has
// written its checkpoint and exits 130 with the message saying how to resume, like a shell's
// interrupted job; kept here so each command says only what it prints.
#pragma once
#include <cstdio>

#include "train/loop.h"

namespace nlm::cli {

// Runs `body` (the library call and its summary line); returns the command's exit code.
template <class F>
int run_training(F&& body) {
  try {
    body();
    return 0;
  } catch (const train::Interrupted& e) {
    std::fprintf(stderr, "nativelm: %s\n", e.what());
    return 130;
  }
}

}  // namespace nlm::cli
