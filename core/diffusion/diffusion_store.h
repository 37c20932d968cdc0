// Saving and loading diffusion models as a native folder: diffusion_config.json + model.pt.
#pragma once

#include "core/diffusion/unet.h"

#include <string>

namespace preflab::core {

// Writes dir/model.pt (torch::save of the UNet) and dir/diffusion_config.json, each atomically.
// Prompts are always ByteTokenizer bytes, so no tokenizer file is needed. Throws on I/O errors.
void saveDiffusionModel(UNet &model, const std::string &dir);

// Reads a folder written by saveDiffusionModel onto the CPU. Throws InputError naming the folder
// or file when it is missing, the config is invalid, or the weights do not fit the config.
UNet loadDiffusionModel(const std::string &dir);

} // namespace preflab::core
