// IDX files (Fashion-MNIST), plain or gzip-compressed (detected from the content).
#include "tests/fuzz/fuzz_common.h"

#include "core/data/idx_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const auto path = preflab::fuzz::writeInput("images.idx", data, size);
  PREFLAB_FUZZ_BODY({
    const auto a = preflab::core::readIdxFile(path);
    std::uint64_t sum = 0;
    for (auto v : a.data)
      sum += v;
    (void)sum;
  });
}
