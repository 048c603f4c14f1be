// The kill -9 matrix (issue 11): a long `nativelm` command is run twice uninterrupted for its
// reference output and duration (the two runs must agree), then killed with SIGKILL at seeded random moments within that
// duration (once, or twice in a row so a killed run also starts from a killed run's leftovers)
// and rerun to completion. The rerun's folders must equal the reference file for file and byte
// for byte (less the fields that measure time, see normalized_content), which also means no
// document lost or duplicated and no temp file left behind.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace nlm::testing {

struct KillCase {
  std::string name;                  // shown in failure messages
  std::vector<std::string> argv;     // arguments of `nativelm`; reruns use the same ones
  std::vector<std::string> outputs;  // folders it writes; removed before each moment's first run
  // Called before each rerun: what the rerun's stderr must then say ("" = nothing), e.g. that it
  // resumed from the checkpoint the killed run left (an identical output alone would not show it).
  std::function<std::string()> rerun_says;
};

// NATIVELM_KILL_MOMENTS (default 10): moments each stage is killed at.
int kill_moments();
// NATIVELM_KILL_SEED when set, else a fresh random seed; failure messages name it.
uint64_t kill_seed();

// A file's content as the matrix compares it: JSON files (*.json) and JSON Lines (*.jsonl, when
// every line parses) with the fields that measure the run rather than its output taken out at
// any depth (seconds, *_seconds, finished_at, generated_at, throughput*, tokens_per_s(econd),
// mfu, and pipeline report.json's per-invocation ran_in_this_build and status); other files as
// they are.
std::string normalized_content(const std::string& path);

// Every file (and empty folder, with a trailing '/') below `dir`, by path relative to it, with
// its normalized content. report.html is left out: it renders the timings as text and charts.
std::map<std::string, std::string> snapshot(const std::string& dir);

// What differs between two snapshots, one line per file ("left behind: X", "missing: X",
// "differs: X"); empty when they are the same.
std::vector<std::string> snapshot_differences(const std::map<std::string, std::string>& want,
                                              const std::map<std::string, std::string>& got);

// Runs the matrix for `c` with `moments` moments from `seed`; adds a GoogleTest failure (naming
// the case, the seed, the moment and the kill times) for each moment whose rerun fails or differs.
void run_kill_matrix(const KillCase& c, int moments, uint64_t seed);

}  // namespace nlm::testing
