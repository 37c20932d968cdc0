// launchEnvFromEnvironment: torchrun's, Slurm's and Open MPI's variables to one LaunchEnv.
#include "core/runtime/launch_env.h"

#include <cstdlib>
#include <stdexcept>

namespace preflab::core {

namespace {

using Lookup = std::function<std::optional<std::string>(const std::string &)>;

std::optional<std::string> fromProcess(const std::string &name) {
  const char *v = std::getenv(name.c_str());
  if (!v || !*v)
    return std::nullopt;
  return std::string(v);
}

int integer(const Lookup &get, const std::string &name, int low, int high) {
  const auto text = get(name).value_or("");
  std::size_t used = 0;
  long value = 0;
  try {
    value = std::stol(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (text.empty() || used != text.size() || value < low || value > high)
    throw std::invalid_argument("environment variable " + name + "='" + text +
                                "': expected a whole number from " + std::to_string(low) + " to " +
                                std::to_string(high));
  return int(value);
}

// Rank and size of one launcher's pair of variables; both present or neither.
bool readPair(const Lookup &get, const std::string &rankVar, const std::string &sizeVar, LaunchEnv &env) {
  const bool hasRank = get(rankVar).has_value(), hasSize = get(sizeVar).has_value();
  if (!hasRank && !hasSize)
    return false;
  if (hasRank != hasSize)
    throw std::invalid_argument("environment variable " + (hasRank ? rankVar : sizeVar) + " is set without " +
                                (hasRank ? sizeVar : rankVar) + ": a launcher sets both");
  env.worldSize = integer(get, sizeVar, 1, 1 << 20);
  env.rank = integer(get, rankVar, 0, env.worldSize - 1);
  return true;
}

} // namespace

LaunchEnv launchEnvFromEnvironment(const Lookup &lookup) {
  const Lookup get = lookup ? lookup : Lookup(fromProcess);
  LaunchEnv env;
  std::string localVar;
  if (readPair(get, "RANK", "WORLD_SIZE", env)) {
    env.launcher = "torchrun";
    localVar = "LOCAL_RANK";
  } else if (readPair(get, "SLURM_PROCID", "SLURM_NTASKS", env)) {
    env.launcher = "slurm";
    localVar = "SLURM_LOCALID";
  } else if (readPair(get, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", env)) {
    env.launcher = "openmpi";
    localVar = "OMPI_COMM_WORLD_LOCAL_RANK";
  } else {
    return env;
  }
  if (get(localVar))
    env.localRank = integer(get, localVar, 0, env.worldSize - 1);
  if (auto addr = get("MASTER_ADDR"))
    env.masterAddr = *addr;
  else if (auto node = get("SLURM_LAUNCH_NODE_IPADDR"); node && env.launcher == "slurm")
    env.masterAddr = *node;
  else if (env.worldSize > 1 && env.launcher != "torchrun")
    env.masterAddr = "127.0.0.1"; // one machine unless told otherwise
  else if (env.worldSize > 1)
    throw std::invalid_argument("environment variable MASTER_ADDR is not set: torchrun sets it with RANK and "
                                "WORLD_SIZE (the host of rank 0)");
  if (get("MASTER_PORT"))
    env.masterPort = integer(get, "MASTER_PORT", 1, 65535);
  if (get("PREFLAB_DIST_TIMEOUT"))
    env.collectiveTimeoutSeconds = integer(get, "PREFLAB_DIST_TIMEOUT", 1, 1 << 30);
  if (get("PREFLAB_DIST_WAIT_TIMEOUT"))
    env.waitTimeoutSeconds = integer(get, "PREFLAB_DIST_WAIT_TIMEOUT", 1, 1 << 30);
  return env;
}

std::string describe(const LaunchEnv &env) {
  if (!env.distributed())
    return "one process";
  return "rank " + std::to_string(env.rank) + " of " + std::to_string(env.worldSize) + " (" + env.launcher +
         ", rendezvous " + env.masterAddr + ":" + std::to_string(env.masterPort) + ")";
}

} // namespace preflab::core
