// resolveDevice: maps a config's device name onto a LibTorch device.
#include "core/runtime/device.h"
#include "core/runtime/device_info.h"

#include "core/io/input_error.h"

#include <torch/cuda.h>

namespace preflab::core {

c10::Device resolveDevice(const std::string &name) {
  if (name == "cpu")
    return c10::Device(c10::kCPU);
  if (name != "cuda" && name != "auto")
    throw InputError({}, 0, "device", "must be cpu, cuda or auto, not '" + name + "'");
  if (torch::cuda::is_available())
    return c10::Device(c10::kCUDA);
  if (name == "cuda")
    throw InputError({}, 0, "device", "CUDA requested but this LibTorch build has no usable GPU");
  return c10::Device(c10::kCPU);
}

} // namespace preflab::core

namespace preflab::core {

int cudaDeviceCount() {
  return torch::cuda::is_available() ? int(torch::cuda::device_count()) : 0;
}

} // namespace preflab::core
