// A one-shot TCP rendezvous: rank 0 hands a small blob (NCCL's unique id) to every other rank
// over MASTER_ADDR:MASTER_PORT when no MPI is up to broadcast it (a torchrun-style or plain srun
// launch). Plain POSIX sockets; every wait has a deadline and ends in an error that names the
// address, what was awaited and what to check.
#pragma once
#include <string>

namespace nlm::train::dist {

// Rank 0's side: listens on `port` (all interfaces; 0 = any free port, see port()) from
// construction, so peers that connect early wait in the backlog.
class RendezvousServer {
 public:
  explicit RendezvousServer(int port);
  ~RendezvousServer();
  RendezvousServer(const RendezvousServer&) = delete;
  RendezvousServer& operator=(const RendezvousServer&) = delete;
  int port() const { return port_; }
  // Sends `payload` to `peers` connections (each says which rank it is; a rank that connects
  // twice or is outside 1..peers is refused). A runtime error when not all arrived in time.
  void serve(const std::string& payload, int peers, double timeout_s);

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A peer's side: connects to host:port (retrying until the server is up) as `rank` and returns
// the payload. A runtime error after timeout_s.
std::string rendezvous_fetch(const std::string& host, int port, int rank, double timeout_s);

}  // namespace nlm::train::dist
