// The JSON files of a model folder, each input tried in both roles: a Hugging Face folder's
// config.json (GPT-2 or, by its model_type, the Llama family) beside the GPT-2 test model's
// weights (tests/data/hf_gpt2, copied once), and a native
// folder's tokenizer.json beside a tiny model (saved once). A native gpt_config.json is not
// fuzzed here: a valid one may ask for a model of gigabytes, which is no bug but exhausts the
// fuzzer's memory limit.
#include "tests/fuzz/fuzz_common.h"

#include "core/text/gpt.h"
#include "core/text/model_store.h"
#include "core/text/tokenizer.h"

#include <torch/torch.h>

#include <filesystem>
#include <memory>

namespace {

namespace fs = std::filesystem;

struct Folders {
  std::string hf, tokenizer;
};

const Folders &folders() {
  static const Folders f = [] {
    const auto root = preflab::fuzz::scratchDir();
    Folders out{root + "/hf", root + "/native"};
    fs::create_directories(out.hf);
    fs::copy_file(PREFLAB_TEST_DATA_DIR "/hf_gpt2/model.safetensors", out.hf + "/model.safetensors",
                  fs::copy_options::overwrite_existing);
    preflab::core::GptConfig shape;
    shape.nLayer = 1;
    shape.nHead = 2;
    shape.nEmbd = 8;
    shape.blockSize = 16;
    torch::manual_seed(0);
    const auto model = preflab::core::makeGpt(shape);
    preflab::core::saveNativeModel(model, preflab::core::ByteTokenizer(), out.tokenizer);
    return out;
  }();
  return f;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const auto &f = folders();
  preflab::fuzz::writeInput("hf/config.json", data, size);
  preflab::fuzz::writeInput("native/tokenizer.json", data, size);
  std::shared_ptr<preflab::core::Tokenizer> tokenizer;
  try {
    (void)preflab::core::loadModelFolder(f.hf);
  } catch (const preflab::core::InputError &) {
  }
  PREFLAB_FUZZ_BODY({ (void)preflab::core::loadModelFolder(f.tokenizer, &tokenizer); });
}
