// Torch-free sampling settings (temperature, top-k, top-p, length).
#pragma once

#include <cstdint>
#include <vector>

namespace preflab::core {

struct SamplingOptions {
  std::int64_t maxNewTokens = 48;
  double temperature = 1.0; // 0 means greedy
  std::int64_t topK = 0;    // 0: off
  double topP = 1.0;        // 1: off
  // Ids that end a sequence besides the tokenizer's EOS (generation_config.json's eos_token_id
  // list: Llama 3's <|eot_id|>, Qwen's <|im_end|>).
  std::vector<std::int64_t> stopIds;
  // Each prompt as one user message in the tokenizer's chat template, with the generation prompt
  // (how a chat model is prompted, and how conversational training renders prompts); no effect
  // when the tokenizer has no template.
  bool chatTemplate = true;
};

} // namespace preflab::core
