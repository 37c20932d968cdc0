// MixtureLm: a log-linear mixture of causal language models that share one tokenizer, decoded
// token by token: logits = Σ_k λ_k log_softmax(logits_k) (MPO's π_λ ∝ Π_k π_k^λ_k, taken per
// token: the sequence-level product cannot be sampled directly). Torch header.
#pragma once

#include "core/text/causal_lm.h"

#include <string>
#include <vector>

namespace preflab::core {

class MixtureLmImpl : public CausalLmImpl {
public:
  // Components must share the vocabulary; weights are λ (>= 0, summing to 1 within 1e-6).
  // Throws InputError (key "weights" or "components") otherwise.
  MixtureLmImpl(std::vector<CausalLm> components, std::vector<double> weights);

  // (B, T) -> (B, T, V): Σ_k λ_k log_softmax(component_k(ids)), normalised log-probs.
  torch::Tensor forward(const torch::Tensor &ids) override;
  // Each component keeps its own layers in `cache` (component 0's first, then 1's, ...).
  torch::Tensor forwardCached(const torch::Tensor &ids, KvCache &cache) override;
  torch::Tensor score(const torch::Tensor &ids, const torch::Tensor &lastIndex) override; // throws

  std::int64_t blockSize() const override; // the shortest component's
  std::int64_t vocabSize() const override;
  bool hasScoreHead() const override { return false; }
  double dropout() const override { return 0.0; }
  std::string architecture() const override { return "mixture"; }
  nlohmann::json shapeJson() const override;
  CausalLm clone(double dropout = -1.0) const override;
  // Throws InputError: a mixture has no single set of weights (its folder is mixture.json).
  void exportHuggingFace(const Tokenizer &tokenizer, const std::string &dir) const override;

  const std::vector<CausalLm> &components() const { return m_components; }
  const std::vector<double> &weights() const { return m_weights; }

private:
  std::vector<CausalLm> m_components;
  std::vector<double> m_weights;
  std::vector<std::size_t> m_layers; // cache entries per component, known after the first cached call
};

// mixture.json of a mixture folder: the component folders (relative to the folder, or absolute),
// their weights and where they came from.
inline constexpr const char *kMixtureFile = "mixture.json";

// Loads dir/mixture.json's components with loadModelFolder (the tokenizer is the first one's).
// Throws InputError naming the file and key.
CausalLm loadMixtureFolder(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizer);

} // namespace preflab::core
