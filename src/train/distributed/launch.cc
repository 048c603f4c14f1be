// Launch detection (see launch.h). Each launcher's variables are read as a group so a partial
// group (RANK without WORLD_SIZE) is an error rather than a silent single-process run.
#include "train/distributed/launch.h"

#include <cerrno>
#include <cstdlib>
#include <unistd.h>

#include "core/error.h"

extern char** environ;

namespace nlm::train::dist {
namespace {

const char* kHint = "launch with mpirun -np N, srun, or set RANK, WORLD_SIZE (and MASTER_ADDR, MASTER_PORT)";

const std::string* get(const Environment& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() || it->second.empty() ? nullptr : &it->second;
}

int to_int(const std::string& value, const std::string& key) {
  errno = 0;
  char* end = nullptr;
  long v = std::strtol(value.c_str(), &end, 10);
  if (errno != 0 || end == value.c_str() || *end != '\0' || v < -1000000000L || v > 1000000000L)
    usage_error(key + "=" + value + " is not an integer", "launch", kHint);
  return static_cast<int>(v);
}

// Reads a rank/size pair: both or neither. Returns false when neither is set.
bool read_pair(const Environment& env, const std::string& rank_key, const std::string& size_key, LaunchInfo& info) {
  const std::string *r = get(env, rank_key), *s = get(env, size_key);
  if (!r && !s) return false;
  if (!r || !s)
    usage_error((r ? rank_key + " is set without " + size_key : size_key + " is set without " + rank_key), "launch",
                kHint);
  info.rank = to_int(*r, rank_key);
  info.world_size = to_int(*s, size_key);
  if (info.world_size < 1) usage_error(size_key + "=" + *s + " must be at least 1", "launch", kHint);
  if (info.rank < 0 || info.rank >= info.world_size)
    usage_error(rank_key + "=" + *r + " is outside 0.." + std::to_string(info.world_size - 1) + " (" + size_key + "=" +
                    *s + ")",
                "launch", kHint);
  return true;
}

void read_local(const Environment& env, const std::string& key, LaunchInfo& info) {
  if (const std::string* l = get(env, key)) {
    info.local_rank = to_int(*l, key);
    if (info.local_rank < 0) usage_error(key + "=" + *l + " is negative", "launch", kHint);
  }
}

}  // namespace

std::string LaunchInfo::describe() const {
  if (!distributed()) return "one process";
  return "rank " + std::to_string(rank) + " of " + std::to_string(world_size) + " (local " +
         std::to_string(local_rank) + ", from " + launcher + ")";
}

std::string first_slurm_host(const std::string& nodelist) {
  // The first entry ends at the first comma outside brackets.
  size_t depth = 0, end = 0;
  for (; end < nodelist.size(); ++end) {
    char c = nodelist[end];
    if (c == '[') ++depth;
    else if (c == ']') {
      if (depth == 0) break;
      --depth;
    } else if (c == ',' && depth == 0) {
      break;
    }
  }
  std::string first = nodelist.substr(0, end);
  size_t open = first.find('[');
  if (open == std::string::npos) {
    if (first.empty() || first.find(']') != std::string::npos)
      usage_error("SLURM_JOB_NODELIST='" + nodelist + "' names no host", "launch", "set MASTER_ADDR to rank 0's host");
    return first;
  }
  size_t close = first.find(']', open);
  std::string range = close == std::string::npos ? "" : first.substr(open + 1, close - open - 1);
  size_t stop = range.find_first_of(",-");
  std::string lead = range.substr(0, stop);
  if (lead.empty() || lead.find_first_not_of("0123456789") != std::string::npos)
    usage_error("SLURM_JOB_NODELIST='" + nodelist + "' is not a node list Slurm writes", "launch",
                "set MASTER_ADDR to rank 0's host");
  return first.substr(0, open) + lead + (close == std::string::npos ? "" : first.substr(close + 1));
}

LaunchInfo parse_launch(const Environment& env) {
  LaunchInfo info;
  if (read_pair(env, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", info)) {
    info.launcher = "mpirun";
    read_local(env, "OMPI_COMM_WORLD_LOCAL_RANK", info);
  } else if (read_pair(env, "PMI_RANK", "PMI_SIZE", info)) {
    info.launcher = "pmi";
    read_local(env, "MPI_LOCALRANKID", info);
    read_local(env, "PMI_LOCAL_RANK", info);
  } else if (get(env, "SLURM_PROCID") &&
             read_pair(env, "SLURM_PROCID", get(env, "SLURM_STEP_NUM_TASKS") ? "SLURM_STEP_NUM_TASKS" : "SLURM_NTASKS",
                       info)) {
    info.launcher = "slurm";
    read_local(env, "SLURM_LOCALID", info);
    const std::string* nodes = get(env, "SLURM_STEP_NODELIST");
    if (!nodes) nodes = get(env, "SLURM_JOB_NODELIST");
    if (nodes) info.master_addr = first_slurm_host(*nodes);
  } else if (read_pair(env, "RANK", "WORLD_SIZE", info)) {
    info.launcher = "env";
    // Without LOCAL_RANK every rank is taken to be on one node (torchrun always sets it).
    info.local_rank = info.rank;
    read_local(env, "LOCAL_RANK", info);
  } else {
    if (get(env, "LOCAL_RANK") || get(env, "MASTER_ADDR")) {
      // MASTER_ADDR alone is harmless (a leftover); LOCAL_RANK without RANK is a broken launch.
      if (get(env, "LOCAL_RANK")) usage_error("LOCAL_RANK is set without RANK and WORLD_SIZE", "launch", kHint);
    }
    return info;
  }
  if (const std::string* a = get(env, "MASTER_ADDR")) info.master_addr = *a;
  if (const std::string* p = get(env, "MASTER_PORT")) {
    info.master_port = to_int(*p, "MASTER_PORT");
    if (info.master_port < 1 || info.master_port > 65535)
      usage_error("MASTER_PORT=" + *p + " is outside 1..65535", "launch", kHint);
  }
  return info;
}

LaunchInfo detect_launch() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return parse_launch(env);
}

}  // namespace nlm::train::dist
