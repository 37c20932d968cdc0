// Torch-free shape of a GPT-2-architecture model; also the "model" section of a run config.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace preflab::core {

struct GptConfig {
  std::int64_t nLayer = 4;
  std::int64_t nHead = 4;
  std::int64_t nEmbd = 128;
  std::int64_t blockSize = 96; // longest sequence (prompt ⊕ response) the model sees
  std::int64_t vocabSize = 257;
  double dropout = 0.0;      // off by default: preference losses compare policy and reference
  bool scoreHead = false;    // scalar head on the last token (reward models)

  // Parameter count without the tied output projection.
  std::int64_t parameterCount() const;
  // Throws InputError naming the key when a value is out of range (e.g. nEmbd % nHead != 0).
  void validate() const;
};

// {"n_layer","n_head","n_embd","block_size","vocab_size","dropout","score_head"}
nlohmann::json toJson(const GptConfig &config);
GptConfig gptConfigFromJson(const nlohmann::json &json);

} // namespace preflab::core
