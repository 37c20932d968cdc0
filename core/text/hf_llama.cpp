// Llama-family Hugging Face folders: the parameter names are the files' own, so reading is a
// checked copy by name and writing is named_parameters() in the file's dtype.
#include "core/text/hf_llama.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/text/llama.h"
#include "core/text/lora.h"
#include "core/text/tokenizer_files.h"

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <set>

namespace preflab::core {

namespace fs = std::filesystem;

namespace {

struct Stored {
  torch::Tensor tensor;
  std::string file;
};

// Every tensor of the folder by name, with the file it came from.
std::map<std::string, Stored> readWeights(const fs::path &root) {
  std::map<std::string, Stored> out;
  std::vector<std::string> files;
  const auto index = root / "model.safetensors.index.json";
  if (fs::exists(root / "model.safetensors")) {
    files.push_back((root / "model.safetensors").string());
  } else if (fs::exists(index)) {
    const auto j = readJsonObjectFile(index.string());
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      throw InputError(index.string(), 0, "weight_map", "missing or not an object");
    std::set<std::string> shards;
    for (const auto &[name, file] : j["weight_map"].items()) {
      if (!file.is_string() || file.get<std::string>().find('/') != std::string::npos)
        throw InputError(index.string(), 0, "weight_map." + name, "must name a shard file in this folder");
      shards.insert(file.get<std::string>());
    }
    for (const auto &s : shards)
      files.push_back((root / s).string());
  } else if (fs::exists(root / "pytorch_model.bin")) {
    throw InputError((root / "model.safetensors").string(), 0, {},
                     "not found; only safetensors weights are read (pytorch_model.bin is a pickle)");
  } else {
    throw InputError((root / "model.safetensors").string(), 0, {},
                     "not found (nor model.safetensors.index.json)");
  }
  for (const auto &file : files)
    for (auto &[name, tensor] : readSafetensors(file)) {
      if (out.count(name))
        throw InputError(file, 0, name, "tensor also stored in " + out[name].file);
      out[name] = {std::move(tensor), file};
    }
  return out;
}

bool nameEndsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

torch::ScalarType storageType(const std::string &dtype) {
  if (dtype == "bfloat16")
    return torch::kBFloat16;
  if (dtype == "float16")
    return torch::kFloat16;
  return torch::kFloat32;
}

} // namespace

CausalLm importHfLlama(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizerOut) {
  const fs::path root(dir);
  const auto configPath = root / "config.json";
  const auto config = llamaConfigFromHf(readJsonObjectFile(configPath.string()), configPath.string());
  auto weights = readWeights(root);
  // Names and shapes are checked against the files before the model is allocated, so a
  // config.json that asks for a far larger model than the files hold is refused by tensor.
  for (const auto &[name, shape] : llamaParameterShapes(config)) {
    const auto it = weights.find(name);
    if (it == weights.end())
      throw InputError(dir, 0, name, "tensor missing (the config.json asks for it)");
    const auto &t = it->second.tensor;
    if (!t.is_floating_point())
      throw InputError(it->second.file, 0, name, "must be a floating-point tensor");
    if (t.sizes() != torch::IntArrayRef(shape))
      throw InputError(it->second.file, 0, name,
                       "shape " + c10::str(t.sizes()) + ", the config.json asks for " +
                           c10::str(torch::IntArrayRef(shape)));
  }
  auto model = std::make_shared<LlamaImpl>(config);
  {
    torch::NoGradGuard noGrad;
    for (auto &item : model->named_parameters()) {
      const auto it = weights.find(item.key());
      item.value().copy_(it->second.tensor.to(torch::kFloat32));
      weights.erase(it);
    }
    for (const auto &[name, stored] : weights) {
      if (nameEndsWith(name, "rotary_emb.inv_freq"))
        continue;
      if (name == "lm_head.weight" && config.tieEmbeddings) {
        if (!torch::equal(stored.tensor.to(torch::kFloat32), model->model->embed_tokens->weight))
          throw InputError(stored.file, 0, name,
                           "differs from model.embed_tokens.weight while tie_word_embeddings is true");
        continue;
      }
      throw InputError(stored.file, 0, name,
                       "unexpected tensor: not part of a " + config.family + " model with this config");
    }
  }
  if (tokenizerOut) {
    if (!fs::exists(root / "tokenizer.json") && !fs::exists(root / "vocab.json"))
      throw InputError(dir, 0, {}, "no tokenizer: expected tokenizer.json (or vocab.json + merges.txt)");
    auto tokenizer = loadTokenizer(dir);
    if (tokenizer->vocabSize() > config.vocabSize)
      throw InputError(dir + "/tokenizer.json", 0, "vocab_size",
                       std::to_string(tokenizer->vocabSize()) + " ids, more than the model's " +
                           std::to_string(config.vocabSize));
    if (tokenizer->eosId() < 0)
      throw InputError(dir + "/tokenizer.json", 0, "eos_token",
                       "no end-of-sequence token found (name it with eos_token in tokenizer_config.json)");
    *tokenizerOut = std::move(tokenizer);
  }
  return model;
}

void exportHfLlama(const LlamaImpl &model, const Tokenizer &tokenizer, const std::string &dir) {
  if (loraSettingsOf(model))
    throw std::invalid_argument("a model with LoRA adapters is exported merged (mergedCopy) or as an adapter "
                                "(saveLoraAdapter)");
  const auto &config = model.config();
  const fs::path root(dir);
  fs::create_directories(root);
  torch::NoGradGuard noGrad;
  const auto dtype = storageType(config.storageDtype);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto &item : model.named_parameters())
    tensors[item.key()] = item.value().detach().to(torch::kCPU, dtype);
  std::error_code ec;
  if (fs::exists(root / "model.safetensors.index.json")) { // an earlier sharded copy would win on load
    const auto index = readJsonObjectFile((root / "model.safetensors.index.json").string());
    if (index.contains("weight_map") && index["weight_map"].is_object())
      for (const auto &[name, file] : index["weight_map"].items())
        if (file.is_string() && file.get<std::string>().find('/') == std::string::npos)
          fs::remove(root / file.get<std::string>(), ec);
    fs::remove(root / "model.safetensors.index.json", ec);
  }
  writeSafetensors((root / "model.safetensors").string(), tensors, {{"format", "pt"}});
  writeTokenizerFiles(tokenizer, root.string(), config.blockSize());
  const auto bos = tokenizer.bosId().value_or(-1), eos = tokenizer.eosId();
  nlohmann::json generation = {{"eos_token_id", eos}};
  if (bos >= 0)
    generation["bos_token_id"] = bos;
  writeFileAtomic((root / "generation_config.json").string(), generation.dump(2) + "\n");
  // config.json last, so that a folder which has it is complete.
  writeFileAtomic((root / "config.json").string(), hfConfigJson(config, bos, eos).dump(2) + "\n");
}

} // namespace preflab::core
