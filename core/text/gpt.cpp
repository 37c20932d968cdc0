// GPT-2-architecture model: attention, MLP, blocks, tied LM head, optional score head.
#include "core/text/gpt.h"

#include "core/text/hf_gpt2.h"
#include "core/text/lora.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>

namespace preflab::core {

namespace {

// y = x·Wᵀ + b through ATen's linear (LibTorch 1.13's Linear::forward takes matmul plus a
// separate bias add for 3-D input, where at::linear folds the bias into one addmm), plus the
// projection's LoRA adapter when it has one.
torch::Tensor linear(const torch::nn::Linear &layer, const torch::Tensor &x) {
  return adaptedLinear(layer, x);
}

} // namespace

CausalSelfAttentionImpl::CausalSelfAttentionImpl(const GptConfig &config)
    : m_nHead(config.nHead), m_dropout(config.dropout) {
  c_attn = register_module("c_attn", torch::nn::Linear(config.nEmbd, 3 * config.nEmbd));
  c_proj = register_module("c_proj", torch::nn::Linear(config.nEmbd, config.nEmbd));
}

torch::Tensor CausalSelfAttentionImpl::forward(const torch::Tensor &x) {
  const auto B = x.size(0), T = x.size(1), C = x.size(2);
  const auto hd = C / m_nHead;
  auto qkv = linear(c_attn, x).split(C, /*dim=*/2);
  // (B, T, C) -> (B, nh, T, hd)
  auto q = qkv[0].view({B, T, m_nHead, hd}).transpose(1, 2);
  auto k = qkv[1].view({B, T, m_nHead, hd}).transpose(1, 2);
  auto v = qkv[2].view({B, T, m_nHead, hd}).transpose(1, 2);
  const double p = is_training() ? m_dropout : 0.0;
#if TORCH_VERSION_MAJOR >= 2
  auto y = at::scaled_dot_product_attention(q, k, v, {}, p, /*is_causal=*/true);
#else
  // LibTorch 1.x has no fused attention: explicit (B, nh, T, T) scores with a causal mask.
  auto att = torch::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(double(hd)));
  auto mask = torch::ones({T, T}, x.options().dtype(torch::kBool)).triu(1);
  att = att.masked_fill(mask, -std::numeric_limits<float>::infinity());
  att = torch::softmax(att, -1);
  if (p > 0.0)
    att = torch::dropout(att, p, true);
  auto y = torch::matmul(att, v);
#endif
  y = y.transpose(1, 2).contiguous().view({B, T, C});
  y = linear(c_proj, y);
  return p > 0.0 ? torch::dropout(y, p, true) : y;
}

torch::Tensor CausalSelfAttentionImpl::forwardCached(const torch::Tensor &x, torch::Tensor &k, torch::Tensor &v) {
  const auto B = x.size(0), T = x.size(1), C = x.size(2);
  const auto hd = C / m_nHead;
  auto qkv = linear(c_attn, x).split(C, 2);
  auto q = qkv[0].view({B, T, m_nHead, hd}).transpose(1, 2);
  auto kNew = qkv[1].view({B, T, m_nHead, hd}).transpose(1, 2);
  auto vNew = qkv[2].view({B, T, m_nHead, hd}).transpose(1, 2);
  const auto past = k.defined() ? k.size(2) : 0;
  k = past ? torch::cat({k, kNew}, 2) : kNew; // (B, nh, past+T, hd)
  v = past ? torch::cat({v, vNew}, 2) : vNew;
  auto att = torch::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(double(hd))); // (B, nh, T, past+T)
  if (T > 1) { // query i sits at position past+i and sees keys 0..past+i
    auto mask = torch::ones({T, past + T}, x.options().dtype(torch::kBool)).triu(past + 1);
    att = att.masked_fill(mask, -std::numeric_limits<float>::infinity());
  }
  auto y = torch::matmul(torch::softmax(att, -1), v);
  return linear(c_proj, y.transpose(1, 2).contiguous().view({B, T, C}));
}

MlpImpl::MlpImpl(const GptConfig &config) {
  c_fc = register_module("c_fc", torch::nn::Linear(config.nEmbd, 4 * config.nEmbd));
  c_proj = register_module("c_proj", torch::nn::Linear(4 * config.nEmbd, config.nEmbd));
}

torch::Tensor MlpImpl::forward(const torch::Tensor &x) {
  // GPT-2 uses the tanh approximation of GELU ("gelu_new").
  return linear(c_proj, torch::gelu(linear(c_fc, x), "tanh"));
}

BlockImpl::BlockImpl(const GptConfig &config) {
  ln_1 = register_module("ln_1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.nEmbd}).eps(1e-5)));
  attn = register_module("attn", CausalSelfAttention(config));
  ln_2 = register_module("ln_2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.nEmbd}).eps(1e-5)));
  mlp = register_module("mlp", Mlp(config));
}

torch::Tensor BlockImpl::forward(const torch::Tensor &x) {
  auto y = x + attn(ln_1(x));
  return y + mlp(ln_2(y));
}

torch::Tensor BlockImpl::forwardCached(const torch::Tensor &x, torch::Tensor &k, torch::Tensor &v) {
  auto y = x + attn->forwardCached(ln_1(x), k, v);
  return y + mlp(ln_2(y));
}

GptImpl::GptImpl(const GptConfig &config) : m_config(config) {
  config.validate();
  wte = register_module("wte", torch::nn::Embedding(config.vocabSize, config.nEmbd));
  wpe = register_module("wpe", torch::nn::Embedding(config.blockSize, config.nEmbd));
  drop = register_module("drop", torch::nn::Dropout(config.dropout));
  h = register_module("h", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < config.nLayer; ++i)
    h->push_back(Block(config));
  ln_f = register_module("ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.nEmbd}).eps(1e-5)));
  if (config.scoreHead)
    score_head = register_module(
        "score_head", torch::nn::Linear(torch::nn::LinearOptions(config.nEmbd, 1).bias(false)));
  initWeights();
}

void GptImpl::initWeights() {
  torch::NoGradGuard noGrad;
  const double projStd = 0.02 / std::sqrt(2.0 * double(m_config.nLayer));
  for (auto &item : named_parameters()) {
    const std::string &name = item.key();
    auto &p = item.value();
    if (name.find("ln_") != std::string::npos)
      (name.size() > 6 && name.substr(name.size() - 6) == "weight") ? p.fill_(1.0) : p.zero_();
    else if (name.substr(name.size() - 4) == "bias")
      p.zero_();
    else if (name.find("c_proj.weight") != std::string::npos)
      p.normal_(0.0, projStd);
    else
      p.normal_(0.0, 0.02);
  }
}

torch::Tensor GptImpl::hidden(const torch::Tensor &idx) {
  const auto T = idx.size(1);
  TORCH_CHECK(T <= m_config.blockSize, "sequence length ", T, " exceeds block_size ",
              m_config.blockSize);
  auto pos = torch::arange(T, idx.options().dtype(torch::kLong));
  auto x = drop(wte(idx) + wpe(pos)); // (B, T, C)
  for (auto &block : *h)
    x = block->as<Block>()->forward(x);
  return ln_f(x);
}

torch::Tensor GptImpl::forward(const torch::Tensor &idx) {
  // Tied output projection: logits = h · wteᵀ, (B, T, C) x (C, V)
  return torch::matmul(hidden(idx), wte->weight.t());
}

torch::Tensor GptImpl::forwardCached(const torch::Tensor &idx, KvCache &cache) {
  const auto T = idx.size(1);
  TORCH_CHECK(cache.length + T <= m_config.blockSize, "cached decoding past block_size ", m_config.blockSize);
  if (cache.keys.empty()) {
    cache.keys.resize(std::size_t(m_config.nLayer));
    cache.values.resize(std::size_t(m_config.nLayer));
  }
  auto pos = torch::arange(cache.length, cache.length + T, idx.options().dtype(torch::kLong));
  auto x = wte(idx) + wpe(pos);
  std::size_t layer = 0;
  for (auto &block : *h) {
    x = block->as<Block>()->forwardCached(x, cache.keys[layer], cache.values[layer]);
    ++layer;
  }
  cache.length += T;
  return torch::matmul(ln_f(x), wte->weight.t());
}

torch::Tensor GptImpl::score(const torch::Tensor &idx, const torch::Tensor &lastIndex) {
  TORCH_CHECK(!score_head.is_empty(), "model has no score head (score_head: false)");
  auto hs = hidden(idx);                                      // (B, T, C)
  auto rows = torch::arange(hs.size(0), lastIndex.options()); // (B,)
  return score_head(hs.index({rows, lastIndex})).squeeze(-1); // (B,)
}

CausalLm makeGpt(const GptConfig &config) {
  return Gpt(config).ptr();
}

CausalLm GptImpl::clone(double dropout) const {
  GptConfig shape = m_config;
  if (dropout >= 0.0)
    shape.dropout = dropout;
  Gpt copy(shape);
  torch::NoGradGuard noGrad;
  auto src = named_parameters();
  auto device = src.size() ? src.begin()->value().device() : torch::Device(torch::kCPU);
  copy->to(device);
  for (auto &item : copy->named_parameters())
    item.value().copy_(src[item.key()]);
  copyLoraAdapters(*this, *copy, dropout);
  copy->train(is_training());
  return copy.ptr();
}

void GptImpl::exportHuggingFace(const Tokenizer &tokenizer, const std::string &dir) const {
  exportHfGpt2(*this, tokenizer, dir);
}

Gpt cloneGpt(const Gpt &model, double dropout) {
  return Gpt(std::static_pointer_cast<GptImpl>(model->clone(dropout)));
}

} // namespace preflab::core
