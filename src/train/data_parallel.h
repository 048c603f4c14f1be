// The ranks of a data-parallel run, shared by `train`, `sft`, `dpo` and `distill` so that each
// command only builds its model and data: the launch read from the environment, this rank's
// device and backend, the communicator, and the rules every command follows (rank 0 alone checks
// and clears the run directory; the other ranks' info lines are silenced; an error on one rank
// ends them all instead of leaving the others waiting in a collective).
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/comm.h"
#include "core/error.h"
#include "train/distributed/device_comm.h"
#include "train/distributed/launch.h"
#include "train/loop.h"

namespace nlm::tensor {
class Backend;
}

namespace nlm::train {

class Ranks {
 public:
  // Connects this process to the others of `launch` on `device` ("cuda" becomes cuda:LOCAL_RANK
  // with several ranks); `command` names errors. With one rank nothing is connected.
  Ranks(const dist::LaunchInfo& launch, const std::string& device, const std::string& command);
  ~Ranks();
  Ranks(const Ranks&) = delete;
  Ranks& operator=(const Ranks&) = delete;

  const dist::LaunchInfo& launch() const { return launch_; }
  const std::string& device() const { return device_; }
  tensor::Backend& backend() const { return *backend_; }
  dist::DeviceComm& comm() const { return *comm_; }
  int rank() const { return comm_->rank(); }
  int size() const { return comm_->size(); }
  bool lead() const { return rank() == 0; }

  // Before anything is written: `loop` runs on these ranks (a usage error unless its grad_accum
  // is a multiple of the rank count), rank 0 checks (with force, clears) the run directory and
  // every rank waits for it.
  void attach(LoopOptions& loop) const;
  // Host figures summed over the ranks, in place (the identity with one).
  void sum(std::vector<double>& values) const;
  // Every rank agrees: true when `flag` is true on all of them.
  bool all(bool flag) const;

 private:
  dist::LaunchInfo launch_;
  std::string device_;
  tensor::Backend* backend_ = nullptr;
  std::unique_ptr<dist::DeviceComm> comm_;
  bool was_quiet_ = false;
};

// Runs fn(ranks) on this process's rank of the launch found in the environment. With several
// ranks, an nlm::Error on one rank (other than Interrupted, which every rank throws after the
// same step) ends every rank with its exit code.
template <class Fn>
auto run_data_parallel(const std::string& device, const std::string& command, Fn&& fn)
    -> decltype(fn(std::declval<Ranks&>())) {
  const dist::LaunchInfo launch = dist::detect_launch();
  if (!launch.distributed()) {
    Ranks ranks(launch, device, command);
    return fn(ranks);
  }
  try {
    Ranks ranks(launch, device, command);
    return fn(ranks);
  } catch (const Interrupted&) {
    throw;
  } catch (const Error& e) {
    if (Comm::world().size() > 1) Comm::world().abort_on(e);
    throw;
  }
}

}  // namespace nlm::train
