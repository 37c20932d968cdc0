// Saving and loading models: PrefLab's native folder (model.pt + the architecture's shape file,
// gpt_config.json for GPT-2) or a Hugging Face folder of a registered architecture.
#pragma once

#include "core/text/causal_lm.h"
#include "core/text/tokenizer.h"

#include <memory>
#include <string>
#include <vector>

namespace preflab::core {

// Writes dir/model.pt, dir/gpt_config.json and dir/tokenizer.json (atomically per file).
void saveNativeModel(const CausalLm &model, const Tokenizer &tokenizer, const std::string &dir);

// Loads a model folder: a Hugging Face folder (config.json + model.safetensors) whose model_type
// is a registered architecture (causalLmArchitectures), a native one (shape file + model.pt), or
// a checkpoint folder (model.pt) when `fallbackShape` (a shapeJson) is given. Throws InputError
// naming the folder and what is missing or corrupt.
CausalLm loadModelFolder(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizer = nullptr,
                         const nlohmann::json *fallbackShape = nullptr);

// loadModelFolder, or a trainer checkpoint folder (checkpoints/step-N) whose model shape is read
// from its trainer_state.json. Throws InputError for an empty name, a missing folder or a
// checkpoint state without a model shape.
CausalLm loadModelOrCheckpoint(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizer = nullptr);

// The ids generation_config.json's eos_token_id names (one id or a list), of the folder or, for
// an adapter, of its base; empty when there is none. Throws InputError for a malformed file.
std::vector<std::int64_t> generationStopIds(const std::string &dir);

// Copies the generation_config.json of `source` (a model folder, or an adapter's base) over the
// one an export wrote into `exported`, so that a tuned folder keeps the original's stop ids (Llama
// 3's and Qwen's lists) and sampling defaults. Nothing happens when `source` has none. Throws
// std::runtime_error when the file cannot be written.
void keepGenerationConfig(const std::string &source, const std::string &exported);

} // namespace preflab::core
