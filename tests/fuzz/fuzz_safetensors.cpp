// safetensors files: the 8-byte header length, the JSON header, dtypes, shapes, offsets, data.
#include "tests/fuzz/fuzz_common.h"

#include "core/io/safetensors.h"

#include <torch/torch.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const auto path = preflab::fuzz::writeInput("model.safetensors", data, size);
  std::map<std::string, std::string> metadata;
  PREFLAB_FUZZ_BODY({
    for (const auto &[name, tensor] : preflab::core::readSafetensors(path, &metadata))
      (void)tensor.sum().item<double>(); // touch every byte the reader handed out
  });
}
