// GptConfig validation and JSON conversion.
#include "core/text/gpt_config.h"

#include "core/io/input_error.h"
#include "core/runtime/machine_memory.h"

namespace preflab::core {

std::int64_t GptConfig::parameterCount() const {
  const std::int64_t perBlock = 12 * nEmbd * nEmbd + 13 * nEmbd;
  return vocabSize * nEmbd + blockSize * nEmbd + nLayer * perBlock + 2 * nEmbd +
         (scoreHead ? nEmbd : 0);
}

void GptConfig::validate() const {
  requireInput(nLayer >= 1 && nLayer <= 256, "n_layer", "must be in 1..256");
  requireInput(nHead >= 1, "n_head", "must be >= 1");
  requireInput(nEmbd >= 1 && nEmbd % nHead == 0, "n_embd", "must be a positive multiple of n_head");
  requireInput(blockSize >= 2, "block_size", "must be >= 2");
  requireInput(vocabSize >= 2, "vocab_size", "must be >= 2");
  requireInput(dropout >= 0.0 && dropout < 1.0, "dropout", "must be in [0, 1)");
  requireInput(nEmbd <= (1 << 16), "n_embd", "is " + std::to_string(nEmbd) + ", at most 65536");
  requireInput(blockSize <= (1 << 20), "block_size", "is " + std::to_string(blockSize) + ", at most 1048576");
  requireInput(vocabSize <= (1 << 24), "vocab_size",
               "is " + std::to_string(vocabSize) + ", at most 16777216");
  // Weights, gradients and AdamW's two moments in float32: refuse a model that cannot fit before
  // an allocation fails somewhere inside LibTorch.
  const double e = double(nEmbd);
  const double parameters = double(vocabSize + blockSize) * e + double(nLayer) * 12.0 * e * e;
  const double memory = physicalMemoryBytes();
  requireInput(memory <= 0 || parameters * 16.0 <= memory, "n_embd",
               "the model would have " + std::to_string(std::int64_t(parameters)) + " parameters, about " +
                   std::to_string(std::int64_t(parameters * 16.0 / double(1 << 30))) +
                   " GiB to train, and this machine has " +
                   std::to_string(std::int64_t(memory / double(1 << 30))) +
                   " GiB (n_layer, n_embd, vocab_size and block_size set the size)");
}

nlohmann::json toJson(const GptConfig &c) {
  return {{"n_layer", c.nLayer},       {"n_head", c.nHead},         {"n_embd", c.nEmbd},
          {"block_size", c.blockSize}, {"vocab_size", c.vocabSize}, {"dropout", c.dropout},
          {"score_head", c.scoreHead}};
}

GptConfig gptConfigFromJson(const nlohmann::json &json) {
  GptConfig c;
  try {
    c.nLayer = json.value("n_layer", c.nLayer);
    c.nHead = json.value("n_head", c.nHead);
    c.nEmbd = json.value("n_embd", c.nEmbd);
    c.blockSize = json.value("block_size", c.blockSize);
    c.vocabSize = json.value("vocab_size", c.vocabSize);
    c.dropout = json.value("dropout", c.dropout);
    c.scoreHead = json.value("score_head", c.scoreHead);
  } catch (const nlohmann::json::exception &e) {
    throw InputError(std::string("model config: ") + e.what());
  }
  c.validate();
  return c;
}

} // namespace preflab::core
