// LoRA adapters on a causal language model's linear projections, saved and loaded in PEFT's
// layout (adapter_config.json + adapter_model.safetensors with PEFT's tensor names). The base
// weights stay frozen and shared: the reference of a LoRA run is the same model with its adapters
// switched off (AdaptersOff), so the weights are in memory once. Torch header.
#pragma once

#include "core/text/causal_lm.h"
#include "core/text/lora_config.h"

#include <torch/nn/modules/linear.h>

#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

// shapeJson(), plus "lora": {r, lora_alpha, lora_dropout, use_rslora, target_modules} when the
// model has adapters: what a checkpoint's trainer_state.json records to rebuild the model.
nlohmann::json modelIdentity(const CausalLmImpl &model);

// Adds lora_A (rank × in, Kaiming-uniform as PEFT initialises it, from `seed`) and lora_B
// (out × rank, zeros) beside the weight of every linear projection that `settings` selects, and
// freezes every other parameter. Returns the adapted module paths. Throws InputError (key
// lora_target_modules) when a target matches no projection, a projection is already adapted, or
// the rank is < 1; key lora_dropout for a rate outside [0, 1).
std::vector<std::string> attachLora(CausalLmImpl &model, const LoraSettings &settings, std::uint64_t seed);

// The settings of a model's adapters (targets: the adapted projections' names); nullopt without.
std::optional<LoraSettings> loraSettingsOf(const torch::nn::Module &model);

// Gives `to` (a fresh copy of `from`'s architecture and shape) the same adapters with the same
// weights; their dropout becomes `dropout` when >= 0. For the architectures' clone().
void copyLoraAdapters(const torch::nn::Module &from, CausalLmImpl &to, double dropout);

// x·Wᵀ + b, plus the adapter's scale · B·A·dropout(x) when the projection has one and this thread
// has not switched adapters off. Every projection of the architectures goes through this.
torch::Tensor adaptedLinear(const torch::nn::Linear &layer, const torch::Tensor &x);

// While alive, adaptedLinear on this thread ignores adapters (the model is its base). Threads
// are independent: batch shards may score the policy and its reference at the same time.
class AdaptersOff {
public:
  AdaptersOff();
  ~AdaptersOff();
  AdaptersOff(const AdaptersOff &) = delete;
  AdaptersOff &operator=(const AdaptersOff &) = delete;
};

// A model that is `adapted` with its adapters off: the reference of a LoRA run, sharing every
// weight. It owns no parameters of its own (moving or switching it to eval changes nothing).
CausalLm adaptersOffView(const CausalLm &adapted);

// A plain copy of `model` with every adapter merged into its weight (W + scale·B·A).
CausalLm mergedCopy(const CausalLm &model);

// Writes dir/adapter_config.json and dir/adapter_model.safetensors (PEFT's names: the Hugging
// Face path of the projection + ".lora_A.weight" under "base_model.model."), plus the tokenizer
// files. `baseModel` goes into base_model_name_or_path. Throws InputError for a model without
// adapters.
void saveLoraAdapter(const CausalLmImpl &model, const Tokenizer &tokenizer, const std::string &baseModel,
                     const std::string &dir);

// Attaches the adapter of `dir` to `model` and loads its weights (adapter_model.safetensors),
// checking every name and shape. Throws InputError naming the file and tensor.
void loadLoraAdapter(CausalLmImpl &model, const std::string &dir);

} // namespace preflab::core
