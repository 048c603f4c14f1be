// `mpirun -np 2|3|4 nativelm dedup` gives the same output bytes as one process, with spills and
// with the Jaccard check, and with the byte exchanges forced into many small rounds. Skipped only when mpirun is absent.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/json_escape.h"
#include "curate/dedup/synthetic.h"
#include "output_util.h"
#include "test_util.h"

namespace nlm::dedup {
namespace {


TEST(DedupMpi, RanksGiveTheSameBytesAsOneProcess) {
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not installed";
  nlm::testing::TempDir dir;
  SyntheticOptions so;
  so.bases = 400;
  so.words = 60;
  auto docs = make_synthetic_corpus(so);
  // 5 files of uneven size, an exact copy across files, and a malformed line in one.
  for (size_t f = 0; f < 5; ++f) {
    std::string s;
    for (size_t i = f * f * 30; i < std::min(docs.size(), (f + 1) * (f + 1) * 30 + (f == 4 ? docs.size() : 0)); ++i)
      s += "{\"id\":" + json_quote(docs[i].id) + ",\"text\":" + json_quote(docs[i].text) + ",\"q\":" + std::to_string(i % 7) + "}\n";
    if (f == 2) s += "{\"id\":\"copy\",\"text\":" + json_quote(docs[3].text) + "}\nnot json\n";
    nlm::testing::write_text(dir.file("in/" + std::to_string(f) + ".jsonl"), s);
  }
  const std::string mpirun = "mpirun --allow-run-as-root --oversubscribe --mca pml ob1 --mca btl self,vader ";
  for (std::string flags : {std::string(" --memory 64K --keep field:q"), std::string(" --jaccard-check --keep longest")}) {
    std::string args = "-q dedup " + dir.file("in") + " --extension .jsonl --max-docs 100" + flags + " -o ";
    auto one = nlm::testing::run_nativelm(args + dir.file("one"), dir.path());
    ASSERT_EQ(one.exit_code, 0) << one.err;
    std::string reference = testing::concat_shards(dir.file("one"));
    ASSERT_FALSE(reference.empty());
    // np 4 runs with 64-byte MPI chunks: every byte exchange (alltoallv, gatherv) goes in many
    // rounds of 16 bytes per rank pair, as one over 2 GiB would in rounds of 256 MiB.
    for (int np : {2, 3, 4}) {
      std::string out = dir.file("np" + std::to_string(np));
      std::string env = np == 4 ? "NATIVELM_MPI_CHUNK_BYTES=64 " : "";
      std::string cmd = env + mpirun + "-np " + std::to_string(np) + " " + NATIVELM_BIN + " " + args + out + " >" +
                        dir.file("mpi.log") + " 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << nlm::testing::read_text(dir.file("mpi.log"));
      EXPECT_EQ(testing::concat_shards(out), reference) << np << " ranks," << flags;
      EXPECT_TRUE(std::filesystem::exists(out + "/manifest.json"));
      EXPECT_FALSE(std::filesystem::exists(out + "/.dedup-spill"));
      auto report = nlm::testing::read_text(out + "/report.json");
      EXPECT_NE(report.find("\"skipped_records\": 1"), std::string::npos) << report;
      EXPECT_NE(report.find("\"ranks\": " + std::to_string(np)), std::string::npos) << report;
      std::filesystem::remove_all(out);
    }
    std::filesystem::remove_all(dir.file("one"));
  }
}

}  // namespace
}  // namespace nlm::dedup
