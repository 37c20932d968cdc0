// Model folders: native LibTorch archives for speed, Hugging Face layout for exchange.
#include "core/text/model_store.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/text/hf_gpt2.h"

#include <torch/torch.h>

#include <filesystem>

namespace fs = std::filesystem;

namespace preflab::core {

void saveNativeModel(Gpt &model, const Tokenizer &tokenizer, const std::string &dir) {
  fs::create_directories(dir);
  const auto tmp = dir + "/model.pt.tmp";
  torch::save(model, tmp);
  fs::rename(tmp, dir + "/model.pt");
  writeFileAtomic(dir + "/gpt_config.json", toJson(model->config()).dump(2) + "\n");
  writeFileAtomic(dir + "/tokenizer.json", tokenizer.describe().dump(2) + "\n");
}

Gpt loadModelFolder(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizer,
                    const GptConfig *fallbackConfig) {
  if (!fs::is_directory(dir))
    throw InputError(dir, 0, {}, "model folder does not exist");
  if (fs::exists(dir + "/config.json") && fs::exists(dir + "/model.safetensors"))
    return importHfGpt2(dir, tokenizer);
  GptConfig config;
  if (fs::exists(dir + "/gpt_config.json")) {
    auto json = nlohmann::json::parse(readFile(dir + "/gpt_config.json"), nullptr, false);
    if (json.is_discarded())
      throw InputError(dir + "/gpt_config.json", 0, {}, "invalid JSON");
    config = gptConfigFromJson(json);
  } else if (fallbackConfig) {
    config = *fallbackConfig;
  } else {
    throw InputError(dir, 0, {}, "no model here: expected config.json + model.safetensors or gpt_config.json + model.pt");
  }
  Gpt model(config);
  try {
    torch::load(model, dir + "/model.pt");
  } catch (const c10::Error &e) {
    throw InputError(dir + "/model.pt", 0, {}, std::string("cannot load weights: ") + e.what_without_backtrace());
  }
  if (tokenizer) {
    *tokenizer = fs::exists(dir + "/tokenizer.json")
                     ? tokenizerFromDescription(nlohmann::json::parse(readFile(dir + "/tokenizer.json")))
                     : std::make_shared<ByteTokenizer>();
  }
  return model;
}

Gpt loadModelOrCheckpoint(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizer) {
  if (dir.empty())
    throw InputError("no model folder given");
  const auto state = dir + "/trainer_state.json";
  if (fs::exists(state) && !fs::exists(dir + "/gpt_config.json")) {
    auto json = nlohmann::json::parse(readFile(state), nullptr, false);
    if (json.is_discarded() || !json.contains("model"))
      throw InputError(state, 0, "model", "checkpoint state has no model shape");
    const auto shape = gptConfigFromJson(json["model"]);
    return loadModelFolder(dir, tokenizer, &shape);
  }
  return loadModelFolder(dir, tokenizer);
}

} // namespace preflab::core
