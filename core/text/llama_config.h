// LlamaConfig: the shape of a Llama-family model (Llama 2/3, TinyLlama, SmolLM, Mistral, Qwen2,
// Qwen3), read from a Hugging Face config.json or PrefLab's own shape JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace preflab::core {

enum class RopeScaling { None, Linear, Llama3 };

struct LlamaConfig {
  std::string family = "llama"; // the config's model_type: llama, mistral, qwen2 or qwen3
  std::int64_t vocabSize = 32000;
  std::int64_t hiddenSize = 64;
  std::int64_t intermediateSize = 128;
  std::int64_t nLayer = 2;
  std::int64_t nHead = 4;
  std::int64_t nKvHead = 4;  // grouped-query attention: each KV head serves nHead / nKvHead heads
  std::int64_t headDim = 16; // hidden_size / heads unless the config names it (Qwen3)
  std::int64_t maxPositions = 2048;
  std::int64_t slidingWindow = 0; // Mistral: sequences longer than this are refused (0: none)
  double rmsNormEps = 1e-6;
  double ropeTheta = 10000.0;
  RopeScaling ropeScaling = RopeScaling::None;
  double ropeFactor = 1.0;
  double ropeLowFreqFactor = 1.0, ropeHighFreqFactor = 4.0; // llama3 scaling
  std::int64_t ropeOriginalMaxPositions = 8192;             // llama3 scaling
  bool tieEmbeddings = false;
  bool qkvBias = false, oBias = false, mlpBias = false; // Qwen2: q/k/v; Llama attention_bias: all four
  bool qkNorm = false;                                  // Qwen3: RMSNorm over each head of q and k
  double dropout = 0.0;                                 // attention_dropout
  // A reward model (transformers' *ForSequenceClassification with one label): score.weight
  // (1, hidden) reads the final hidden state of the last token, and there is no lm_head (the
  // tied embedding still gives logits).
  bool scoreHead = false;
  std::string storageDtype = "float32";                 // what export writes (the file's own)

  // The longest sequence accepted: max_position_embeddings, or the sliding window when shorter.
  std::int64_t blockSize() const;
  // Parameters of the model this shape describes (what its weight files must hold).
  double parameterCount() const;
  // Throws InputError naming the key when a value is impossible or the model would not fit in
  // memory.
  void validate() const;
};

// PrefLab's shape JSON (checkpoints, native folders, cache keys) and back.
nlohmann::json toJson(const LlamaConfig &config);
LlamaConfig llamaConfigFromJson(const nlohmann::json &shape);

// A Hugging Face config.json of model_type llama, mistral, qwen2 or qwen3. Every key is either
// used, checked (hidden_act must be silu, pretraining_tp 1, every layer full attention, ...) or
// known to be metadata; anything else is refused, naming the key and `file`, rather than
// computing a different model than the file describes.
LlamaConfig llamaConfigFromHf(const nlohmann::json &config, const std::string &file);
// The config.json export writes (the model_type's own keys).
nlohmann::json hfConfigJson(const LlamaConfig &config, std::int64_t bosId, std::int64_t eosId);

} // namespace preflab::core
