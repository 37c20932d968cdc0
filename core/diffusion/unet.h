// Conditional UNet predicting the noise eps of x_t, with its prompt encoder (holder idiom).
#pragma once

#include "core/diffusion/diffusion_config.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

namespace preflab::core {

// Prompt token ids: ByteTokenizer ids 0..256, then a begin id that starts every prompt (so the
// empty prompt is the one-token sequence [begin], encoded by learned weights like any other
// prompt) and a padding id that attention and pooling ignore.
constexpr std::int64_t kPromptBeginId = 257;
constexpr std::int64_t kPromptPadId = 258;
constexpr std::int64_t kPromptVocabSize = 259;

// Byte-tokenises prompts, prepends the begin id, cuts to maxLength and pads:
// -> (B, maxLength) int64 on the CPU. "" gives [begin, pad, pad, ...].
torch::Tensor tokenizePrompts(const std::vector<std::string> &prompts, std::int64_t maxLength);

// Sinusoidal embedding of (possibly fractional) timesteps, half sines then half cosines with
// frequencies 10000^(-k / (dim/2)). t: (B,) -> (B, dim) float32.
torch::Tensor timestepEmbedding(const torch::Tensor &t, std::int64_t dim);

// Token + position embeddings, textLayers post-norm transformer encoder layers with a padding
// mask, then the mean over the non-padding positions: one vector per prompt.
class TextEncoderImpl : public torch::nn::Module {
public:
  explicit TextEncoderImpl(const DiffusionConfig &config);
  // ids: (B, L) int64 from tokenizePrompts, L <= maxPromptLength -> pooled: (B, textDim)
  torch::Tensor forward(const torch::Tensor &ids);

  torch::nn::Embedding token_embedding{nullptr}, position_embedding{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm ln_final{nullptr};
};
TORCH_MODULE(TextEncoder);

// GroupNorm -> SiLU -> conv -> FiLM(embedding) -> GroupNorm -> SiLU -> dropout -> conv, plus a
// (1x1 when the width changes) skip connection.
class ResBlockImpl : public torch::nn::Module {
public:
  ResBlockImpl(std::int64_t inChannels, std::int64_t outChannels, std::int64_t embDim, std::int64_t groups,
               double dropout);
  // x: (B, Cin, H, W), emb: (B, embDim) -> (B, Cout, H, W)
  torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &emb);

  torch::nn::GroupNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, skip{nullptr};
  torch::nn::Linear emb_proj{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(ResBlock);

// The noise predictor eps_theta(x_t, t, prompt). One resolution per channelMults entry
// (28 -> 14 -> 7 by default), resBlocks residual blocks per resolution on the way down and up,
// skip connections by concatenation, two blocks in the middle.
//
// Conditioning: the pooled prompt vector is projected and added to the timestep embedding, and
// every residual block turns that sum into a per-channel scale and shift (FiLM). Prompts here
// name one of a few classes ("a photo of a sneaker"), so a single vector carries all they say;
// cross-attention over tokens would cost attention at 28x28 and 14x14 for no gain on such
// prompts, and stays the upgrade for compositional prompts.
//
// The output convolution starts at zero, so a fresh model predicts eps = 0.
// Not thread-safe: one thread drives a model at a time. Device is whatever .to() set.
class UNetImpl : public torch::nn::Module {
public:
  explicit UNetImpl(const DiffusionConfig &config);

  // ids: (B, L) -> text embedding (B, textDim)
  torch::Tensor encodePrompts(const torch::Tensor &ids);
  // x: (B, C, H, W), t: (B,) int64 or float, text: (B, textDim) -> eps: (B, C, H, W)
  torch::Tensor predict(const torch::Tensor &x, const torch::Tensor &t, const torch::Tensor &text);
  // x: (B, C, H, W), t: (B,), ids: (B, L) -> eps: (B, C, H, W)
  torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &t, const torch::Tensor &ids);

  const DiffusionConfig &config() const { return m_config; }
  torch::Device device() const;

  TextEncoder text_encoder{nullptr};
  torch::nn::Sequential time_mlp{nullptr};
  torch::nn::Linear text_proj{nullptr};
  torch::nn::Conv2d conv_in{nullptr}, conv_out{nullptr};
  torch::nn::ModuleList down{nullptr}, downsample{nullptr}, mid{nullptr}, up{nullptr}, upsample{nullptr};
  torch::nn::GroupNorm norm_out{nullptr};

private:
  DiffusionConfig m_config;
  void build();
};
TORCH_MODULE(UNet);

// A deep copy with the same parameters (a frozen reference), on the same device and mode.
UNet cloneUNet(const UNet &model);

} // namespace preflab::core
