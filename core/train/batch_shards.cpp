// Data-parallel batch shards: one thread per shard, one intra-op thread each, ordered reduction.
#include "core/train/batch_shards.h"

#include <torch/torch.h>

#include <ATen/Parallel.h>

#include <dlfcn.h>

#include <exception>
#include <mutex>
#include <thread>

namespace preflab::core {

namespace {

// One intra-op thread for the calling thread only. With OpenMP, omp_set_num_threads changes the
// calling thread's own setting; at::set_num_threads would also change the process-wide default
// that every later thread starts from. Looked up at run time: builds without OpenMP lack it.
void useOneIntraOpThread() {
  (void)at::get_num_threads(); // LibTorch initialises each thread's count lazily: do it first
  using SetThreads = void (*)(int);
  static const auto ompSet = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  if (ompSet)
    ompSet(1);
}

} // namespace

std::vector<std::size_t> shardBounds(std::size_t count, int shards) {
  const std::size_t n = std::max<std::size_t>(1, std::min<std::size_t>(count, std::size_t(std::max(shards, 1))));
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i <= n; ++i)
    starts.push_back(i * count / n);
  return starts;
}

void runShards(int n, const std::function<void(int)> &fn) {
  if (n <= 1) {
    fn(0);
    return;
  }
  std::exception_ptr firstError;
  std::mutex errorMutex;
  std::vector<std::thread> threads;
  threads.reserve(std::size_t(n));
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      try {
        useOneIntraOpThread();
        torch::AutoGradMode gradOn(true);
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(errorMutex);
        if (!firstError)
          firstError = std::current_exception();
      }
    });
  for (auto &t : threads)
    t.join();
  if (firstError)
    std::rethrow_exception(firstError);
}

std::vector<torch::Tensor> shardGradients(const torch::Tensor &loss, const std::vector<torch::Tensor> &params) {
  std::vector<torch::Tensor> needGrad;
  std::vector<std::size_t> index;
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].requires_grad()) {
      needGrad.push_back(params[i]);
      index.push_back(i);
    }
  const auto grads = torch::autograd::grad({loss}, needGrad, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                           /*create_graph=*/false, /*allow_unused=*/true);
  std::vector<torch::Tensor> out(params.size());
  for (std::size_t k = 0; k < index.size(); ++k)
    out[index[k]] = grads[k];
  return out;
}

void addShardGradients(std::vector<torch::Tensor> &params, const std::vector<std::vector<torch::Tensor>> &grads) {
  torch::NoGradGuard noGrad;
  for (std::size_t p = 0; p < params.size(); ++p) {
    torch::Tensor sum;
    for (const auto &shard : grads) {
      const auto &g = shard[p];
      if (!g.defined())
        continue;
      sum = sum.defined() ? sum.add_(g) : g.clone();
    }
    if (!sum.defined())
      continue;
    auto &grad = params[p].mutable_grad();
    grad = grad.defined() ? grad.add_(sum) : sum;
  }
}

} // namespace preflab::core
