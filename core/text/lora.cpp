// LoRA adapters: attach, forward, switch off, merge, and PEFT's folder layout.
#include "core/text/lora.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/text/tokenizer_files.h"

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <regex>
#include <set>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

thread_local int tLoraOffDepth = 0;

const char *const kAdapterConfig = "adapter_config.json";
const char *const kAdapterWeights = "adapter_model.safetensors";
const char *const kPeftPrefix = "base_model.model.";

// lora_A or lora_B of one projection. A carries the settings the forward pass needs.
class LoraFactorImpl : public torch::nn::Module {
public:
  LoraFactorImpl(torch::Tensor initial, LoraSettings settings, double dropout)
      : settings(std::move(settings)), scale(this->settings.scale()), dropout(dropout) {
    weight = register_parameter("weight", std::move(initial));
  }
  torch::Tensor weight;
  LoraSettings settings; // as configured (saved in adapter_config.json)
  double scale;
  double dropout; // in effect while training (0 once the model's dropout is disabled)
};

struct LoraPair {
  LoraFactorImpl *a = nullptr;
  LoraFactorImpl *b = nullptr;
};

// The factors are a projection's only children, registered A first (children() keeps the order
// and, unlike named_children(), copies no names: this runs on every projection call).
LoraPair loraPairOf(const torch::nn::Module &layer) {
  const auto children = layer.children();
  if (children.size() != 2)
    return {};
  LoraPair pair{dynamic_cast<LoraFactorImpl *>(children[0].get()),
                dynamic_cast<LoraFactorImpl *>(children[1].get())};
  return pair.a && pair.b ? pair : LoraPair{};
}

// Every linear projection of the model with its path ("model.layers.0.self_attn.q_proj").
std::vector<std::pair<std::string, std::shared_ptr<torch::nn::LinearImpl>>>
loraProjections(torch::nn::Module &model) {
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::LinearImpl>>> out;
  for (const auto &item : model.named_modules("", /*include_self=*/false))
    if (auto linear = std::dynamic_pointer_cast<torch::nn::LinearImpl>(item.value()))
      out.emplace_back(item.key(), linear);
  return out;
}

// Whether a parameter name is one of the adapter factors ("....q_proj.lora_A.weight").
bool isLoraFactorName(const std::string &name) {
  return name.find(".lora_A.") != std::string::npos || name.find(".lora_B.") != std::string::npos;
}

std::string lastPart(const std::string &path) {
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

bool pathMatches(const std::string &path, const std::string &target) {
  return path == target || (path.size() > target.size() &&
                            path.compare(path.size() - target.size(), target.size(), target) == 0 &&
                            path[path.size() - target.size() - 1] == '.');
}

// The Hugging Face module path of a projection (GPT-2's modules sit under "transformer.").
std::string hfPath(const std::string &architecture, const std::string &path) {
  return architecture == "gpt2" && path.rfind("score_head", 0) != 0 ? "transformer." + path : path;
}

std::string ourPath(const std::string &architecture, const std::string &hf) {
  if (architecture == "gpt2" && hf.rfind("transformer.", 0) == 0)
    return hf.substr(12);
  return hf;
}

// The adapter tensors of an adapted model under PEFT's names.
std::map<std::string, torch::Tensor> peftTensors(const CausalLmImpl &model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto &item : model.named_parameters()) {
    const auto &name = item.key();
    if (!isLoraFactorName(name))
      continue;
    out[kPeftPrefix + hfPath(model.architecture(), name)] =
        item.value().detach().to(torch::kCPU, torch::kFloat32);
  }
  return out;
}

// A copy of `model` without its adapters, every parameter trainable again.
CausalLm baseCopy(const CausalLmImpl &model, double dropout) {
  auto copy = model.clone(dropout);
  for (const auto &item : copy->named_modules("", false))
    if (loraPairOf(*item.value()).a) {
      item.value()->unregister_module("lora_A");
      item.value()->unregister_module("lora_B");
    }
  for (auto &p : copy->parameters())
    p.set_requires_grad(true);
  return copy;
}

class AdaptersOffLmImpl : public CausalLmImpl {
public:
  explicit AdaptersOffLmImpl(CausalLm adapted) : m_adapted(std::move(adapted)) {}
  torch::Tensor forward(const torch::Tensor &ids) override {
    AdaptersOff off;
    return m_adapted->forward(ids);
  }
  torch::Tensor forwardCached(const torch::Tensor &ids, KvCache &cache) override {
    AdaptersOff off;
    return m_adapted->forwardCached(ids, cache);
  }
  torch::Tensor score(const torch::Tensor &ids, const torch::Tensor &lastIndex) override {
    AdaptersOff off;
    return m_adapted->score(ids, lastIndex);
  }
  torch::Device device() const override { return m_adapted->device(); }
  std::int64_t blockSize() const override { return m_adapted->blockSize(); }
  std::int64_t vocabSize() const override { return m_adapted->vocabSize(); }
  bool hasScoreHead() const override { return m_adapted->hasScoreHead(); }
  double dropout() const override { return m_adapted->dropout(); }
  std::string architecture() const override { return m_adapted->architecture(); }
  nlohmann::json shapeJson() const override { return m_adapted->shapeJson(); }
  CausalLm clone(double dropout) const override {
    auto copy = baseCopy(*m_adapted, dropout);
    copy->train(is_training());
    return copy;
  }
  void exportHuggingFace(const Tokenizer &tokenizer, const std::string &dir) const override {
    baseCopy(*m_adapted, -1.0)->exportHuggingFace(tokenizer, dir);
  }

private:
  CausalLm m_adapted;
};

} // namespace

nlohmann::json modelIdentity(const CausalLmImpl &model) {
  auto shape = model.shapeJson();
  if (const auto s = loraSettingsOf(model))
    shape["lora"] = {{"r", s->rank},
                     {"lora_alpha", s->alpha},
                     {"lora_dropout", s->dropout},
                     {"use_rslora", s->rslora},
                     {"target_modules", s->targetModules}};
  return shape;
}

AdaptersOff::AdaptersOff() {
  ++tLoraOffDepth;
}

AdaptersOff::~AdaptersOff() {
  --tLoraOffDepth;
}

torch::Tensor adaptedLinear(const torch::nn::Linear &layer, const torch::Tensor &x) {
  auto y = torch::linear(x, layer->weight, layer->bias);
  if (tLoraOffDepth > 0 || layer->children().empty())
    return y;
  const auto pair = loraPairOf(*layer);
  if (!pair.a)
    return y;
  const double p = layer->is_training() ? pair.a->dropout : 0.0;
  const auto in = p > 0.0 ? torch::dropout(x, p, true) : x;
  return y + torch::linear(torch::linear(in, pair.a->weight), pair.b->weight) * pair.a->scale;
}

std::vector<std::string> attachLora(CausalLmImpl &model, const LoraSettings &s, std::uint64_t seed) {
  if (s.rank < 1)
    throw InputError({}, 0, "lora_r", "is " + std::to_string(s.rank) + ", must be >= 1");
  if (!(s.dropout >= 0.0 && s.dropout < 1.0))
    throw InputError({}, 0, "lora_dropout", "must be in [0, 1)");
  if (!std::isfinite(s.alpha) || s.alpha <= 0.0)
    throw InputError({}, 0, "lora_alpha", "must be > 0");
  const auto targets = s.targetModules.empty() && s.targetRegex.empty()
                           ? defaultLoraTargets(model.architecture())
                           : s.targetModules;
  std::optional<std::regex> pattern;
  if (!s.targetRegex.empty()) {
    try {
      pattern.emplace(s.targetRegex, std::regex::ECMAScript);
    } catch (const std::regex_error &e) {
      throw InputError({}, 0, "lora_target_modules",
                       "'" + s.targetRegex + "' is not a valid regex: " + e.what());
    }
  }
  const auto projections = loraProjections(model);
  std::set<std::string> matchedTargets;
  std::vector<std::string> adapted;
  auto generator = at::detail::createCPUGenerator(seed);
  torch::NoGradGuard noGrad;
  for (const auto &[path, linear] : projections) {
    bool selected = false;
    if (pattern)
      selected =
          std::regex_match(hfPath(model.architecture(), path), *pattern) || std::regex_match(path, *pattern);
    for (const auto &t : targets)
      if (pathMatches(path, t) || pathMatches(hfPath(model.architecture(), path), t)) {
        selected = true;
        matchedTargets.insert(t);
      }
    if (!selected)
      continue;
    if (loraPairOf(*linear).a)
      throw InputError({}, 0, "lora_target_modules", "'" + path + "' already has an adapter");
    const auto out = linear->weight.size(0), in = linear->weight.size(1);
    const double bound = 1.0 / std::sqrt(double(in)); // Kaiming-uniform with a = sqrt(5), as PEFT
    auto a = torch::empty({s.rank, in}, torch::kFloat32).uniform_(-bound, bound, generator);
    const auto options = linear->weight.options().dtype(torch::kFloat32);
    linear->register_module("lora_A", std::make_shared<LoraFactorImpl>(a.to(options.device()), s, s.dropout));
    linear->register_module(
        "lora_B", std::make_shared<LoraFactorImpl>(torch::zeros({out, s.rank}, options), s, s.dropout));
    adapted.push_back(path);
  }
  for (const auto &t : targets)
    if (!matchedTargets.count(t)) {
      std::set<std::string> names;
      for (const auto &[path, linear] : projections)
        names.insert(lastPart(path));
      std::string known;
      for (const auto &n : names)
        known += (known.empty() ? "" : ", ") + n;
      throw InputError({}, 0, "lora_target_modules",
                       "'" + t + "' matches no linear projection of this " + model.architecture() +
                           " model (its projections: " + known + ")");
    }
  if (adapted.empty())
    throw InputError({}, 0, "lora_target_modules", "'" + s.targetRegex + "' matches no linear projection");
  for (auto &item : model.named_parameters())
    item.value().set_requires_grad(isLoraFactorName(item.key()));
  model.train(model.is_training()); // the new factors take the model's mode
  return adapted;
}

std::optional<LoraSettings> loraSettingsOf(const torch::nn::Module &model) {
  std::optional<LoraSettings> out;
  std::set<std::string> names;
  for (const auto &item : model.named_modules("", false)) {
    const auto pair = loraPairOf(*item.value());
    if (!pair.a)
      continue;
    if (!out)
      out = pair.a->settings;
    names.insert(lastPart(item.key()));
  }
  if (out) {
    out->targetModules.assign(names.begin(), names.end());
    out->targetRegex.clear();
  }
  return out;
}

void copyLoraAdapters(const torch::nn::Module &from, CausalLmImpl &to, double dropout) {
  const auto settings = loraSettingsOf(from);
  if (!settings)
    return;
  LoraSettings exact = *settings;
  exact.targetModules.clear();
  std::map<std::string, LoraFactorImpl *> factors;
  for (const auto &item : from.named_modules("", false))
    if (const auto pair = loraPairOf(*item.value()); pair.a) {
      exact.targetModules.push_back(item.key());
      factors[item.key() + ".lora_A"] = pair.a;
      factors[item.key() + ".lora_B"] = pair.b;
    }
  attachLora(to, exact, 0);
  torch::NoGradGuard noGrad;
  for (const auto &item : to.named_modules("", false))
    if (const auto pair = loraPairOf(*item.value()); pair.a) {
      pair.a->weight.copy_(factors.at(item.key() + ".lora_A")->weight);
      pair.b->weight.copy_(factors.at(item.key() + ".lora_B")->weight);
      pair.a->settings = pair.b->settings = *settings;
      pair.a->dropout = pair.b->dropout =
          dropout >= 0.0 ? dropout : factors.at(item.key() + ".lora_A")->dropout;
    }
}

CausalLm adaptersOffView(const CausalLm &adapted) {
  return std::make_shared<AdaptersOffLmImpl>(adapted);
}

CausalLm mergedCopy(const CausalLm &model) {
  auto copy = baseCopy(*model, -1.0);
  torch::NoGradGuard noGrad;
  auto params = copy->named_parameters();
  for (const auto &item : model->named_modules("", false)) {
    const auto pair = loraPairOf(*item.value());
    if (!pair.a)
      continue;
    auto &w = params[item.key() + ".weight"];
    w.add_(torch::matmul(pair.b->weight, pair.a->weight).to(w.dtype()) * pair.a->scale);
  }
  return copy;
}

void saveLoraAdapter(const CausalLmImpl &model, const Tokenizer &tokenizer, const std::string &baseModel,
                     const std::string &dir) {
  const auto settings = loraSettingsOf(model);
  if (!settings)
    throw InputError(dir, 0, {}, "the model has no LoRA adapters to save");
  fs::create_directories(dir);
  writeSafetensors((fs::path(dir) / kAdapterWeights).string(), peftTensors(model), {{"format", "pt"}});
  writeTokenizerFiles(tokenizer, dir, model.blockSize());
  const nlohmann::json config = {{"peft_type", "LORA"},
                                 {"task_type", "CAUSAL_LM"},
                                 {"base_model_name_or_path", baseModel},
                                 {"r", settings->rank},
                                 {"lora_alpha", settings->alpha},
                                 {"lora_dropout", settings->dropout},
                                 {"target_modules", settings->targetModules},
                                 {"bias", "none"},
                                 {"fan_in_fan_out", model.architecture() == "gpt2"}, // GPT-2's Conv1D layout
                                 {"inference_mode", true},
                                 {"init_lora_weights", true},
                                 {"use_rslora", false},
                                 {"use_dora", false},
                                 {"modules_to_save", nullptr},
                                 {"layers_to_transform", nullptr},
                                 {"layers_pattern", nullptr},
                                 {"rank_pattern", nlohmann::json::object()},
                                 {"alpha_pattern", nlohmann::json::object()},
                                 {"revision", nullptr}};
  writeFileAtomic((fs::path(dir) / kAdapterConfig).string(), config.dump(2) + "\n");
}

void loadLoraAdapter(CausalLmImpl &model, const std::string &dir) {
  const auto settings = readLoraAdapterConfig(dir);
  const auto weightsFile = (fs::path(dir) / kAdapterWeights).string();
  std::error_code ec;
  if (!fs::exists(weightsFile, ec)) {
    if (fs::exists(fs::path(dir) / "adapter_model.bin", ec))
      throw InputError((fs::path(dir) / "adapter_model.bin").string(), 0, {},
                       "pickled adapter weights are not read (they can run code); save the adapter with "
                       "safe_serialization=True to get adapter_model.safetensors");
    throw InputError(weightsFile, 0, {}, "adapter weights not found");
  }
  auto tensors = readSafetensors(weightsFile);
  try {
    attachLora(model, settings, 0);
  } catch (const InputError &e) {
    throw InputError((fs::path(dir) / kAdapterConfig).string(), 0,
                     e.key() == "lora_target_modules" ? "target_modules" : e.key(), e.message());
  }
  torch::NoGradGuard noGrad;
  auto params = model.named_parameters();
  std::set<std::string> loaded;
  for (auto &[key, tensor] : tensors) {
    if (key.rfind(kPeftPrefix, 0) != 0)
      throw InputError(weightsFile, 0, key,
                       std::string("not an adapter tensor name (expected the prefix ") + kPeftPrefix + ")");
    auto name = ourPath(model.architecture(), key.substr(std::string(kPeftPrefix).size()));
    const auto dflt = name.find(".default.");
    if (dflt != std::string::npos) // PEFT's in-memory names, when saved without its renaming
      name.erase(dflt, 8);
    if (!isLoraFactorName(name))
      throw InputError(weightsFile, 0, key, "not a LoRA factor (lora_A / lora_B)");
    auto *p = params.find(name);
    if (!p)
      throw InputError(weightsFile, 0, key,
                       "no such adapted projection in the model (target_modules does not select it)");
    if (p->sizes() != tensor.sizes())
      throw InputError(weightsFile, 0, key,
                       "shape " + c10::str(tensor.sizes()) + " does not match the model's " +
                           c10::str(p->sizes()));
    if (!torch::isfinite(tensor).all().item<bool>())
      throw InputError(weightsFile, 0, key, "tensor holds NaN or infinite values");
    p->copy_(tensor.to(p->dtype()));
    loaded.insert(name);
  }
  for (const auto &item : params)
    if (isLoraFactorName(item.key()) && !loaded.count(item.key()))
      throw InputError(weightsFile, 0, kPeftPrefix + hfPath(model.architecture(), item.key()),
                       "missing from the file");
}

} // namespace preflab::core
