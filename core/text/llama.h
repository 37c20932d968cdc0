// Llama-family causal language model (Llama 2/3, TinyLlama, SmolLM, Mistral, Qwen2, Qwen3):
// RMSNorm, rotary position embeddings, grouped-query attention, SwiGLU. Parameter names are
// Hugging Face's ("model.layers.0.self_attn.q_proj.weight", ...), so their folders map 1:1.
#pragma once

#include "core/text/causal_lm.h"
#include "core/text/llama_config.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace preflab::core {

// x * rsqrt(mean(x²) + eps) * weight over the last dimension, in float32.
class RmsNormImpl : public torch::nn::Module {
public:
  RmsNormImpl(std::int64_t size, double eps);
  torch::Tensor forward(const torch::Tensor &x);
  torch::Tensor weight;

private:
  double m_eps;
};
TORCH_MODULE(RmsNorm);

class LlamaAttentionImpl : public torch::nn::Module {
public:
  explicit LlamaAttentionImpl(const LlamaConfig &config);
  // x: (B, T, C); cos, sin: (T, head_dim) for the positions of x. With `k`/`v` (this layer's
  // cache, (B, kv_heads, past, head_dim) or undefined) the new keys and values are appended and
  // x attends to all of them.
  torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin,
                        torch::Tensor *k = nullptr, torch::Tensor *v = nullptr);

  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  RmsNorm q_norm{nullptr}, k_norm{nullptr}; // Qwen3 only

private:
  LlamaConfig m_config;
};
TORCH_MODULE(LlamaAttention);

class LlamaMlpImpl : public torch::nn::Module {
public:
  explicit LlamaMlpImpl(const LlamaConfig &config);
  torch::Tensor forward(const torch::Tensor &x); // down(silu(gate(x)) * up(x))
  torch::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(LlamaMlp);

class LlamaLayerImpl : public torch::nn::Module {
public:
  explicit LlamaLayerImpl(const LlamaConfig &config);
  torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin,
                        torch::Tensor *k = nullptr, torch::Tensor *v = nullptr);
  RmsNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  LlamaAttention self_attn{nullptr};
  LlamaMlp mlp{nullptr};
};
TORCH_MODULE(LlamaLayer);

// Hugging Face's LlamaModel: embeddings, layers, final norm.
class LlamaBodyImpl : public torch::nn::Module {
public:
  explicit LlamaBodyImpl(const LlamaConfig &config);
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RmsNorm norm{nullptr};
};
TORCH_MODULE(LlamaBody);

// Not thread-safe: one thread drives a model at a time. Device is whatever ->to() set. The output
// head is model.embed_tokens when the embeddings are tied, else lm_head; a reward model
// (scoreHead) has `score` instead of lm_head, and untied it gives no logits.
class LlamaImpl : public CausalLmImpl {
public:
  explicit LlamaImpl(const LlamaConfig &config); // throws InputError for an invalid config

  torch::Tensor forward(const torch::Tensor &ids) override;
  torch::Tensor forwardCached(const torch::Tensor &ids, KvCache &cache) override;
  // The score head on the final (normed) hidden state at lastIndex; throws without one.
  torch::Tensor score(const torch::Tensor &ids, const torch::Tensor &lastIndex) override;

  std::int64_t blockSize() const override { return m_config.blockSize(); }
  std::int64_t vocabSize() const override { return m_config.vocabSize; }
  bool hasScoreHead() const override { return m_config.scoreHead; }
  double dropout() const override { return m_config.dropout; }
  std::string architecture() const override { return m_config.family; }
  nlohmann::json shapeJson() const override { return toJson(m_config); }
  CausalLm clone(double dropout = -1.0) const override;
  void exportHuggingFace(const Tokenizer &tokenizer, const std::string &dir) const override;

  const LlamaConfig &config() const { return m_config; }

  LlamaBody model{nullptr};
  torch::nn::Linear lm_head{nullptr};    // untied language models only
  torch::nn::Linear score_head{nullptr}; // reward models only (scoreHead): "score", (1, hidden), no bias

private:
  torch::Tensor hiddenStates(const torch::Tensor &ids); // (B, T, C) before the final norm
  // cos, sin: (T, head_dim) for positions start..start+T-1, float32 on the model's device.
  std::pair<torch::Tensor, torch::Tensor> rotary(std::int64_t start, std::int64_t length) const;
  torch::Tensor logits(const torch::Tensor &hidden);

  LlamaConfig m_config;
  torch::Tensor m_invFreq; // (head_dim / 2,) float64, the scaled rotary frequencies
};

// A new model of `config`, initialised from LibTorch's global generator (normal(0, 0.02)
// weights, zero biases, unit norms).
CausalLm makeLlama(const LlamaConfig &config);

// Every parameter's Hugging Face name and shape for `config`, in the order named_parameters()
// gives them: what a folder's weight files must hold, known before anything is allocated.
std::vector<std::pair<std::string, std::vector<std::int64_t>>>
llamaParameterShapes(const LlamaConfig &config);

// The rotary frequencies of `config`, with its rope_scaling applied: (head_dim / 2,) float64.
torch::Tensor llamaInverseFrequencies(const LlamaConfig &config);

} // namespace preflab::core
