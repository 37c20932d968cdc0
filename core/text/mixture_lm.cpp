// MixtureLm: per-token log-linear mixing of several causal LMs.
#include "core/text/mixture_lm.h"

#include "core/io/input_error.h"
#include "core/io/json_file.h"
#include "core/text/model_store.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace preflab::core {

MixtureLmImpl::MixtureLmImpl(std::vector<CausalLm> components, std::vector<double> weights)
    : m_components(std::move(components)), m_weights(std::move(weights)) {
  if (m_components.empty())
    throw InputError({}, 0, "components", "a mixture needs at least one model");
  if (m_weights.size() != m_components.size())
    throw InputError({}, 0, "weights",
                     std::to_string(m_weights.size()) + " weight(s) for " +
                         std::to_string(m_components.size()) + " model(s)");
  double sum = 0.0;
  for (double w : m_weights) {
    if (!(w >= 0.0) || !std::isfinite(w))
      throw InputError({}, 0, "weights", "must be finite and >= 0");
    sum += w;
  }
  if (std::abs(sum - 1.0) > 1e-6)
    throw InputError({}, 0, "weights", "must sum to 1 (they sum to " + std::to_string(sum) + ")");
  for (std::size_t k = 0; k < m_components.size(); ++k) {
    if (m_components[k]->vocabSize() != m_components[0]->vocabSize())
      throw InputError({}, 0, "components",
                       "model " + std::to_string(k + 1) + " has " +
                           std::to_string(m_components[k]->vocabSize()) + " token ids, model 1 has " +
                           std::to_string(m_components[0]->vocabSize()) + ": a mixture needs one tokenizer");
    register_module("component" + std::to_string(k), m_components[k]);
  }
}

torch::Tensor MixtureLmImpl::forward(const torch::Tensor &ids) {
  torch::Tensor out;
  for (std::size_t k = 0; k < m_components.size(); ++k) {
    auto term = torch::log_softmax(m_components[k]->forward(ids).to(torch::kFloat32), -1) * m_weights[k];
    out = out.defined() ? out + term : term;
  }
  return out;
}

torch::Tensor MixtureLmImpl::forwardCached(const torch::Tensor &ids, KvCache &cache) {
  const bool first = cache.keys.empty();
  if (first)
    m_layers.assign(m_components.size(), 0);
  torch::Tensor out;
  std::size_t offset = 0;
  KvCache merged;
  for (std::size_t k = 0; k < m_components.size(); ++k) {
    KvCache own; // this component's slice of the shared cache
    own.length = cache.length;
    if (!first) {
      own.keys.assign(cache.keys.begin() + std::ptrdiff_t(offset),
                      cache.keys.begin() + std::ptrdiff_t(offset + m_layers[k]));
      own.values.assign(cache.values.begin() + std::ptrdiff_t(offset),
                        cache.values.begin() + std::ptrdiff_t(offset + m_layers[k]));
      offset += m_layers[k];
    }
    auto term =
        torch::log_softmax(m_components[k]->forwardCached(ids, own).to(torch::kFloat32), -1) * m_weights[k];
    out = out.defined() ? out + term : term;
    if (first)
      m_layers[k] = own.keys.size();
    merged.keys.insert(merged.keys.end(), own.keys.begin(), own.keys.end());
    merged.values.insert(merged.values.end(), own.values.begin(), own.values.end());
  }
  cache.keys = std::move(merged.keys);
  cache.values = std::move(merged.values);
  cache.length += ids.size(1);
  return out;
}

torch::Tensor MixtureLmImpl::score(const torch::Tensor &, const torch::Tensor &) {
  throw InputError({}, 0, "components", "a mixture of language models has no score head");
}

std::int64_t MixtureLmImpl::blockSize() const {
  std::int64_t n = m_components[0]->blockSize();
  for (const auto &c : m_components)
    n = std::min(n, c->blockSize());
  return n;
}

std::int64_t MixtureLmImpl::vocabSize() const {
  return m_components[0]->vocabSize();
}

nlohmann::json MixtureLmImpl::shapeJson() const {
  nlohmann::json components = nlohmann::json::array();
  for (const auto &c : m_components)
    components.push_back(c->shapeJson());
  return {{"architecture", "mixture"}, {"components", components}, {"weights", m_weights}};
}

CausalLm MixtureLmImpl::clone(double dropout) const {
  std::vector<CausalLm> copies;
  for (const auto &c : m_components)
    copies.push_back(c->clone(dropout));
  auto out = std::make_shared<MixtureLmImpl>(std::move(copies), m_weights);
  out->train(is_training());
  return out;
}

void MixtureLmImpl::exportHuggingFace(const Tokenizer &, const std::string &dir) const {
  throw InputError(dir, 0, {},
                   "a mixture has no single set of weights to export: it is sampled token by token from its "
                   "models (its folder's mixture.json names them)");
}

CausalLm loadMixtureFolder(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizer) {
  const auto path = (fs::path(dir) / kMixtureFile).string();
  const auto j = readJsonObjectFile(path);
  if (!j.contains("components") || !j["components"].is_array() || j["components"].empty())
    throw InputError(path, 0, "components", "must be a non-empty list of model folders");
  if (!j.contains("weights") || !j["weights"].is_array() || j["weights"].size() != j["components"].size())
    throw InputError(path, 0, "weights", "must be a list with one number per model folder");
  std::vector<CausalLm> models;
  std::vector<double> weights;
  for (std::size_t k = 0; k < j["components"].size(); ++k) {
    const auto &c = j["components"][k];
    const auto &w = j["weights"][k];
    if (!c.is_string())
      throw InputError(path, 0, "components", "entry " + std::to_string(k + 1) + " is not a folder name");
    if (!w.is_number())
      throw InputError(path, 0, "weights", "entry " + std::to_string(k + 1) + " is not a number");
    fs::path folder(c.get<std::string>());
    if (folder.is_relative())
      folder = fs::path(dir) / folder;
    models.push_back(loadModelFolder(folder.string(), k == 0 ? tokenizer : nullptr));
    weights.push_back(w.get<double>());
  }
  try {
    return std::make_shared<MixtureLmImpl>(std::move(models), std::move(weights));
  } catch (const InputError &e) {
    throw InputError(path, 0, e.key(), e.message());
  }
}

} // namespace preflab::core
