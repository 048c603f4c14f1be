// Data-parallel bootstrap without starting processes: what each launcher's environment gives
// (mpirun, PMI, srun, torchrun-style), which errors a broken environment gives, the Slurm node
// list's first host, and the TCP rendezvous between threads on localhost (payload delivery,
// early peers, and both sides' timeouts).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "train/distributed/launch.h"
#include "train/distributed/rendezvous.h"

namespace {

using namespace nlm::train::dist;

std::string error_of(const Environment& env) {
  try {
    parse_launch(env);
  } catch (const nlm::Error& e) {
    EXPECT_EQ(e.kind(), nlm::ErrorKind::Usage) << e.what();
    return e.what();
  }
  return "";
}

TEST(Launch, NoLauncherIsOneProcess) {
  LaunchInfo i = parse_launch({{"HOME", "/root"}, {"MASTER_ADDR", "leftover"}});
  EXPECT_FALSE(i.distributed());
  EXPECT_EQ(i.rank, 0);
  EXPECT_EQ(i.world_size, 1);
  EXPECT_EQ(i.launcher, "single");
}

TEST(Launch, Mpirun) {
  LaunchInfo i = parse_launch({{"OMPI_COMM_WORLD_RANK", "3"},
                               {"OMPI_COMM_WORLD_SIZE", "8"},
                               {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                               // mpirun wins over variables another launcher left behind
                               {"RANK", "0"},
                               {"WORLD_SIZE", "2"}});
  EXPECT_EQ(i.launcher, "mpirun");
  EXPECT_EQ(i.rank, 3);
  EXPECT_EQ(i.world_size, 8);
  EXPECT_EQ(i.local_rank, 1);
  EXPECT_TRUE(i.distributed());
  EXPECT_EQ(i.describe(), "rank 3 of 8 (local 1, from mpirun)");
  LaunchInfo p = parse_launch({{"PMI_RANK", "1"}, {"PMI_SIZE", "2"}, {"MPI_LOCALRANKID", "1"}});
  EXPECT_EQ(p.launcher, "pmi");
  EXPECT_EQ(p.rank, 1);
  EXPECT_EQ(p.local_rank, 1);
}

TEST(Launch, SlurmTakesTheMasterFromTheNodeList) {
  LaunchInfo i = parse_launch({{"SLURM_PROCID", "5"},
                               {"SLURM_NTASKS", "16"},
                               {"SLURM_STEP_NUM_TASKS", "8"},
                               {"SLURM_LOCALID", "1"},
                               {"SLURM_JOB_NODELIST", "gpu[07-09,12],login1"}});
  EXPECT_EQ(i.launcher, "slurm");
  EXPECT_EQ(i.rank, 5);
  EXPECT_EQ(i.world_size, 8);  // the step's tasks, not the allocation's
  EXPECT_EQ(i.local_rank, 1);
  EXPECT_EQ(i.master_addr, "gpu07");
  EXPECT_EQ(i.master_port, 29500);
  // MASTER_ADDR and MASTER_PORT, when set, win.
  LaunchInfo j = parse_launch({{"SLURM_PROCID", "0"},
                               {"SLURM_NTASKS", "2"},
                               {"SLURM_JOB_NODELIST", "a1,a2"},
                               {"MASTER_ADDR", "10.0.0.5"},
                               {"MASTER_PORT", "6000"}});
  EXPECT_EQ(j.master_addr, "10.0.0.5");
  EXPECT_EQ(j.master_port, 6000);
  EXPECT_EQ(j.local_rank, 0);
}

TEST(Launch, SlurmNodeLists) {
  EXPECT_EQ(first_slurm_host("node1"), "node1");
  EXPECT_EQ(first_slurm_host("a1,a2"), "a1");
  EXPECT_EQ(first_slurm_host("gpu[03-05,9],cpu1"), "gpu03");
  EXPECT_EQ(first_slurm_host("rack[2,4]-n[1-3]"), "rack2-n[1-3]");
  EXPECT_EQ(first_slurm_host("x[010-012]"), "x010");
  for (std::string bad : {"", ",a", "gpu[]", "gpu[a-b]"}) EXPECT_THROW(first_slurm_host(bad), nlm::Error) << bad;
}

TEST(Launch, TorchrunStyle) {
  LaunchInfo i = parse_launch({{"RANK", "1"},
                               {"WORLD_SIZE", "4"},
                               {"LOCAL_RANK", "1"},
                               {"MASTER_ADDR", "127.0.0.1"},
                               {"MASTER_PORT", "29511"}});
  EXPECT_EQ(i.launcher, "env");
  EXPECT_EQ(i.rank, 1);
  EXPECT_EQ(i.world_size, 4);
  EXPECT_EQ(i.local_rank, 1);
  EXPECT_EQ(i.master_addr, "127.0.0.1");
  EXPECT_EQ(i.master_port, 29511);
  // Without LOCAL_RANK the ranks are taken to share one node.
  EXPECT_EQ(parse_launch({{"RANK", "2"}, {"WORLD_SIZE", "4"}}).local_rank, 2);
}

TEST(Launch, BrokenEnvironmentsAreClearErrors) {
  EXPECT_NE(error_of({{"RANK", "1"}}).find("RANK is set without WORLD_SIZE"), std::string::npos);
  EXPECT_NE(error_of({{"WORLD_SIZE", "2"}}).find("WORLD_SIZE is set without RANK"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}}).find("RANK=2 is outside 0..1"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "-1"}, {"WORLD_SIZE", "2"}}).find("outside"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "one"}, {"WORLD_SIZE", "2"}}).find("RANK=one is not an integer"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}, {"WORLD_SIZE", "0"}}).find("at least 1"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}).find("MASTER_PORT"),
            std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "-3"}}).find("negative"), std::string::npos);
  EXPECT_NE(error_of({{"LOCAL_RANK", "0"}}).find("without RANK"), std::string::npos);
  EXPECT_NE(error_of({{"OMPI_COMM_WORLD_RANK", "4"}, {"OMPI_COMM_WORLD_SIZE", "4"}}).find("outside"),
            std::string::npos);
  EXPECT_NE(error_of({{"SLURM_PROCID", "0"}}).find("SLURM_PROCID is set without SLURM_NTASKS"), std::string::npos);
}

TEST(Rendezvous, RankZeroHandsTheIdToEveryPeer) {
  RendezvousServer server(0);  // any free port
  ASSERT_GT(server.port(), 0);
  const std::string id(128, '\x07');
  std::string payload = id + std::string("\x00\xff", 2) + "tail";
  const int peers = 3;
  std::vector<std::string> got(peers + 1);
  std::vector<std::thread> threads;
  for (int r = 1; r <= peers; ++r)
    threads.emplace_back([&, r] { got[r] = rendezvous_fetch("127.0.0.1", server.port(), r, 10); });
  server.serve(payload, peers, 10);
  for (auto& t : threads) t.join();
  for (int r = 1; r <= peers; ++r) EXPECT_EQ(got[r], payload) << "rank " << r;
}

TEST(Rendezvous, PeersThatStartFirstWaitForRankZero) {
  // Find a free port, then let the peer try it before anyone listens.
  int port = 0;
  {
    RendezvousServer probe(0);
    port = probe.port();
  }
  std::string got;
  std::thread peer([&] { got = rendezvous_fetch("localhost", port, 1, 10); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RendezvousServer server(port);
  server.serve("nccl-id", 1, 10);
  peer.join();
  EXPECT_EQ(got, "nccl-id");
}

TEST(Rendezvous, TimeoutsNameWhatWasAwaited) {
  int port = 0;
  {
    RendezvousServer probe(0);
    port = probe.port();
  }
  auto t0 = std::chrono::steady_clock::now();
  try {
    rendezvous_fetch("127.0.0.1", port, 2, 0.5);
    FAIL() << "no server, yet the fetch returned";
  } catch (const nlm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("rank 2 could not reach the rendezvous at 127.0.0.1:" + std::to_string(port)),
              std::string::npos)
        << e.what();
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5);
  RendezvousServer server(0);
  try {
    server.serve("id", 2, 0.3);
    FAIL() << "no peer came, yet serve returned";
  } catch (const nlm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("2 of 2 ranks never connected"), std::string::npos) << e.what();
  }
  // A second server on a port in use is a usage error naming the port.
  RendezvousServer busy(0);
  EXPECT_THROW(RendezvousServer again(busy.port()), nlm::Error);
  EXPECT_THROW(rendezvous_fetch("no-such-host.invalid", 1, 1, 0.5), nlm::Error);
}

}  // namespace
