// The TCP rendezvous (see rendezvous.h). Wire format, both ways little-endian: the peer sends
// "NLMR" + its rank (u32); the server answers "NLMR" + payload length (u32) + payload.
#include "train/distributed/rendezvous.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "core/error.h"

namespace nlm::train::dist {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kMagic[4] = {'N', 'L', 'M', 'R'};
constexpr uint32_t kMaxPayload = 1 << 20;

int ms_left(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(ms);
}

// Waits for `events` on fd until the deadline; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, ms_left(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

// Whole-buffer send/recv with a deadline; false on timeout, peer close or error.
bool send_all(int fd, const void* data, size_t n, Clock::time_point deadline) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    if (!wait_for(fd, POLLOUT, deadline)) return false;
    ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

bool recv_all(int fd, void* data, size_t n, Clock::time_point deadline) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    if (!wait_for(fd, POLLIN, deadline)) return false;
    ssize_t k = ::recv(fd, p, n, 0);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

std::string u32_bytes(uint32_t v) {
  char b[4] = {char(v & 0xff), char((v >> 8) & 0xff), char((v >> 16) & 0xff), char((v >> 24) & 0xff)};
  return std::string(b, 4);
}
uint32_t u32_of(const unsigned char* b) { return b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24); }

std::string where(const std::string& host, int port) { return host + ":" + std::to_string(port); }

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

RendezvousServer::RendezvousServer(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) runtime_error(std::string("cannot open a socket: ") + std::strerror(errno), "rendezvous");
  int one = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 1024) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    usage_error("rank 0 cannot listen on port " + std::to_string(port) + ": " + why, "rendezvous",
                "choose a free MASTER_PORT");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

RendezvousServer::~RendezvousServer() {
  if (fd_ >= 0) ::close(fd_);
}

void RendezvousServer::serve(const std::string& payload, int peers, double timeout_s) {
  if (payload.size() > kMaxPayload) runtime_error("rendezvous payload too large", "rendezvous");
  const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  const std::string reply = std::string(kMagic, 4) + u32_bytes(static_cast<uint32_t>(payload.size())) + payload;
  std::set<uint32_t> served;
  while (static_cast<int>(served.size()) < peers) {
    if (!wait_for(fd_, POLLIN, deadline))
      runtime_error("rendezvous timed out after " + std::to_string(static_cast<int>(timeout_s)) + " s on port " +
                        std::to_string(port_) + ": " + std::to_string(peers - static_cast<int>(served.size())) +
                        " of " + std::to_string(peers) + " ranks never connected",
                    "rendezvous", "check that every rank started, that MASTER_ADDR names rank 0's host and that the port is reachable");
    Fd c{::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)};
    if (c.fd < 0) continue;
    // A peer that connects and says nothing must not hold up the others for long.
    auto hello_deadline = std::min(deadline, Clock::now() + std::chrono::seconds(10));
    unsigned char hello[8];
    if (!recv_all(c.fd, hello, 8, hello_deadline) || std::memcmp(hello, kMagic, 4) != 0) continue;
    uint32_t rank = u32_of(hello + 4);
    if (rank < 1 || rank > static_cast<uint32_t>(peers) || served.count(rank)) continue;
    if (send_all(c.fd, reply.data(), reply.size(), hello_deadline)) served.insert(rank);
  }
}

std::string rendezvous_fetch(const std::string& host, int port, int rank, double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0 || !res)
    usage_error("cannot resolve MASTER_ADDR " + host + ": " + gai_strerror(rc), "rendezvous",
                "set MASTER_ADDR to rank 0's host name or IP address");
  sockaddr_in addr;
  std::memcpy(&addr, res->ai_addr, sizeof addr);
  ::freeaddrinfo(res);
  std::string last = "no answer";
  while (Clock::now() < deadline) {
    Fd s{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
    if (s.fd < 0) runtime_error(std::string("cannot open a socket: ") + std::strerror(errno), "rendezvous");
    int c = ::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (c != 0 && errno == EINPROGRESS) {
      int err = ETIMEDOUT;
      if (wait_for(s.fd, POLLOUT, deadline)) {
        socklen_t len = sizeof err;
        ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
      c = err == 0 ? 0 : -1;
      errno = err;
    }
    if (c != 0) {
      last = std::strerror(errno);
      // Rank 0 may not be listening yet: try again shortly.
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100, ms_left(deadline))));
      continue;
    }
    const std::string hello = std::string(kMagic, 4) + u32_bytes(static_cast<uint32_t>(rank));
    unsigned char head[8];
    if (!send_all(s.fd, hello.data(), hello.size(), deadline) || !recv_all(s.fd, head, 8, deadline)) {
      last = "rank 0 closed the connection without an answer";
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100, ms_left(deadline))));
      continue;
    }
    uint32_t n = u32_of(head + 4);
    if (std::memcmp(head, kMagic, 4) != 0 || n > kMaxPayload)
      runtime_error("the rendezvous at " + where(host, port) + " answered with something else", "rendezvous",
                    "check that MASTER_PORT is not used by another program");
    std::string payload(n, '\0');
    if (!recv_all(s.fd, payload.data(), n, deadline)) break;
    return payload;
  }
  runtime_error("rank " + std::to_string(rank) + " could not reach the rendezvous at " + where(host, port) +
                    " within " + std::to_string(static_cast<int>(timeout_s)) + " s (" + last + ")",
                "rendezvous", "check that rank 0 started, MASTER_ADDR and MASTER_PORT, and firewalls");
}

}  // namespace nlm::train::dist
