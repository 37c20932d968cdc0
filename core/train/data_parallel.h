// DataParallelGroup: the processes of one data-parallel run, joined over PyTorch's c10d (Gloo).
#pragma once

#include "core/runtime/launch_env.h"

#include <torch/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace preflab::core {

// Every rank trains the same model on its share of each global batch; the loop sums the shares'
// gradients and metrics here before the optimizer step, so all ranks apply the same update.
// Rank 0 alone writes the run folder and the caches. One thread per process calls it; every rank
// must make the same calls in the same order (a collective waits for all of them).
// Failures throw std::runtime_error whose message starts "data parallel (rank R of N): ": the
// rendezvous not reached within `waitTimeout`, a collective not completed within
// `collectiveTimeout` (a process that stopped answering), or a process that left (its
// connections closed: reported at once).
class DataParallelGroup {
public:
  // Joins the group `env` describes (rank 0 hosts the TCP store at masterAddr:masterPort).
  DataParallelGroup(const LaunchEnv &env, std::chrono::seconds collectiveTimeout,
                    std::chrono::seconds waitTimeout);
  ~DataParallelGroup();
  DataParallelGroup(const DataParallelGroup &) = delete;
  DataParallelGroup &operator=(const DataParallelGroup &) = delete;

  const LaunchEnv &env() const { return m_env; }
  int rank() const { return m_env.rank; }
  int worldSize() const { return m_env.worldSize; }
  bool writes() const { return m_env.rank == 0; } // rank 0 writes the run folder

  // Sums `flat` (a 1-D CPU tensor, the same size and dtype on every rank) over the ranks in place.
  void sum(torch::Tensor &flat);

  // Rank 0 says that it has prepared what the others then read (task data, caches), or why it
  // could not (`error` non-empty). The others wait for it, up to waitTimeout; a failure of rank
  // 0 is rethrown on them with its message.
  void announce(const std::string &stage, const std::string &error = {});
  void awaitAnnouncement(const std::string &stage);
  bool announced(const std::string &stage) const;

private:
  [[noreturn]] void fail(const std::string &what, const std::exception &e) const;

  struct Impl;
  LaunchEnv m_env;
  std::chrono::seconds m_collectiveTimeout, m_waitTimeout;
  std::unique_ptr<Impl> m_impl;
};

// Rank 0, once its step has joined the group: `say`s how the run is split ("data parallel:
// <launcher>, <how> N processes") and tells the other ranks that the task data and caches it
// prepared can now be read. The other ranks do nothing here (they waited for it in runInFolder).
void announcePrepared(DataParallelGroup &group, const std::string &how,
                      const std::function<void(const std::string &)> &say);

// The device of this rank: with several GPUs per machine, rank `localRank` takes GPU localRank
// (modulo the count) when the config says just "cuda", and makes it this thread's current one.
// Other devices (and no group) come back unchanged.
c10::Device rankDevice(const c10::Device &device, const DataParallelGroup *group);

// The loop's part of a data-parallel step: sums `params`' gradients (an unused parameter's
// undefined gradient counts as zeros and gets the sum) and the step's metrics (each already
// weighted by the rank's share) over the ranks, in one collective per dtype. Throws when the
// ranks' metric names differ.
void sumStepAcrossRanks(DataParallelGroup &group, const std::vector<torch::Tensor> &params,
                        std::map<std::string, torch::Tensor> &metrics);

} // namespace preflab::core
