// Native diffusion model folders: the config as JSON, the weights as a LibTorch archive.
#include "core/diffusion/diffusion_store.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"

#include <torch/torch.h>

#include <filesystem>

namespace fs = std::filesystem;

namespace preflab::core {

void saveDiffusionModel(UNet &model, const std::string &dir) {
  fs::create_directories(dir);
  const auto tmp = dir + "/model.pt.tmp";
  torch::save(model, tmp);
  fs::rename(tmp, dir + "/model.pt");
  writeFileAtomic(dir + "/diffusion_config.json", toJson(model->config()).dump(2) + "\n");
}

UNet loadDiffusionModel(const std::string &dir) {
  if (!fs::is_directory(dir))
    throw InputError(dir, 0, {}, "model folder does not exist");
  const auto configPath = dir + "/diffusion_config.json";
  if (!fs::exists(configPath) || !fs::exists(dir + "/model.pt"))
    throw InputError(dir, 0, {}, "no diffusion model here: expected diffusion_config.json + model.pt");
  const auto json = nlohmann::json::parse(readFile(configPath), nullptr, false);
  if (json.is_discarded())
    throw InputError(configPath, 0, {}, "invalid JSON");
  DiffusionConfig config;
  try {
    config = diffusionConfigFromJson(json);
  } catch (const InputError &e) {
    throw InputError(configPath, 0, e.key(), e.message());
  }
  UNet model(config);
  try {
    torch::load(model, dir + "/model.pt");
  } catch (const c10::Error &e) {
    throw InputError(dir + "/model.pt", 0, {},
                     std::string("cannot load weights: ") + e.what_without_backtrace());
  }
  return model;
}

} // namespace preflab::core
