// The kill -9 matrix's runner and its comparison of output folders (see kill_matrix.h).
#include "kill_matrix.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "test_util.h"

namespace nlm::testing {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ordered_json = nlohmann::ordered_json;

namespace {

// Fields that say how a run went, not what it made: wall times and rates, when it finished, and
// the work a resumed run found done (resumed_files, shards_skipped) or a build found up to date
// (status, ran_in_this_build in the pipeline's report.json).
bool measures_the_run(const std::string& key) {
  static const std::set<std::string> names = {"seconds",        "finished_at",  "generated_at", "tokens_per_s",
                                              "tokens_per_second", "mfu",      "resumed_files", "shards_skipped",
                                              "status",         "ran_in_this_build"};
  return names.count(key) || key.find("throughput") != std::string::npos ||
         (key.size() > 8 && key.compare(key.size() - 8, 8, "_seconds") == 0);
}

void strip(ordered_json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end();) {
      if (measures_the_run(it.key())) {
        it = j.erase(it);
      } else {
        strip(*it);
        ++it;
      }
    }
  } else if (j.is_array()) {
    for (auto& e : j) strip(e);
  }
}

// `text` with run-measuring fields stripped, or nullopt when it is not JSON.
std::optional<std::string> stripped_json(const std::string& text) {
  auto j = ordered_json::parse(text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  strip(j);
  return j.dump();
}

struct Outcome {
  bool killed = false;  // SIGKILL landed while it ran
  double seconds = 0;   // else: how long it ran
  std::string failure;  // else: why it failed ("" when it exited 0)
};

// Runs the case and, when `kill_after` >= 0, sends SIGKILL that many seconds after the start.
Outcome run_case(const KillCase& c, const std::string& log_dir, double kill_after = -1) {
  auto t0 = Clock::now();
  pid_t pid = spawn_nativelm(c.argv, log_dir + "/out.txt", log_dir + "/err.txt");
  if (pid < 0) return {false, 0, "could not start nativelm"};
  int status = 0;
  if (kill_after >= 0) {
    // Poll so a run that ends first is reaped, not killed as a zombie.
    auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kill_after));
    bool ended = false;
    while (!ended && Clock::now() < deadline) {
      ended = waitpid(pid, &status, WNOHANG) == pid;
      if (!ended) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (!ended) kill(pid, SIGKILL);
  }
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  Outcome o;
  o.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (kill_after >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
    o.killed = true;
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    o.failure = (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                     : "exit code " + std::to_string(WEXITSTATUS(status))) +
                ": " + read_text(log_dir + "/err.txt");
  }
  return o;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

}  // namespace

int kill_moments() { return std::max(1, std::atoi(env_or("NATIVELM_KILL_MOMENTS", "10").c_str())); }

uint64_t kill_seed() {
  static const uint64_t seed = [] {
    std::string s = env_or("NATIVELM_KILL_SEED", "");
    return s.empty() ? (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}() : std::stoull(s);
  }();
  return seed;
}

std::string normalized_content(const std::string& path) {
  std::string text = read_text(path);
  const std::string name = fs::path(path).filename().string();
  if (name.ends_with(".json")) return stripped_json(text).value_or(text);
  if (name == "metrics.jsonl") {
    std::istringstream in(text);
    std::string line, out;
    while (std::getline(in, line)) {
      auto s = stripped_json(line);
      if (!s) return text;  // a torn line: compared as it is, so it shows
      out += *s + "\n";
    }
    return out;
  }
  return text;
}

std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::string rel = fs::relative(it->path(), dir).string();
    if (it->is_directory()) {
      if (fs::is_empty(it->path())) files[rel + "/"] = "";
    } else if (it->path().filename() != "report.html") {
      files[rel] = normalized_content(it->path().string());
    }
  }
  return files;
}

std::vector<std::string> snapshot_differences(const std::map<std::string, std::string>& want,
                                              const std::map<std::string, std::string>& got) {
  std::vector<std::string> out;
  for (const auto& [path, content] : got)
    if (!want.count(path)) out.push_back("left behind: " + path);
  for (const auto& [path, content] : want) {
    auto it = got.find(path);
    if (it == got.end()) {
      out.push_back("missing: " + path);
    } else if (it->second != content) {
      size_t at = 0;
      while (at < content.size() && at < it->second.size() && content[at] == it->second[at]) ++at;
      out.push_back("differs: " + path + " (first at byte " + std::to_string(at) + " of " +
                    std::to_string(content.size()) + " vs " + std::to_string(it->second.size()) + ")");
    }
  }
  return out;
}

void run_kill_matrix(const KillCase& c, int moments, uint64_t seed) {
  TempDir logs;
  auto clear = [&] {
    for (const auto& o : c.outputs) fs::remove_all(o);
  };
  auto snap = [&] {
    std::map<std::string, std::string> all;
    for (size_t i = 0; i < c.outputs.size(); ++i)
      for (auto& [path, content] : snapshot(c.outputs[i])) all[std::to_string(i) + ":" + path] = std::move(content);
    return all;
  };
  // Two uninterrupted runs: the reference, and the run time that bounds the kill moments (the
  // second, with warm caches, is the shorter one as a rule). They must agree with each other.
  double window = 0;
  std::map<std::string, std::string> reference;
  for (int i = 0; i < 2; ++i) {
    clear();
    Outcome o = run_case(c, logs.path());
    ASSERT_EQ(o.failure, "") << c.name << ": the uninterrupted run failed";
    window = i == 0 ? o.seconds : std::min(window, o.seconds);
    if (i == 0) {
      reference = snap();
      ASSERT_FALSE(reference.empty()) << c.name << " wrote nothing";
    } else {
      auto diffs = snapshot_differences(reference, snap());
      ASSERT_TRUE(diffs.empty()) << c.name << ": two uninterrupted runs differ: " << diffs[0];
    }
  }

  std::mt19937_64 rng(seed);
  int landed = 0, missed = 0;
  for (int m = 0; m < moments; ++m) {
    // One kill, or (one time in three) two in a row, the second starting from the first's
    // leftovers. A kill that comes after the run has ended narrows the window to that run's time
    // and the moment starts over (three tries).
    std::string kills, failure;
    const int count = rng() % 3 == 0 ? 2 : 1;
    bool all_landed = false;
    int hits = 0;
    for (int attempt = 0; attempt < 3 && !all_landed && failure.empty(); ++attempt) {
      clear();
      kills.clear();
      hits = 0;
      all_landed = true;
      for (int k = 0; k < count && all_landed; ++k) {
        double at = std::uniform_real_distribution<double>(0, window)(rng);
        Outcome o = run_case(c, logs.path(), at);
        all_landed = o.killed;
        hits += o.killed;
        failure = o.failure;
        if (!o.killed && failure.empty()) window = std::min(window, o.seconds * 0.9);
        kills += (kills.empty() ? "" : ", ") + std::to_string(static_cast<int>(at * 1000)) + " ms" +
                 (o.killed ? "" : " (had ended)");
      }
      missed += !all_landed;
    }
    landed += hits;
    const std::string where = c.name + ": seed " + std::to_string(seed) + " (NATIVELM_KILL_SEED), moment " +
                              std::to_string(m + 1) + " of " + std::to_string(moments) + ", killed at " + kills +
                              " of a " + std::to_string(static_cast<int>(window * 1000)) + " ms run";
    // A run that starts from a killed run's leftovers must not fail either.
    EXPECT_EQ(failure, "") << where << ": a run from the killed run's state failed";
    const std::string says = c.rerun_says ? c.rerun_says() : "";
    if (std::string rerun = run_case(c, logs.path()).failure; !rerun.empty()) {
      ADD_FAILURE() << where << ": the rerun failed: " << rerun;
      continue;
    }
    if (!says.empty()) {
      std::string log = read_text(logs.file("err.txt"));
      EXPECT_NE(log.find(says), std::string::npos) << where << ": the rerun did not say '" << says << "':\n" << log;
    }
    auto diffs = snapshot_differences(reference, snap());
    std::string listed;
    for (size_t i = 0; i < diffs.size() && i < 8; ++i) listed += "\n  " + diffs[i];
    EXPECT_TRUE(diffs.empty()) << where << ": the rerun's output is not the uninterrupted run's:" << listed;
  }
  std::printf("[ kill     ] %s: %d moments, %d kills (%d came after the end), run time %.0f ms, seed %llu\n",
              c.name.c_str(), moments, landed, missed, window * 1000, static_cast<unsigned long long>(seed));
}

}  // namespace nlm::testing
