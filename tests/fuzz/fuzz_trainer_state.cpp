// Hugging Face Trainer trainer_state.json: log_history to metrics lines.
#include "tests/fuzz/fuzz_common.h"

#include "core/api/run_reader.h"

#include <cmath>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  using namespace preflab::core;
  const std::string text(reinterpret_cast<const char *>(data), size);
  PREFLAB_FUZZ_BODY({
    const auto state = parseTrainerState(text, "trainer_state.json");
    for (const auto &line : state.lines)
      if (!(line.step >= 0) || line.metrics.count("step"))
        __builtin_trap(); // steps are checked, and "step" is never a metric
  });
}
