// LoRA settings (rank, alpha, dropout, target projections) and PEFT's adapter_config.json, without
// LibTorch: core/text/lora.h attaches and runs the adapters.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace preflab::core {

struct LoraSettings {
  std::int64_t rank = 16; // PEFT's r
  double alpha = 32.0;    // lora_alpha: the update is scaled by alpha / r (alpha / sqrt(r) with rsLoRA)
  double dropout = 0.05;  // on the adapter's input while training
  bool rslora = false;    // use_rslora
  // Projections to adapt: names matched against the last part of a module path ("q_proj"), or
  // whole paths ending in the name, as PEFT matches a list. Empty: defaultLoraTargets().
  std::vector<std::string> targetModules;
  std::string targetRegex; // PEFT's target_modules given as one string: a regex the full path must match

  double scale() const;
};

// The "lora" entry of a modelIdentity (throws InputError naming `file` when malformed).
LoraSettings loraSettingsFromJson(const nlohmann::json &lora, const std::string &file);

// PEFT's defaults per architecture: q_proj and v_proj for the Llama family, c_attn for GPT-2.
std::vector<std::string> defaultLoraTargets(const std::string &architecture);

// Whether `dir` holds a PEFT adapter (adapter_config.json).
bool isLoraAdapterFolder(const std::string &dir);

// Reads dir/adapter_config.json. Refuses, naming the key, what PrefLab does not apply: another
// peft_type, DoRA, bias training, modules_to_save, per-layer rank or alpha patterns, layer
// selection, and any unknown key with a value set. Returns the settings and the base model path
// (resolved against the adapter folder when relative).
LoraSettings readLoraAdapterConfig(const std::string &dir, std::string *baseModel = nullptr);

} // namespace preflab::core
