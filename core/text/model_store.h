// Saving and loading models: PrefLab's native folder (model.pt + gpt_config.json) or a HF GPT-2 folder.
#pragma once

#include "core/text/gpt.h"
#include "core/text/tokenizer.h"

#include <memory>
#include <string>

namespace preflab::core {

// Writes dir/model.pt, dir/gpt_config.json and dir/tokenizer.json (atomically per file).
void saveNativeModel(Gpt &model, const Tokenizer &tokenizer, const std::string &dir);

// Loads a model folder: a Hugging Face GPT-2 folder (config.json + model.safetensors) or a
// native one (gpt_config.json + model.pt), or a checkpoint folder (model.pt) when
// `fallbackConfig` is given. Throws InputError naming the folder and what is missing or corrupt.
Gpt loadModelFolder(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizer = nullptr,
                    const GptConfig *fallbackConfig = nullptr);

// loadModelFolder, or a trainer checkpoint folder (checkpoints/step-N) whose model shape is read
// from its trainer_state.json. Throws InputError for an empty name, a missing folder or a
// checkpoint state without a model shape.
Gpt loadModelOrCheckpoint(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizer = nullptr);

} // namespace preflab::core
