// The causal language model interface every text component uses (log-probs, sampling, the
// reference cache, pair scoring, the trainer, the tasks, Compare, model folders). GPT-2 (gpt.h)
// is one implementation; an architecture adds its own implementation and one line in
// causal_lm_registry.cpp. Torch header.
#pragma once

#include "core/text/tokenizer.h"

#include <torch/nn/module.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace preflab::core {

// Keys and values of earlier positions, one pair per layer, for incremental decoding.
struct KvCache {
  std::vector<torch::Tensor> keys, values; // each (B, heads, T_cached, head_dim)
  std::int64_t length = 0;                 // positions cached
};

class CausalLmImpl;
// Models are shared like LibTorch's module holders: copies share the parameters.
using CausalLm = std::shared_ptr<CausalLmImpl>;

// A decoder-only language model over token ids. Not thread-safe: one thread drives a model at a
// time (the trainer's batch shards only run forwards and backwards on it concurrently). Device is
// whatever ->to() set.
class CausalLmImpl : public torch::nn::Module {
public:
  ~CausalLmImpl() override = default;

  // ids: (B, T) int64, T <= blockSize() -> logits (B, T, vocabSize()).
  virtual torch::Tensor forward(const torch::Tensor &ids) = 0;
  // Incremental decoding: ids (B, T_new) continue the sequences held in `cache` (empty for the
  // first call) -> logits (B, T_new, V); cache.length + T_new <= blockSize(). Under no-grad.
  virtual torch::Tensor forwardCached(const torch::Tensor &ids, KvCache &cache) = 0;
  // Scalar score per row from the hidden state at `lastIndex` (B,) -> (B,). Needs hasScoreHead().
  virtual torch::Tensor score(const torch::Tensor &ids, const torch::Tensor &lastIndex) = 0;

  // The device of the parameters (the CPU for a model without any).
  virtual torch::Device device() const {
    const auto params = parameters();
    return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
  }
  virtual std::int64_t blockSize() const = 0; // longest sequence the model accepts
  virtual std::int64_t vocabSize() const = 0;
  virtual bool hasScoreHead() const = 0;
  virtual double dropout() const = 0; // training-time dropout probability
  // The registry name ("gpt2"), and the shape as JSON (checkpoints, cache keys, native folders).
  virtual std::string architecture() const = 0;
  virtual nlohmann::json shapeJson() const = 0;
  // A deep copy with the same parameters on the same device, in the same train/eval mode; with
  // `dropout` >= 0 the copy uses that dropout rate.
  virtual CausalLm clone(double dropout = -1.0) const = 0;
  // Writes a Hugging Face folder transformers loads (see the implementation's own header).
  virtual void exportHuggingFace(const Tokenizer &tokenizer, const std::string &dir) const = 0;
};

// One architecture: how to build it from a shape, and how to read its Hugging Face folders.
struct CausalLmArchitecture {
  std::string name;             // shapeJson's "architecture" when present; HF config "model_type"
  std::string nativeConfigFile; // the shape file of a native folder ("gpt_config.json")
  std::function<CausalLm(const nlohmann::json &shape)> create;
  std::function<CausalLm(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizer)> importHuggingFace;
};

// `lm` with a score head, for training a reward model from a language model's folder as
// transformers' *ForSequenceClassification does from a causal LM: the same weights, a new score
// head drawn normal(0, 0.02) from a generator seeded with `seed`, and (Llama family, untied) no LM
// head. `lm` itself when it has a score head. Same device and train/eval mode.
CausalLm withScoreHead(const CausalLm &lm, std::uint64_t seed);

// Every registered architecture, in a stable order (the first is the default of shapes that name
// none). Safe from any thread.
const std::vector<CausalLmArchitecture> &causalLmArchitectures();
// The architecture `name`; throws InputError (key `key`) naming the known ones.
const CausalLmArchitecture &causalLmArchitecture(const std::string &name,
                                                 const std::string &key = "model_type");

} // namespace preflab::core
