// The model inspector of the New run dialog and the Models dock (inspectModelFolder): each input
// tried as the safetensors file of a Hugging Face folder (its header length and JSON header, never
// the tensors) beside the qwen3 test model's config.json, and as that config.json beside the
// model's real weights.
#include "tests/fuzz/fuzz_common.h"

#include "core/text/model_folder_info.h"

#include <filesystem>

namespace {

namespace fs = std::filesystem;

struct Folders {
  std::string weights, config;
};

const Folders &folders() {
  static const Folders f = [] {
    const auto root = preflab::fuzz::scratchDir();
    Folders out{root + "/weights", root + "/config"};
    const std::string from = PREFLAB_TEST_DATA_DIR "/hf_llama/qwen3";
    for (const auto &dir : {out.weights, out.config})
      fs::create_directories(dir);
    fs::copy_file(from + "/config.json", out.weights + "/config.json", fs::copy_options::overwrite_existing);
    fs::copy_file(from + "/model.safetensors", out.config + "/model.safetensors",
                  fs::copy_options::overwrite_existing);
    return out;
  }();
  return f;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const auto &f = folders();
  preflab::fuzz::writeInput("weights/model.safetensors", data, size);
  preflab::fuzz::writeInput("config/config.json", data, size);
  PREFLAB_FUZZ_BODY({
    try {
      preflab::core::inspectModelFolder(f.weights, false);
    } catch (const preflab::core::InputError &) {
    }
    preflab::core::inspectModelFolder(f.config, false);
  });
}
