// A Hugging Face model folder's config.json beside the test model's weights (tests/data/hf_gpt2,
// copied once): architecture lookup, the GPT-2 hyper-parameter checks, the model it asks for.
#include "tests/fuzz/fuzz_common.h"

#include "core/text/model_store.h"

#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const auto dir = preflab::fuzz::scratchDir() + "/hf";
  std::filesystem::create_directories(dir);
  const auto path = preflab::fuzz::writeInput("hf/config.json", data, size);
  (void)path;
  static const bool weights = [&] {
    std::filesystem::copy_file(PREFLAB_TEST_DATA_DIR "/hf_gpt2/model.safetensors", dir + "/model.safetensors",
                               std::filesystem::copy_options::overwrite_existing);
    return true;
  }();
  (void)weights;
  PREFLAB_FUZZ_BODY({ (void)preflab::core::loadModelFolder(dir); });
}
