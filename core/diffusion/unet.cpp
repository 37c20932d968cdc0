// Conditional UNet and prompt encoder: shapes, FiLM conditioning, skip connections.
#include "core/diffusion/unet.h"

#include "core/text/tokenizer.h"

#include <torch/torch.h>

#include <cmath>

namespace preflab::core {

namespace F = torch::nn::functional;

torch::Tensor tokenizePrompts(const std::vector<std::string> &prompts, std::int64_t maxLength) {
  TORCH_CHECK(maxLength >= 1, "maxLength must be >= 1");
  const ByteTokenizer tokenizer;
  auto ids = torch::full({std::int64_t(prompts.size()), maxLength}, kPromptPadId, torch::kLong);
  auto access = ids.accessor<std::int64_t, 2>();
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const auto tokens = tokenizer.encode(prompts[i]);
    access[std::int64_t(i)][0] = kPromptBeginId;
    const auto n = std::min<std::int64_t>(std::int64_t(tokens.size()), maxLength - 1);
    for (std::int64_t k = 0; k < n; ++k)
      access[std::int64_t(i)][k + 1] = tokens[std::size_t(k)];
  }
  return ids;
}

torch::Tensor timestepEmbedding(const torch::Tensor &t, std::int64_t dim) {
  TORCH_CHECK(t.dim() == 1, "timestepEmbedding: t must be (B,)");
  const auto half = dim / 2;
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(t.device());
  // freqs: (half,), args: (B, half)
  const auto freqs = torch::exp(-std::log(10000.0) * torch::arange(half, options) / double(half));
  const auto args = t.to(torch::kFloat32).unsqueeze(1) * freqs.unsqueeze(0);
  auto emb = torch::cat({args.sin(), args.cos()}, 1);
  if (dim % 2 == 1)
    emb = F::pad(emb, F::PadFuncOptions({0, 1}));
  return emb;
}

// ---------------------------------------------------------------------------------------------

TextEncoderImpl::TextEncoderImpl(const DiffusionConfig &c) {
  token_embedding = register_module("token_embedding", torch::nn::Embedding(kPromptVocabSize, c.textDim));
  position_embedding =
      register_module("position_embedding", torch::nn::Embedding(c.maxPromptLength, c.textDim));
  layers = register_module("layers", torch::nn::ModuleList());
  for (std::int64_t l = 0; l < c.textLayers; ++l)
    layers->push_back(
        torch::nn::TransformerEncoderLayer(torch::nn::TransformerEncoderLayerOptions(c.textDim, c.textHeads)
                                               .dim_feedforward(2 * c.textDim)
                                               .dropout(0.0)
                                               .activation(torch::kGELU)));
  ln_final = register_module("ln_final", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.textDim})));
  torch::NoGradGuard noGrad;
  token_embedding->weight.normal_(0.0, 0.02);
  position_embedding->weight.normal_(0.0, 0.02);
}

torch::Tensor TextEncoderImpl::forward(const torch::Tensor &ids) {
  TORCH_CHECK(ids.dim() == 2 && ids.size(1) <= position_embedding->weight.size(0),
              "prompt ids must be (B, L) with L <= max_prompt_length");
  const auto L = ids.size(1);
  const auto pad = ids.eq(kPromptPadId); // (B, L), true where ignored; position 0 is never padding
  auto h = token_embedding(ids) + position_embedding(torch::arange(L, ids.options())).unsqueeze(0);
  // The encoder layers take (L, B, D).
  h = h.transpose(0, 1);
  for (const auto &layer : *layers)
    h = layer->as<torch::nn::TransformerEncoderLayer>()->forward(h, {}, pad);
  h = ln_final(h.transpose(0, 1));                                // (B, L, D)
  const auto keep = pad.logical_not().unsqueeze(2).to(h.dtype()); // (B, L, 1)
  return (h * keep).sum(1) / keep.sum(1);                         // (B, D)
}

// ---------------------------------------------------------------------------------------------

ResBlockImpl::ResBlockImpl(std::int64_t inChannels, std::int64_t outChannels, std::int64_t embDim,
                           std::int64_t groups, double dropout) {
  auto conv3 = [](std::int64_t in, std::int64_t out) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1));
  };
  norm1 = register_module("norm1", torch::nn::GroupNorm(groups, inChannels));
  conv1 = register_module("conv1", conv3(inChannels, outChannels));
  emb_proj = register_module("emb_proj", torch::nn::Linear(embDim, 2 * outChannels));
  norm2 = register_module("norm2", torch::nn::GroupNorm(groups, outChannels));
  drop = register_module("drop", torch::nn::Dropout(dropout));
  conv2 = register_module("conv2", conv3(outChannels, outChannels));
  if (inChannels != outChannels)
    skip = register_module("skip", torch::nn::Conv2d(torch::nn::Conv2dOptions(inChannels, outChannels, 1)));
}

torch::Tensor ResBlockImpl::forward(const torch::Tensor &x, const torch::Tensor &emb) {
  auto h = conv1(torch::silu(norm1(x))); // (B, Cout, H, W)
  // FiLM: scale and shift per channel from the time + text embedding; (B, 2 Cout) -> 2 x (B, Cout, 1, 1)
  const auto film = emb_proj(torch::silu(emb)).unsqueeze(2).unsqueeze(3).chunk(2, 1);
  h = norm2(h) * (1.0 + film[0]) + film[1];
  h = conv2(drop(torch::silu(h)));
  return (skip ? skip(x) : x) + h;
}

// ---------------------------------------------------------------------------------------------

UNetImpl::UNetImpl(const DiffusionConfig &config) : m_config(config) {
  m_config.validate();
  build();
}

void UNetImpl::build() {
  const auto &c = m_config;
  const auto embDim = 4 * c.baseChannels;
  auto conv3 = [](std::int64_t in, std::int64_t out, std::int64_t stride = 1) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).stride(stride));
  };
  text_encoder = register_module("text_encoder", TextEncoder(c));
  time_mlp = register_module("time_mlp",
                             torch::nn::Sequential(torch::nn::Linear(c.baseChannels, embDim),
                                                   torch::nn::SiLU(), torch::nn::Linear(embDim, embDim)));
  text_proj = register_module("text_proj", torch::nn::Linear(c.textDim, embDim));
  conv_in = register_module("conv_in", conv3(c.channels, c.baseChannels));
  down = register_module("down", torch::nn::ModuleList());
  downsample = register_module("downsample", torch::nn::ModuleList());
  up = register_module("up", torch::nn::ModuleList());
  upsample = register_module("upsample", torch::nn::ModuleList());
  mid = register_module("mid", torch::nn::ModuleList());
  const auto levels = std::int64_t(c.channelMults.size());
  std::int64_t width = c.baseChannels;
  for (std::int64_t l = 0; l < levels; ++l) {
    const auto out = c.baseChannels * c.channelMults[std::size_t(l)];
    for (std::int64_t r = 0; r < c.resBlocks; ++r, width = out)
      down->push_back(ResBlock(width, out, embDim, c.groups, c.dropout));
    if (l + 1 < levels)
      downsample->push_back(conv3(width, width, 2));
  }
  mid->push_back(ResBlock(width, width, embDim, c.groups, c.dropout));
  mid->push_back(ResBlock(width, width, embDim, c.groups, c.dropout));
  for (std::int64_t l = levels - 1; l >= 0; --l) {
    const auto out = c.baseChannels * c.channelMults[std::size_t(l)];
    for (std::int64_t r = 0; r < c.resBlocks; ++r, width = out) // the first block also takes the skip
      up->push_back(ResBlock(r == 0 ? width + out : width, out, embDim, c.groups, c.dropout));
    if (l > 0)
      upsample->push_back(conv3(width, width));
  }
  norm_out = register_module("norm_out", torch::nn::GroupNorm(c.groups, width));
  conv_out = register_module("conv_out", conv3(width, c.channels));
  torch::NoGradGuard noGrad;
  conv_out->weight.zero_();
  conv_out->bias.zero_();
}

torch::Tensor UNetImpl::encodePrompts(const torch::Tensor &ids) {
  return text_encoder(ids);
}

torch::Tensor UNetImpl::predict(const torch::Tensor &x, const torch::Tensor &t, const torch::Tensor &text) {
  const auto &c = m_config;
  TORCH_CHECK(x.dim() == 4 && x.size(1) == c.channels && x.size(2) == c.imageSize && x.size(3) == c.imageSize,
              "UNet input must be (B, ", c.channels, ", ", c.imageSize, ", ", c.imageSize, ")");
  TORCH_CHECK(t.dim() == 1 && t.size(0) == x.size(0) && text.size(0) == x.size(0),
              "UNet: batch sizes differ");
  // emb: (B, 4 base)
  const auto emb = time_mlp->forward(timestepEmbedding(t, c.baseChannels)) + text_proj(text);
  const auto levels = std::int64_t(c.channelMults.size());
  auto h = conv_in(x);
  std::vector<torch::Tensor> skips; // one per resolution, (B, base * mult_l, H_l, W_l)
  std::size_t block = 0;
  for (std::int64_t l = 0; l < levels; ++l) {
    for (std::int64_t r = 0; r < c.resBlocks; ++r)
      h = down[block++]->as<ResBlock>()->forward(h, emb);
    skips.push_back(h);
    if (l + 1 < levels)
      h = downsample[std::size_t(l)]->as<torch::nn::Conv2d>()->forward(h);
  }
  for (const auto &m : *mid)
    h = m->as<ResBlock>()->forward(h, emb);
  block = 0;
  for (std::int64_t l = levels - 1; l >= 0; --l) {
    h = torch::cat({h, skips[std::size_t(l)]}, 1);
    for (std::int64_t r = 0; r < c.resBlocks; ++r)
      h = up[block++]->as<ResBlock>()->forward(h, emb);
    if (l > 0) { // the convolution runs before the nearest-neighbour doubling: a quarter of the cost
      h = upsample[std::size_t(levels - 1 - l)]->as<torch::nn::Conv2d>()->forward(h);
      h = F::interpolate(
          h, F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest));
    }
  }
  return conv_out(torch::silu(norm_out(h)));
}

torch::Tensor UNetImpl::forward(const torch::Tensor &x, const torch::Tensor &t, const torch::Tensor &ids) {
  return predict(x, t, encodePrompts(ids));
}

torch::Device UNetImpl::device() const {
  const auto params = parameters();
  return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
}

UNet cloneUNet(const UNet &model) {
  UNet copy(model->config());
  torch::NoGradGuard noGrad;
  copy->to(model->device());
  auto src = model->named_parameters();
  for (auto &item : copy->named_parameters())
    item.value().copy_(src[item.key()]);
  copy->train(model->is_training());
  return copy;
}

} // namespace preflab::core
