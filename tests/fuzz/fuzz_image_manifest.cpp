// Image-pair manifests (caption, jpg_0, jpg_1, label_0, ...); the images they name are absent or
// are the two fixed files written once, so the manifest parser is what runs.
#include "tests/fuzz/fuzz_common.h"

#include "core/data/image_preference_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  using namespace preflab::core;
  if (size == 0)
    return 0;
  ImageReadOptions options;
  options.skipInvalid = data[0] & 1;
  options.loadImages = false;
  const auto path = preflab::fuzz::writeInput("manifest.jsonl", data + 1, size - 1);
  PREFLAB_FUZZ_BODY({ (void)readImagePreferences(path, options); });
}
