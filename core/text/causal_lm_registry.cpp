// The causal language model architectures: one line each.
#include "core/io/input_error.h"
#include "core/text/causal_lm.h"
#include "core/text/gpt.h"
#include "core/text/hf_gpt2.h"
#include "core/text/hf_llama.h"
#include "core/text/llama.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace preflab::core {

namespace {

// One Llama-family model_type: one implementation (LlamaImpl), the family kept in the shape.
CausalLmArchitecture llamaFamily(const std::string &family) {
  return {family, "llama_config.json",
          [family](const nlohmann::json &shape) {
            auto s = shape;
            s["architecture"] = family;
            return makeLlama(llamaConfigFromJson(s));
          },
          [](const std::string &dir, std::shared_ptr<Tokenizer> *tok) { return importHfLlama(dir, tok); }};
}

} // namespace

const std::vector<CausalLmArchitecture> &causalLmArchitectures() {
  static const std::vector<CausalLmArchitecture> table = {
      {"gpt2", "gpt_config.json",
       [](const nlohmann::json &shape) { return makeGpt(gptConfigFromJson(shape)); },
       [](const std::string &dir, std::shared_ptr<Tokenizer> *tok) {
         return CausalLm(importHfGpt2(dir, tok).ptr());
       }},
      llamaFamily("llama"),
      llamaFamily("mistral"),
      llamaFamily("qwen2"),
      llamaFamily("qwen3"),
  };
  return table;
}

const CausalLmArchitecture &causalLmArchitecture(const std::string &name, const std::string &key) {
  std::string known;
  for (const auto &a : causalLmArchitectures()) {
    if (a.name == name)
      return a;
    known += (known.empty() ? "" : ", ") + a.name;
  }
  throw InputError({}, 0, key, "unknown model architecture '" + name + "'; known: " + known);
}

CausalLm withScoreHead(const CausalLm &lm, std::uint64_t seed) {
  if (lm->hasScoreHead())
    return lm;
  auto shape = lm->shapeJson();
  shape["score_head"] = true;
  auto out = causalLmArchitecture(lm->architecture()).create(shape);
  torch::NoGradGuard noGrad;
  out->to(lm->device());
  const auto source = lm->named_parameters();
  auto generator = at::detail::createCPUGenerator(seed);
  for (auto &item : out->named_parameters()) {
    if (const auto *p = source.find(item.key())) {
      item.value().copy_(*p);
    } else { // the new score head
      item.value().copy_(at::normal(0.0, 0.02, item.value().sizes(), generator,
                                    torch::TensorOptions().dtype(torch::kFloat32)));
    }
  }
  out->train(lm->is_training());
  return out;
}

} // namespace preflab::core
