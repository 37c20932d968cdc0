// Device selection by name ("cpu", "cuda", "auto") for runs and model tools.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace preflab::core {

// "cpu", "cuda" (InputError when this LibTorch build has no usable GPU) or "auto" (CUDA when
// available). Other names throw InputError naming the key "device".
c10::Device resolveDevice(const std::string &name);

} // namespace preflab::core
