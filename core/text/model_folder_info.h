// ModelFolderInfo: what a model folder holds (family, size, vocabulary, chat template, adapter),
// read from its JSON files and the safetensors headers without loading a weight. For the app's
// New run dialog and Models dock; torch-free.
#pragma once

#include "core/text/lora_config.h"

#include <cstdint>
#include <optional>
#include <string>

namespace preflab::core {

struct ModelFolderInfo {
  std::string path;
  std::string format;                 // "Hugging Face", "PEFT adapter" or "PrefLab"
  std::string family;                 // config.json's model_type (gpt2, llama, mistral, qwen2, qwen3)
  std::int64_t parameters = 0;        // in the weight files (an adapter: its base's; 0 for model.pt)
  std::int64_t adapterParameters = 0; // an adapter's own (lora_A and lora_B)
  std::string dtype;                  // of the stored weights: F32, F16, BF16, "mixed" ("" for model.pt)
  bool rewardModel = false;           // a score head (*ForSequenceClassification, score_head)
  std::int64_t layers = 0, hidden = 0, heads = 0, kvHeads = 0, contextLength = 0, vocabSize = 0;
  // The tokenizer beside the weights (an adapter: its own, else the base's); empty when none was read.
  std::string tokenizerFile; // "tokenizer.json", "tokenizer.model", "vocab.json + merges.txt", ...
  std::int64_t tokenizerVocab = 0;
  std::string chatTemplate;         // tokenizer_config.json's chat_template ("" when none)
  std::optional<LoraSettings> lora; // an adapter's settings
  std::string baseModel;            // an adapter's base folder (resolved)
};

// Reads `dir`. With `withTokenizer`, the tokenizer is loaded too (a 150k-id tokenizer.json takes
// a fraction of a second). Throws InputError naming the file and key for a folder that is not a
// model PrefLab can load (unknown model_type, unsupported config key, damaged header, missing
// weights or base).
ModelFolderInfo inspectModelFolder(const std::string &dir, bool withTokenizer = true);

// One line for lists: "qwen3 · 0.6 B parameters (BF16)", "qwen3 reward model · ..." or "LoRA r=16 on qwen3
// · 1.1 M parameters".
std::string modelSummaryLine(const ModelFolderInfo &info);

} // namespace preflab::core
