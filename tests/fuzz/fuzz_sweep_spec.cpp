// Sweep files: parsed and expanded into points.
#include "tests/fuzz/fuzz_common.h"

#include "core/train/sweep_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  using namespace preflab::core;
  const std::string text(reinterpret_cast<const char *>(data), size);
  PREFLAB_FUZZ_BODY({
    const auto spec = parseSweepSpec(text, "/tmp/fuzz/sweep.yaml");
    for (const auto &p : spec.points)
      if (p.name.empty() || p.name.find('/') != std::string::npos)
        __builtin_trap(); // a point's folder name is never empty and never a path
  });
}
