// Prompt lists for generated candidates: plain lines or JSON objects with a prompt or caption.
#include "tests/fuzz/fuzz_common.h"

#include "core/labels/label_candidates.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  using namespace preflab::core;
  const auto path = preflab::fuzz::writeInput("prompts.txt", data, size);
  PREFLAB_FUZZ_BODY({ (void)readPromptList(path); });
}
