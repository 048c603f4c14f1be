// Atomic publication: nothing appears before commit, an abandoned writer leaves nothing, a
// writer killed (SIGKILL) in the middle of rewriting a file leaves the earlier file whole, and the
// temp it leaves is swept later, while the temps of live writers stay.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/compressed_stream.h"
#include "test_util.h"

using namespace nlm;
using nlm::testing::TempDir;
namespace fs = std::filesystem;

namespace {

size_t count_files(const std::string& dir) {
  size_t n = 0;
  for (auto& e : fs::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

TEST(AtomicFile, NothingVisibleUntilCommit) {
  TempDir dir;
  std::string path = dir.file("out.txt");
  {
    AtomicFile f(path);
    f.write("hello");
    EXPECT_FALSE(fs::exists(path));
    f.commit();
  }
  EXPECT_EQ(nlm::testing::read_text(path), "hello");
}

TEST(AtomicFile, AbandonedWriterLeavesNoFile) {
  TempDir dir;
  {
    AtomicFile f(dir.file("out.txt"));
    f.write(std::string(3 << 20, 'x'));
  }
  EXPECT_FALSE(fs::exists(dir.file("out.txt")));
  EXPECT_EQ(count_files(dir.path()), 0u);
}

TEST(AtomicFile, CreatesParentDirectories) {
  TempDir dir;
  write_file_atomic(dir.file("a/b/c.txt"), "x");
  EXPECT_EQ(nlm::testing::read_text(dir.file("a/b/c.txt")), "x");
}

TEST(AtomicFile, KilledWriterLeavesEarlierOutputWhole) {
  TempDir dir;
  std::string path = dir.file("shard.jsonl.zst");
  std::string old_content;
  {
    auto out = OutputStream::create(path);
    for (int i = 0; i < 1000; ++i) out->write("{\"text\":\"earlier output\"}\n");
    out->commit();
    old_content = nlm::testing::read_text(path);
  }
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    auto out = OutputStream::create(path);
    std::string chunk(1 << 16, 'n');
    out->write(chunk);
    if (write(pipefd[1], "x", 1) != 1) _exit(3);  // tell the parent we are mid-write
    for (;;) out->write(chunk);                   // never commits
  }
  close(pipefd[1]);
  char c;
  ASSERT_EQ(read(pipefd[0], &c, 1), 1);
  usleep(20000);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(pipefd[0]);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(nlm::testing::read_text(path), old_content);
  // The only other file is the hidden temp of the killed writer; it never took the final name.
  for (auto& e : fs::directory_iterator(dir.path())) {
    if (e.path() == path) continue;
    EXPECT_EQ(e.path().filename().string().rfind(".shard.jsonl.zst.tmp.", 0), 0u) << e.path();
  }
  // A rerun's publish sweeps it.
  EXPECT_EQ(remove_stale_temps(dir.path()), 1u);
  EXPECT_EQ(count_files(dir.path()), 1u);
  EXPECT_EQ(nlm::testing::read_text(path), old_content);
}

TEST(AtomicFile, SweepsOnlyTempsOfWritersThatAreGone) {
  TempDir dir;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    AtomicFile f(dir.file("dead.txt"));
    f.write("never committed");
    f.flush();
    _exit(0);  // no destructor: the temp stays, as after SIGKILL
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  AtomicFile mine(dir.file("mine.txt"));  // this process's, still being written
  mine.write("in flight");
  nlm::testing::write_text(dir.file(".notes.tmp"), "not a temp of ours");
  nlm::testing::write_text(dir.file("x.tmp.1.2"), "not hidden, so not ours either");
  nlm::testing::write_text(dir.file(".y.tmp.1x.2"), "no pid");
  ASSERT_EQ(count_files(dir.path()), 5u);
  EXPECT_EQ(remove_stale_temps(dir.path()), 1u);
  EXPECT_EQ(count_files(dir.path()), 4u);
  EXPECT_TRUE(fs::exists(mine.temp_path()));
  EXPECT_TRUE(fs::exists(dir.file(".notes.tmp")));
  for (auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename().string().find(".dead.txt.tmp."), std::string::npos) << e.path();
  mine.commit();
  EXPECT_EQ(nlm::testing::read_text(dir.file("mine.txt")), "in flight");
  EXPECT_EQ(remove_stale_temps(dir.file("no-such-folder")), 0u);
}

}  // namespace
