// Llama-family model: RMSNorm, rotate-half rotary embeddings with linear / llama3 rescaling,
// grouped-query attention (KV heads expanded, not copied per query head), SwiGLU MLP.
#include "core/text/llama.h"

#include "core/io/input_error.h"
#include "core/text/hf_llama.h"
#include "core/text/lora.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>

namespace preflab::core {

namespace {

torch::Tensor applyLinear(const torch::nn::Linear &layer, const torch::Tensor &x) {
  return adaptedLinear(layer, x);
}

torch::nn::Linear makeLinear(std::int64_t in, std::int64_t out, bool bias) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

// x: (B, heads, T, head_dim) rotated by the angles in cos, sin: (T, head_dim).
torch::Tensor rotate(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin) {
  const auto half = x.size(-1) / 2;
  const auto rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

} // namespace

RmsNormImpl::RmsNormImpl(std::int64_t size, double eps) : m_eps(eps) {
  weight = register_parameter("weight", torch::ones({size}));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor &x) {
  const auto xf = x.to(torch::kFloat32);
  return weight * (xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + m_eps)).to(x.scalar_type());
}

LlamaAttentionImpl::LlamaAttentionImpl(const LlamaConfig &c) : m_config(c) {
  const auto q = c.nHead * c.headDim, kv = c.nKvHead * c.headDim;
  q_proj = register_module("q_proj", makeLinear(c.hiddenSize, q, c.qkvBias));
  k_proj = register_module("k_proj", makeLinear(c.hiddenSize, kv, c.qkvBias));
  v_proj = register_module("v_proj", makeLinear(c.hiddenSize, kv, c.qkvBias));
  o_proj = register_module("o_proj", makeLinear(q, c.hiddenSize, c.oBias));
  if (c.qkNorm) {
    q_norm = register_module("q_norm", RmsNorm(c.headDim, c.rmsNormEps));
    k_norm = register_module("k_norm", RmsNorm(c.headDim, c.rmsNormEps));
  }
}

torch::Tensor LlamaAttentionImpl::forward(const torch::Tensor &x, const torch::Tensor &cos,
                                          const torch::Tensor &sin, torch::Tensor *kCache,
                                          torch::Tensor *vCache) {
  const auto B = x.size(0), T = x.size(1);
  const auto nh = m_config.nHead, nkv = m_config.nKvHead, hd = m_config.headDim;
  auto q = applyLinear(q_proj, x).view({B, T, nh, hd});
  auto k = applyLinear(k_proj, x).view({B, T, nkv, hd});
  auto v = applyLinear(v_proj, x).view({B, T, nkv, hd}).transpose(1, 2); // (B, nkv, T, hd)
  if (m_config.qkNorm) {
    q = q_norm(q);
    k = k_norm(k);
  }
  q = rotate(q.transpose(1, 2), cos, sin); // (B, nh, T, hd)
  k = rotate(k.transpose(1, 2), cos, sin); // (B, nkv, T, hd)
  std::int64_t past = 0;
  if (kCache) {
    past = kCache->defined() ? kCache->size(2) : 0;
    if (past) {
      k = torch::cat({*kCache, k}, 2);
      v = torch::cat({*vCache, v}, 2);
    }
    *kCache = k;
    *vCache = v;
  }
  const auto S = past + T;
  if (nh != nkv) { // each KV head serves nh / nkv consecutive query heads
    const auto rep = nh / nkv;
    k = k.unsqueeze(2).expand({B, nkv, rep, S, hd}).reshape({B, nh, S, hd});
    v = v.unsqueeze(2).expand({B, nkv, rep, S, hd}).reshape({B, nh, S, hd});
  }
  const double p = is_training() ? m_config.dropout : 0.0;
  torch::Tensor y;
#if TORCH_VERSION_MAJOR >= 2
  if (past == 0)
    y = at::scaled_dot_product_attention(q, k, v, {}, p, /*is_causal=*/true);
#endif
  if (!y.defined()) {
    auto att = torch::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(double(hd))); // (B, nh, T, S)
    if (T > 1) { // query i sits at position past + i and sees keys 0..past + i
      auto mask = torch::ones({T, S}, x.options().dtype(torch::kBool)).triu(past + 1);
      att = att.masked_fill(mask, -std::numeric_limits<float>::infinity());
    }
    att = torch::softmax(att, -1);
    if (p > 0.0)
      att = torch::dropout(att, p, true);
    y = torch::matmul(att, v);
  }
  return applyLinear(o_proj, y.transpose(1, 2).contiguous().view({B, T, nh * hd}));
}

LlamaMlpImpl::LlamaMlpImpl(const LlamaConfig &c) {
  gate_proj = register_module("gate_proj", makeLinear(c.hiddenSize, c.intermediateSize, c.mlpBias));
  up_proj = register_module("up_proj", makeLinear(c.hiddenSize, c.intermediateSize, c.mlpBias));
  down_proj = register_module("down_proj", makeLinear(c.intermediateSize, c.hiddenSize, c.mlpBias));
}

torch::Tensor LlamaMlpImpl::forward(const torch::Tensor &x) {
  return applyLinear(down_proj, torch::silu(applyLinear(gate_proj, x)) * applyLinear(up_proj, x));
}

LlamaLayerImpl::LlamaLayerImpl(const LlamaConfig &c) {
  input_layernorm = register_module("input_layernorm", RmsNorm(c.hiddenSize, c.rmsNormEps));
  self_attn = register_module("self_attn", LlamaAttention(c));
  post_attention_layernorm = register_module("post_attention_layernorm", RmsNorm(c.hiddenSize, c.rmsNormEps));
  mlp = register_module("mlp", LlamaMlp(c));
}

torch::Tensor LlamaLayerImpl::forward(const torch::Tensor &x, const torch::Tensor &cos,
                                      const torch::Tensor &sin, torch::Tensor *k, torch::Tensor *v) {
  auto y = x + self_attn->forward(input_layernorm(x), cos, sin, k, v);
  return y + mlp(post_attention_layernorm(y));
}

LlamaBodyImpl::LlamaBodyImpl(const LlamaConfig &c) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocabSize, c.hiddenSize));
  layers = register_module("layers", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.nLayer; ++i)
    layers->push_back(LlamaLayer(c));
  norm = register_module("norm", RmsNorm(c.hiddenSize, c.rmsNormEps));
}

torch::Tensor llamaInverseFrequencies(const LlamaConfig &c) {
  const auto d = double(c.headDim);
  auto f = 1.0 / torch::pow(c.ropeTheta, torch::arange(0, c.headDim, 2, torch::kFloat64) / d);
  if (c.ropeScaling == RopeScaling::Linear)
    return f / c.ropeFactor;
  if (c.ropeScaling != RopeScaling::Llama3)
    return f;
  // Llama 3.1's rescaling: long wavelengths divided by the factor, short ones kept, a linear
  // blend in between.
  const double old = double(c.ropeOriginalMaxPositions);
  const double lowWavelen = old / c.ropeLowFreqFactor, highWavelen = old / c.ropeHighFreqFactor;
  auto acc = f.accessor<double, 1>();
  for (std::int64_t i = 0; i < f.size(0); ++i) {
    const double freq = acc[i], wavelen = 2.0 * M_PI / freq;
    if (wavelen < highWavelen)
      continue;
    if (wavelen > lowWavelen) {
      acc[i] = freq / c.ropeFactor;
    } else {
      const double smooth =
          (old / wavelen - c.ropeLowFreqFactor) / (c.ropeHighFreqFactor - c.ropeLowFreqFactor);
      acc[i] = (1.0 - smooth) * freq / c.ropeFactor + smooth * freq;
    }
  }
  return f;
}

LlamaImpl::LlamaImpl(const LlamaConfig &config) : m_config(config) {
  config.validate();
  model = register_module("model", LlamaBody(config));
  if (!config.tieEmbeddings && !config.scoreHead)
    lm_head = register_module("lm_head", makeLinear(config.hiddenSize, config.vocabSize, false));
  if (config.scoreHead)
    score_head = register_module("score", makeLinear(config.hiddenSize, 1, false));
  m_invFreq = llamaInverseFrequencies(config);
  torch::NoGradGuard noGrad;
  for (auto &item : named_parameters()) {
    const auto &name = item.key();
    auto &p = item.value();
    if (name.find("norm.weight") != std::string::npos)
      p.fill_(1.0);
    else if (name.size() > 4 && name.compare(name.size() - 4, 4, "bias") == 0)
      p.zero_();
    else
      p.normal_(0.0, 0.02);
  }
}

std::pair<torch::Tensor, torch::Tensor> LlamaImpl::rotary(std::int64_t start, std::int64_t length) const {
  const auto positions = torch::arange(start, start + length, torch::kFloat64);
  const auto freqs = torch::outer(positions, m_invFreq); // (T, head_dim / 2)
  const auto angles = torch::cat({freqs, freqs}, -1);    // (T, head_dim)
  const auto options =
      torch::TensorOptions().dtype(torch::kFloat32).device(model->embed_tokens->weight.device());
  return {angles.cos().to(options), angles.sin().to(options)};
}

torch::Tensor LlamaImpl::logits(const torch::Tensor &hidden) {
  TORCH_CHECK(m_config.tieEmbeddings || !lm_head.is_empty(), "this ", m_config.family,
              " reward model has a score head and no language-model head: it scores, it does not "
              "give token logits");
  const auto &head = lm_head.is_empty() ? model->embed_tokens->weight : lm_head->weight;
  return torch::matmul(model->norm(hidden), head.t()); // (B, T, C) x (C, V)
}

torch::Tensor LlamaImpl::hiddenStates(const torch::Tensor &ids) {
  const auto T = ids.size(1);
  TORCH_CHECK(T <= blockSize(), "sequence length ", T, " exceeds the model's ", blockSize(), " positions");
  const auto [cos, sin] = rotary(0, T);
  auto x = model->embed_tokens(ids);
  for (auto &layer : *model->layers)
    x = layer->as<LlamaLayer>()->forward(x, cos, sin);
  return x;
}

torch::Tensor LlamaImpl::forward(const torch::Tensor &ids) {
  return logits(hiddenStates(ids));
}

torch::Tensor LlamaImpl::forwardCached(const torch::Tensor &ids, KvCache &cache) {
  const auto T = ids.size(1);
  TORCH_CHECK(cache.length + T <= blockSize(), "cached decoding past the model's ", blockSize(),
              " positions");
  if (cache.keys.empty()) {
    cache.keys.resize(std::size_t(m_config.nLayer));
    cache.values.resize(std::size_t(m_config.nLayer));
  }
  const auto [cos, sin] = rotary(cache.length, T);
  auto x = model->embed_tokens(ids);
  std::size_t i = 0;
  for (auto &layer : *model->layers) {
    x = layer->as<LlamaLayer>()->forward(x, cos, sin, &cache.keys[i], &cache.values[i]);
    ++i;
  }
  cache.length += T;
  return logits(x);
}

torch::Tensor LlamaImpl::score(const torch::Tensor &ids, const torch::Tensor &lastIndex) {
  TORCH_CHECK(!score_head.is_empty(), "this ", m_config.family,
              " model has no score head (not a reward model)");
  const auto rows = torch::arange(ids.size(0), lastIndex.options());
  const auto last = hiddenStates(ids).index({rows, lastIndex});  // (B, C)
  return applyLinear(score_head, model->norm(last)).squeeze(-1); // (B,)
}

CausalLm LlamaImpl::clone(double dropout) const {
  LlamaConfig shape = m_config;
  if (dropout >= 0.0)
    shape.dropout = dropout;
  auto copy = std::make_shared<LlamaImpl>(shape);
  torch::NoGradGuard noGrad;
  auto src = named_parameters();
  const auto device = src.size() ? src.begin()->value().device() : torch::Device(torch::kCPU);
  copy->to(device);
  for (auto &item : copy->named_parameters())
    item.value().copy_(src[item.key()]);
  copyLoraAdapters(*this, *copy, dropout);
  copy->train(is_training());
  return copy;
}

void LlamaImpl::exportHuggingFace(const Tokenizer &tokenizer, const std::string &dir) const {
  exportHfLlama(*this, tokenizer, dir);
}

std::vector<std::pair<std::string, std::vector<std::int64_t>>> llamaParameterShapes(const LlamaConfig &c) {
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> out;
  const auto h = c.hiddenSize, q = c.nHead * c.headDim, kv = c.nKvHead * c.headDim, i = c.intermediateSize;
  out.push_back({"model.embed_tokens.weight", {c.vocabSize, h}});
  for (std::int64_t l = 0; l < c.nLayer; ++l) {
    const auto p = "model.layers." + std::to_string(l) + ".";
    out.push_back({p + "input_layernorm.weight", {h}});
    auto projection = [&](const std::string &name, std::int64_t outSize, std::int64_t inSize, bool bias) {
      out.push_back({p + name + ".weight", {outSize, inSize}});
      if (bias)
        out.push_back({p + name + ".bias", {outSize}});
    };
    projection("self_attn.q_proj", q, h, c.qkvBias);
    projection("self_attn.k_proj", kv, h, c.qkvBias);
    projection("self_attn.v_proj", kv, h, c.qkvBias);
    projection("self_attn.o_proj", h, q, c.oBias);
    if (c.qkNorm) {
      out.push_back({p + "self_attn.q_norm.weight", {c.headDim}});
      out.push_back({p + "self_attn.k_norm.weight", {c.headDim}});
    }
    out.push_back({p + "post_attention_layernorm.weight", {h}});
    projection("mlp.gate_proj", i, h, c.mlpBias);
    projection("mlp.up_proj", i, h, c.mlpBias);
    projection("mlp.down_proj", h, i, c.mlpBias);
  }
  out.push_back({"model.norm.weight", {h}});
  if (!c.tieEmbeddings && !c.scoreHead)
    out.push_back({"lm_head.weight", {c.vocabSize, h}});
  if (c.scoreHead)
    out.push_back({"score.weight", {1, h}});
  return out;
}

CausalLm makeLlama(const LlamaConfig &config) {
  return std::make_shared<LlamaImpl>(config);
}

} // namespace preflab::core
