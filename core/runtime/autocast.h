// Mixed precision on CUDA: bfloat16 autocast for the forward passes of a step. Torch header.
#pragma once

#include <c10/core/Device.h>

namespace preflab::core {

// While alive, LibTorch's CUDA autocast is on for this thread with bfloat16 as the lower
// precision (matrix products and convolutions in bf16, reductions, softmax and losses in float32:
// LibTorch's own lists), when `enabled` and `device` is CUDA; otherwise it changes nothing. The
// previous state comes back on destruction, and the cache of cast weights is cleared when the
// outermost guard ends (as Python's torch.autocast does). Weights stay float32: the optimizer
// steps in full precision. Construct around forwards, not around backward() (the backward ops
// follow the forward's dtypes by themselves).
class CudaAutocastGuard {
public:
  CudaAutocastGuard(const c10::Device &device, bool enabled);
  ~CudaAutocastGuard();
  CudaAutocastGuard(const CudaAutocastGuard &) = delete;
  CudaAutocastGuard &operator=(const CudaAutocastGuard &) = delete;

  bool active() const { return m_active; }

private:
  bool m_active = false;
  bool m_wasEnabled = false;
  int m_previousDtype = 0; // c10::ScalarType, kept as int to keep ATen out of this header
};

// Whether CUDA autocast is on for this thread, and its lower-precision dtype's name ("BFloat16").
bool cudaAutocastEnabled();
const char *cudaAutocastDtypeName();

} // namespace preflab::core
