// CUDA bf16 autocast guard over LibTorch's two spellings of the autocast state (renamed in 2.4).
#include "core/runtime/autocast.h"

#include <ATen/autocast_mode.h>
#include <c10/core/ScalarType.h>
#include <torch/version.h>

namespace preflab::core {

namespace {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool cudaAutocastOn() {
  return at::autocast::is_autocast_enabled(at::kCUDA);
}
void setCudaAutocastOn(bool on) {
  at::autocast::set_autocast_enabled(at::kCUDA, on);
}
at::ScalarType cudaAutocastDtype() {
  return at::autocast::get_autocast_dtype(at::kCUDA);
}
void setCudaAutocastDtype(at::ScalarType t) {
  at::autocast::set_autocast_dtype(at::kCUDA, t);
}
#else
bool cudaAutocastOn() {
  return at::autocast::is_enabled();
}
void setCudaAutocastOn(bool on) {
  at::autocast::set_enabled(on);
}
at::ScalarType cudaAutocastDtype() {
  return at::autocast::get_autocast_gpu_dtype();
}
void setCudaAutocastDtype(at::ScalarType t) {
  at::autocast::set_autocast_gpu_dtype(t);
}
#endif

thread_local int tCudaAutocastDepth = 0; // active guards on this thread

} // namespace

CudaAutocastGuard::CudaAutocastGuard(const c10::Device &device, bool enabled) {
  if (!enabled || !device.is_cuda())
    return;
  m_active = true;
  m_wasEnabled = cudaAutocastOn();
  m_previousDtype = int(cudaAutocastDtype());
  setCudaAutocastOn(true);
  setCudaAutocastDtype(at::kBFloat16);
  ++tCudaAutocastDepth;
}

CudaAutocastGuard::~CudaAutocastGuard() {
  if (!m_active)
    return;
  setCudaAutocastOn(m_wasEnabled);
  setCudaAutocastDtype(at::ScalarType(m_previousDtype));
  if (--tCudaAutocastDepth == 0)
    at::autocast::clear_cache();
}

bool cudaAutocastEnabled() {
  return cudaAutocastOn();
}

const char *cudaAutocastDtypeName() {
  return c10::toString(cudaAutocastDtype());
}

} // namespace preflab::core
