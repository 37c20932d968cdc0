// DataParallelGroup over c10d's TCPStore and ProcessGroupGloo; the loop's gradient and metric sums.
#if PREFLAB_HAVE_GLOO
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO // Debian's LibTorch (and PyTorch's wheels) export Gloo; its header wants this
#endif
#endif
#include "core/train/data_parallel.h"

#include "core/runtime/device_info.h"

#if PREFLAB_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#include <torch/torch.h>

#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace preflab::core {

#if PREFLAB_HAVE_GLOO

struct DataParallelGroup::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

namespace {

std::string firstLine(const std::string &text) {
  return text.substr(0, text.find('\n'));
}

std::string errorText(const std::exception &e) {
  if (const auto *c = dynamic_cast<const c10::Error *>(&e))
    return firstLine(c->what_without_backtrace());
  return firstLine(e.what());
}

bool loopback(const std::string &addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

const std::string kOk = "ok";

} // namespace

DataParallelGroup::DataParallelGroup(const LaunchEnv &env, std::chrono::seconds collectiveTimeout,
                                     std::chrono::seconds waitTimeout)
    : m_env(env), m_collectiveTimeout(collectiveTimeout), m_waitTimeout(waitTimeout),
      m_impl(std::make_unique<Impl>()) {
  try {
    c10d::TCPStoreOptions opts;
    opts.port = std::uint16_t(env.masterPort);
    opts.isServer = env.rank == 0;
    opts.numWorkers = std::size_t(env.worldSize);
    opts.waitWorkers = true;
    opts.timeout = waitTimeout;
    m_impl->store = c10::make_intrusive<c10d::TCPStore>(env.masterAddr, opts);
  } catch (const std::exception &e) {
    fail("no rendezvous at " + env.masterAddr + ":" + std::to_string(env.masterPort) + " within " +
             std::to_string(waitTimeout.count()) + " s (are all " + std::to_string(env.worldSize) +
             " processes started, with the same MASTER_ADDR and MASTER_PORT?)",
         e);
  }
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(collectiveTimeout);
    if (const char *iface = std::getenv("GLOO_SOCKET_IFNAME"); iface && *iface)
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(iface));
    else if (loopback(env.masterAddr))
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    options->threads = 2;
    m_impl->group =
        c10::make_intrusive<c10d::ProcessGroupGloo>(m_impl->store, env.rank, env.worldSize, options);
  } catch (const std::exception &e) {
    fail("could not connect the Gloo process group", e);
  }
}

DataParallelGroup::~DataParallelGroup() = default;

void DataParallelGroup::fail(const std::string &what, const std::exception &e) const {
  throw std::runtime_error("data parallel (rank " + std::to_string(m_env.rank) + " of " +
                           std::to_string(m_env.worldSize) + "): " + what + ": " + errorText(e));
}

void DataParallelGroup::sum(torch::Tensor &flat) {
  std::vector<torch::Tensor> tensors{flat};
  try {
    auto work = m_impl->group->allreduce(tensors);
    work->wait(std::chrono::duration_cast<std::chrono::milliseconds>(m_collectiveTimeout));
  } catch (const std::exception &e) {
    fail("another process stopped or left during a gradient sum (timeout " +
             std::to_string(m_collectiveTimeout.count()) +
             " s, PREFLAB_DIST_TIMEOUT); this process stops too",
         e);
  }
}

void DataParallelGroup::announce(const std::string &stage, const std::string &error) {
  const auto text = error.empty() ? kOk : error;
  try {
    m_impl->store->set("preflab/" + stage, std::vector<std::uint8_t>(text.begin(), text.end()));
  } catch (const std::exception &e) {
    fail("could not announce '" + stage + "'", e);
  }
}

bool DataParallelGroup::announced(const std::string &stage) const {
  try {
    return m_impl->store->check({"preflab/" + stage});
  } catch (const std::exception &) {
    return false;
  }
}

void DataParallelGroup::awaitAnnouncement(const std::string &stage) {
  std::string text;
  try {
    const auto key = "preflab/" + stage;
    m_impl->store->wait({key}, std::chrono::duration_cast<std::chrono::milliseconds>(m_waitTimeout));
    const auto bytes = m_impl->store->get(key);
    text.assign(bytes.begin(), bytes.end());
  } catch (const std::exception &e) {
    fail("rank 0 did not finish '" + stage + "' within " + std::to_string(m_waitTimeout.count()) +
             " s or stopped (PREFLAB_DIST_WAIT_TIMEOUT)",
         e);
  }
  if (text != kOk)
    throw std::runtime_error("data parallel (rank " + std::to_string(m_env.rank) + " of " +
                             std::to_string(m_env.worldSize) + "): rank 0 failed: " + text);
}

#else // built without Gloo's headers (see core/CMakeLists.txt)

struct DataParallelGroup::Impl {};

DataParallelGroup::DataParallelGroup(const LaunchEnv &env, std::chrono::seconds collectiveTimeout,
                                     std::chrono::seconds waitTimeout)
    : m_env(env), m_collectiveTimeout(collectiveTimeout), m_waitTimeout(waitTimeout) {
  throw std::runtime_error("data parallel (rank " + std::to_string(env.rank) + " of " +
                           std::to_string(env.worldSize) +
                           "): this build of PrefLab has no Gloo headers (libgloo-dev), so it cannot join a "
                           "group: start one process without a launcher, or rebuild with them");
}
DataParallelGroup::~DataParallelGroup() = default;
void DataParallelGroup::fail(const std::string &what, const std::exception &e) const {
  throw std::runtime_error(what + ": " + e.what());
}
void DataParallelGroup::sum(torch::Tensor &) {}
void DataParallelGroup::announce(const std::string &, const std::string &) {}
void DataParallelGroup::awaitAnnouncement(const std::string &) {}
bool DataParallelGroup::announced(const std::string &) const {
  return false;
}

#endif

void announcePrepared(DataParallelGroup &group, const std::string &how,
                      const std::function<void(const std::string &)> &say) {
  if (!group.writes())
    return;
  if (say)
    say("data parallel: " + describe(group.env()) + ", " + how + " " + std::to_string(group.worldSize()) +
        " processes");
  group.announce("prepared");
}

c10::Device rankDevice(const c10::Device &device, const DataParallelGroup *group) {
  if (!group || !device.is_cuda() || device.has_index())
    return device;
  const int count = std::max(1, cudaDeviceCount());
  const c10::Device mine(c10::kCUDA, c10::DeviceIndex(group->env().localRank % count));
  c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)->setDevice(mine); // tensors made on "cuda"
  return mine;
}

void sumStepAcrossRanks(DataParallelGroup &group, const std::vector<torch::Tensor> &params,
                        std::map<std::string, torch::Tensor> &metrics) {
  torch::NoGradGuard noGrad;
  // Gradients: one flat buffer per dtype, in parameter order (the same on every rank).
  std::map<c10::ScalarType, std::vector<std::size_t>> byType;
  for (std::size_t i = 0; i < params.size(); ++i)
    byType[params[i].scalar_type()].push_back(i);
  for (auto &[type, indices] : byType) {
    std::vector<torch::Tensor> parts;
    for (auto i : indices) {
      const auto &g = params[i].grad();
      parts.push_back(g.defined()
                          ? g.reshape(-1).to(torch::kCPU)
                          : torch::zeros({params[i].numel()}, params[i].options().device(torch::kCPU)));
    }
    auto flat = torch::cat(parts);
    group.sum(flat);
    std::int64_t offset = 0;
    for (auto i : indices) {
      auto p = params[i];
      auto part = flat.narrow(0, offset, p.numel()).view(p.sizes()).to(p.device());
      offset += p.numel();
      if (p.grad().defined())
        p.mutable_grad().copy_(part);
      else
        p.mutable_grad() = part.clone();
    }
  }
  // Metrics, and a check that every rank logged the same names: their count and a hash of them.
  std::uint32_t hash = 2166136261u;
  std::vector<torch::Tensor> values;
  for (const auto &[name, value] : metrics) {
    for (unsigned char c : name)
      hash = (hash ^ c) * 16777619u;
    values.push_back(value.detach().to(torch::kCPU, torch::kFloat64).reshape({1}));
  }
  values.push_back(torch::tensor({double(metrics.size()), double(hash)}, torch::kFloat64));
  auto flat = torch::cat(values);
  group.sum(flat);
  const auto n = std::int64_t(metrics.size());
  const double world = group.worldSize();
  if (flat[n].item<double>() != world * double(n) || flat[n + 1].item<double>() != world * double(hash))
    throw std::runtime_error("data parallel (rank " + std::to_string(group.rank()) +
                             "): the processes logged different metrics in one step (a different "
                             "objective or config on some rank?)");
  std::int64_t k = 0;
  for (auto &[name, value] : metrics)
    value = flat.narrow(0, k++, 1).reshape({}).to(value.device());
}

} // namespace preflab::core
