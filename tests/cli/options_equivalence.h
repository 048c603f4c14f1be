// Helpers for the CLI-vs-pipeline options tests: run a command with --print-options, and a one-stage
// pipeline file with `nativelm build --print-options`, and compare the stage's options JSON.
#pragma once
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace nlm::testing {

struct Case {
  std::string stage;  // pipeline stage name
  std::string cli;    // the command with its flags (inputs and output as the command needs)
  std::string yaml;   // the stage's mapping in flow style
};

inline nlohmann::json cli_options(const Case& c, const TempDir& dir) {
  auto r = run_nativelm(c.cli + " --print-options", dir.path());
  EXPECT_EQ(r.exit_code, 0) << c.cli << "\n" << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

inline nlohmann::json pipeline_options(const Case& c, const TempDir& dir) {
  std::string file = dir.file("p.yaml");
  write_text(file, "work_dir: " + dir.file("work") + "\ninputs: [" + dir.file("in.txt") + "]\nstages:\n  " +
                       c.stage + ": " + c.yaml + "\n");
  auto r = run_nativelm("build " + file + " --print-options", dir.path());
  EXPECT_EQ(r.exit_code, 0) << c.yaml << "\n" << r.err;
  auto all = nlohmann::json::parse(r.out, nullptr, false);
  return all.is_object() && all.contains(c.stage) ? all[c.stage] : nlohmann::json();
}

// The same JSON both ways, once the pipeline's `stage_only` keys (the stage's own options, which
// the command does not have) are set aside. `dir` holds in.txt and anything the case names.
inline void expect_same_in(const Case& c, const TempDir& dir, const std::vector<std::string>& stage_only = {}) {
  auto a = cli_options(c, dir), b = pipeline_options(c, dir);
  ASSERT_TRUE(a.is_object()) << c.cli;
  ASSERT_TRUE(b.is_object()) << c.yaml;
  for (const auto& key : stage_only) b.erase(key);
  EXPECT_EQ(a, b) << "CLI: " << c.cli << "\n  " << a.dump() << "\npipeline: " << c.yaml << "\n  " << b.dump();
}

inline void expect_same(const Case& c) {
  TempDir dir;
  write_text(dir.file("in.txt"), "Tá an aimsir go deas inniu.\n");
  expect_same_in(c, dir);
}

}  // namespace nlm::testing
