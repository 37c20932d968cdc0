// YAML run configs, text and image: parsed, validated and written back.
#include "tests/fuzz/fuzz_common.h"

#include "core/train/image_train_config.h"
#include "core/train/text_train_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  using namespace preflab::core;
  const std::string text(reinterpret_cast<const char *>(data), size);
  PREFLAB_FUZZ_BODY({
    try {
      auto c = textTrainConfigFromYaml(text, "fuzz.yaml");
      c.validate();
      (void)toYaml(c);
    } catch (const InputError &) {
    }
    auto image = imageTrainConfigFromYaml(text, "fuzz.yaml");
    image.validate();
    (void)toYaml(image);
  });
}
