// Thread settings for CPU compute: LibTorch's intra-op pool and the system BLAS.
#pragma once

namespace preflab::core {

// Uses `threads` intra-op threads in LibTorch (0: all cores) and one OpenBLAS thread: matrix
// products then run inside LibTorch's pool instead of a second pool of spinning BLAS threads
// (measured on 2 cores: 2 s → 1 s per 20 steps, system time 10 s → 0.6 s). Returns the count.
// The first call also tunes glibc's allocator to keep freed tensor memory for reuse (see
// compute_threads.cpp), unless the environment sets MALLOC_* or GLIBC_TUNABLES.
int setComputeThreads(int threads);

} // namespace preflab::core
