// setComputeThreads: one thread pool for CPU compute; OpenBLAS looked up at run time if present.
#include "core/runtime/compute_threads.h"

#include <torch/torch.h>

#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace preflab::core {

namespace {

// glibc serves every allocation above its mmap threshold (dynamic, starting at 128 KiB) with a
// fresh mmap and returns it on free, and trims the heap's free top above 128 KiB: a training
// step's activations (megabytes each) then page-fault in anew at every step. Keeping them in the
// heap and the heap's free memory for the next step made the Diffusion-DPO step 2.6x faster here
// (1.1 -> 2.9 steps/s, bench/README.md). The cost: the process keeps its peak heap. A user's own
// MALLOC_* / GLIBC_TUNABLES settings win.
void keepTensorMemoryForReuse() {
#if defined(__GLIBC__)
  if (std::getenv("GLIBC_TUNABLES") || std::getenv("MALLOC_MMAP_THRESHOLD_") ||
      std::getenv("MALLOC_TRIM_THRESHOLD_"))
    return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20); // the largest glibc accepts on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

} // namespace

int setComputeThreads(int threads) {
  static std::once_flag allocatorTuned;
  std::call_once(allocatorTuned, keepTensorMemoryForReuse);
  const int n = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
  // Resolved dynamically: LibTorch builds that use MKL or no OpenBLAS simply lack the symbol.
  using SetThreads = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    fn(1);
  return n;
}

} // namespace preflab::core
