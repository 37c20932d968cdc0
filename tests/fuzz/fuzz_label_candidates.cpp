// Label candidate files (text pairs, image pairs, or any preference file to relabel); the images
// they name are absent, so the line checks are what runs. The first byte chooses skipping.
#include "tests/fuzz/fuzz_common.h"

#include "core/labels/label_candidates.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  using namespace preflab::core;
  if (size == 0)
    return 0;
  std::vector<SkippedCandidate> skipped;
  const bool skip = data[0] & 1;
  const auto path = preflab::fuzz::writeInput("candidates.jsonl", data + 1, size - 1);
  PREFLAB_FUZZ_BODY({ (void)readLabelCandidates(path, skip ? &skipped : nullptr); });
}
