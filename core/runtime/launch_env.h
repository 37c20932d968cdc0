// LaunchEnv: where this process sits in a data-parallel group, as the launchers that start it say.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace preflab::core {

// One process of a group of `worldSize` on possibly several machines. Rank 0 hosts the
// rendezvous (a TCP store at masterAddr:masterPort) and alone writes the run folder.
struct LaunchEnv {
  int rank = 0;
  int worldSize = 1;
  int localRank = 0;
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  std::string launcher; // "torchrun", "slurm", "openmpi" (empty: one process)
  // PREFLAB_DIST_TIMEOUT: seconds a collective may wait for a silent peer. PREFLAB_DIST_WAIT_TIMEOUT:
  // seconds the ranks wait for the rendezvous and for rank 0's preparation.
  int collectiveTimeoutSeconds = 300;
  int waitTimeoutSeconds = 3600;

  bool distributed() const { return worldSize > 1; }
};

// Reads the variables torchrun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), Slurm
// (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; the master from MASTER_ADDR or
// SLURM_LAUNCH_NODE_IPADDR) and Open MPI's mpirun (OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK; the
// master from MASTER_ADDR) set, in that order of precedence: torchrun inside an srun allocation
// sets its own. `lookup` returns a variable's value (std::getenv by default). Throws
// std::invalid_argument naming the variable when one is malformed (not a number, a rank outside
// the world, a port outside 1..65535) or when a launcher's variables come without their
// partner (RANK without WORLD_SIZE); with none set, one process. A launched process also reads
// PREFLAB_DIST_TIMEOUT and PREFLAB_DIST_WAIT_TIMEOUT (whole seconds, at least 1).
LaunchEnv
launchEnvFromEnvironment(const std::function<std::optional<std::string>(const std::string &)> &lookup = {});

// "rank 1 of 2 (torchrun, rendezvous 127.0.0.1:29500)", for messages.
std::string describe(const LaunchEnv &env);

} // namespace preflab::core
