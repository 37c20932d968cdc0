// GPT-2-architecture causal language model (holder idiom), parameter names as in Hugging Face GPT-2:
// one implementation of CausalLmImpl (registered as "gpt2" in causal_lm_registry.cpp).
#pragma once

#include "core/text/causal_lm.h"
#include "core/text/gpt_config.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

namespace preflab::core {

// Multi-head causal self-attention. c_attn packs q, k, v; c_proj mixes heads.
class CausalSelfAttentionImpl : public torch::nn::Module {
public:
  explicit CausalSelfAttentionImpl(const GptConfig &config);
  // x: (B, T, C) -> (B, T, C)
  torch::Tensor forward(const torch::Tensor &x);
  // x: (B, T_new, C) at positions past..past+T_new-1; appends to (k, v) of this layer.
  torch::Tensor forwardCached(const torch::Tensor &x, torch::Tensor &k, torch::Tensor &v);

  torch::nn::Linear c_attn{nullptr}, c_proj{nullptr};

private:
  std::int64_t m_nHead;
  double m_dropout;
};
TORCH_MODULE(CausalSelfAttention);

class MlpImpl : public torch::nn::Module {
public:
  explicit MlpImpl(const GptConfig &config);
  torch::Tensor forward(const torch::Tensor &x); // (B, T, C) -> (B, T, C)

  torch::nn::Linear c_fc{nullptr}, c_proj{nullptr};
};
TORCH_MODULE(Mlp);

class BlockImpl : public torch::nn::Module {
public:
  explicit BlockImpl(const GptConfig &config);
  torch::Tensor forward(const torch::Tensor &x); // pre-norm residual block
  torch::Tensor forwardCached(const torch::Tensor &x, torch::Tensor &k, torch::Tensor &v);

  torch::nn::LayerNorm ln_1{nullptr}, ln_2{nullptr};
  CausalSelfAttention attn{nullptr};
  Mlp mlp{nullptr};
};
TORCH_MODULE(Block);

// The language model. The output projection is tied to wte, as in GPT-2. Parameter names
// ("wte.weight", "h.0.attn.c_attn.weight", ...) match Hugging Face's GPT2Model; our Linear
// weights are [out, in] where GPT-2's Conv1D stores [in, out] (see hf_gpt2.h).
// Not thread-safe: one thread drives a model at a time. Device is whatever .to() set.
class GptImpl : public CausalLmImpl {
public:
  explicit GptImpl(const GptConfig &config);

  // idx: (B, T) int64 with T <= blockSize -> hidden states after ln_f: (B, T, C)
  torch::Tensor hidden(const torch::Tensor &idx);
  // idx: (B, T) -> logits (B, T, V)
  torch::Tensor forward(const torch::Tensor &idx) override;
  // Incremental decoding: idx (B, T_new) continues the sequences held in `cache` (empty for
  // the first call) -> logits (B, T_new, V). cache.length + T_new must not exceed blockSize.
  // Use under no-grad; the cache grows by T_new positions.
  torch::Tensor forwardCached(const torch::Tensor &idx, KvCache &cache) override;
  // Scalar score per row from the hidden state at `lastIndex` (B,) -> (B,). Needs scoreHead.
  torch::Tensor score(const torch::Tensor &idx, const torch::Tensor &lastIndex) override;

  std::int64_t blockSize() const override { return m_config.blockSize; }
  std::int64_t vocabSize() const override { return m_config.vocabSize; }
  bool hasScoreHead() const override { return m_config.scoreHead; }
  double dropout() const override { return m_config.dropout; }
  std::string architecture() const override { return "gpt2"; }
  nlohmann::json shapeJson() const override { return toJson(m_config); }
  CausalLm clone(double dropout = -1.0) const override;
  void exportHuggingFace(const Tokenizer &tokenizer, const std::string &dir) const override;

  const GptConfig &config() const { return m_config; }

  torch::nn::Embedding wte{nullptr}, wpe{nullptr};
  torch::nn::ModuleList h{nullptr};
  torch::nn::LayerNorm ln_f{nullptr};
  torch::nn::Linear score_head{nullptr}; // only when config.scoreHead
  torch::nn::Dropout drop{nullptr};

private:
  GptConfig m_config;
  void initWeights();
};
// The holder (as TORCH_MODULE(Gpt) would declare it), which also converts to the CausalLm it is.
class Gpt : public torch::nn::ModuleHolder<GptImpl> {
public:
  using torch::nn::ModuleHolder<GptImpl>::ModuleHolder;
  using Impl = GptImpl;
  operator CausalLm() const { return ptr(); } // shares the module
};

// GptImpl::clone as a Gpt: a deep copy with the same parameters (for a frozen reference), on the
// same device. With `dropout` >= 0 the copy uses that dropout rate instead of the model's.
Gpt cloneGpt(const Gpt &model, double dropout = -1.0);

// A new GPT-2-architecture model of `config` (initialised from LibTorch's global generator).
CausalLm makeGpt(const GptConfig &config);

} // namespace preflab::core
