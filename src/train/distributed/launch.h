// Where this process sits in a data-parallel run, read from what the launcher put in the
// environment: mpirun (OpenMPI's OMPI_COMM_WORLD_*, or PMI_RANK/PMI_SIZE of MPICH-style
// launchers), Slurm's srun (SLURM_PROCID, SLURM_STEP_NUM_TASKS or SLURM_NTASKS, SLURM_LOCALID,
// and SLURM_JOB_NODELIST's first host as the master when MASTER_ADDR is unset), or torchrun-style
// variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT). Parsing is a pure function
// of an environment map so every launcher is unit-tested without starting processes.
#pragma once
#include <map>
#include <string>

namespace nlm::train::dist {

struct LaunchInfo {
  std::string launcher = "single";  // "single", "mpirun", "pmi", "slurm" or "env"
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;         // picks the GPU: cuda:local_rank
  std::string master_addr;    // the TCP rendezvous host (rank 0's), "" when none is known
  int master_port = 29500;    // MASTER_PORT, or 29500 as torchrun uses
  bool distributed() const { return world_size > 1; }
  // "rank 1 of 4 (local 1, from srun)"
  std::string describe() const;
};

using Environment = std::map<std::string, std::string>;

// The launch the variables describe. The first launcher found wins, in the order mpirun, PMI,
// Slurm, torchrun-style; an explicit MASTER_ADDR/MASTER_PORT applies to every launcher. Usage
// errors (naming the variables) for a rank without a world size or the reverse, a non-integer,
// a rank outside [0, world size), a local rank below 0 or a port outside 1..65535.
LaunchInfo parse_launch(const Environment& env);
// parse_launch over this process's environment.
LaunchInfo detect_launch();

// The first host name of a Slurm node list: "gpu[03-05,9],cpu1" → "gpu03", "a1,a2" → "a1".
// A usage error for an empty or malformed list.
std::string first_slurm_host(const std::string& nodelist);

}  // namespace nlm::train::dist
