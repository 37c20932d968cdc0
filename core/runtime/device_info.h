// Torch-free facts about the compute devices this LibTorch build can use, for forms and --help.
#pragma once

namespace preflab::core {

// Number of CUDA devices usable by this build (0 for CPU-only LibTorch or no driver).
int cudaDeviceCount();

} // namespace preflab::core
