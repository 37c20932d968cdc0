// setComputeThreads: one thread pool for CPU compute; OpenBLAS looked up at run time if present.
#include "core/runtime/compute_threads.h"

#include <torch/torch.h>

#include <dlfcn.h>

#include <algorithm>
#include <thread>

namespace preflab::core {

int setComputeThreads(int threads) {
  const int n = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
  // Resolved dynamically: LibTorch builds that use MKL or no OpenBLAS simply lack the symbol.
  using SetThreads = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    fn(1);
  return n;
}

} // namespace preflab::core
