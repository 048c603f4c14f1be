// A dedup run killed (SIGKILL) part-way through its first pass resumes: the rerun takes the
// finished files from their checkpoints, re-reads only the rest, and writes the same bytes as an
// uninterrupted run.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/json_escape.h"
#include "curate/dedup/synthetic.h"
#include "test_util.h"

namespace nlm::dedup {
namespace {

size_t count_markers(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator(); ++it)
    n += it->path().extension() == ".done";
  return n;
}

TEST(DedupResume, KilledRunResumesFromCheckpoints) {
  nlm::testing::TempDir dir;
  SyntheticOptions so;
  so.bases = 24000;
  so.words = 60;
  auto docs = make_synthetic_corpus(so);
  const size_t files = 40;
  for (size_t f = 0; f < files; ++f) {
    std::string s;
    for (size_t i = f * docs.size() / files; i < (f + 1) * docs.size() / files; ++i)
      s += "{\"id\":" + json_quote(docs[i].id) + ",\"text\":" + json_quote(docs[i].text) + "}\n";
    char name[32];
    std::snprintf(name, sizeof name, "in/%03zu.jsonl", f);
    nlm::testing::write_text(dir.file(name), s);
  }
  const std::string out = dir.file("out");
  pid_t pid = fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    dup2(null, 2);
    execl(NATIVELM_BIN, NATIVELM_BIN, "-q", "--threads", "1", "dedup", dir.file("in").c_str(), "-o", out.c_str(),
          "--extension", ".jsonl", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it as soon as a few files are checkpointed.
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 60000 && count_markers(out + "/.dedup-work") < 3; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  ASSERT_FALSE(exited) << "the run finished before it could be killed";
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  size_t done = count_markers(out + "/.dedup-work");
  ASSERT_GE(done, 3u);
  ASSERT_LT(done, files);
  EXPECT_FALSE(std::filesystem::exists(out + "/manifest.json"));

  auto resumed = nlm::testing::run_nativelm("-q dedup " + dir.file("in") + " -o " + out + " --extension .jsonl", dir.path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  std::string report = nlm::testing::read_text(out + "/report.json");
  EXPECT_NE(report.find("\"resumed_files\": " + std::to_string(done)), std::string::npos) << report;
  EXPECT_FALSE(std::filesystem::exists(out + "/.dedup-work"));

  auto clean = nlm::testing::run_nativelm("-q dedup " + dir.file("in") + " -o " + dir.file("clean") + " --extension .jsonl",
                                          dir.path());
  ASSERT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_NE(nlm::testing::read_text(dir.file("clean/report.json")).find("\"resumed_files\": 0"), std::string::npos);
  EXPECT_EQ(nlm::testing::read_text(out + "/part-00000.jsonl"), nlm::testing::read_text(dir.file("clean/part-00000.jsonl")));
}

}  // namespace
}  // namespace nlm::dedup
