// What a model folder holds, from config.json, adapter_config.json, the tokenizer files and the
// safetensors headers (8-byte length + JSON): no tensor is read.
#include "core/text/model_folder_info.h"

#include "core/io/input_error.h"
#include "core/io/json_file.h"
#include "core/text/llama_config.h"
#include "core/text/tokenizer.h"
#include "core/text/tokenizer_files.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

constexpr std::uint64_t kMaxHeaderBytes = std::uint64_t(100) << 20; // as the weights reader allows

struct WeightTotals {
  std::int64_t parameters = 0;
  std::set<std::string> dtypes;
};

// Adds the element counts and dtypes of one safetensors file's header.
void addHeader(const std::string &file, WeightTotals &totals) {
  std::ifstream in(file, std::ios::binary);
  unsigned char size[8] = {};
  if (!in.read(reinterpret_cast<char *>(size), 8))
    throw InputError(file, 0, {}, "not a safetensors file: shorter than its 8-byte header length");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | size[i];
  if (n == 0 || n > kMaxHeaderBytes)
    throw InputError(file, 0, {}, "not a safetensors file: header length " + std::to_string(n));
  std::string header(n, '\0');
  if (!in.read(header.data(), std::streamsize(n)))
    throw InputError(file, 0, {}, "truncated safetensors header");
  const auto json = nlohmann::json::parse(header, nullptr, false);
  if (!json.is_object())
    throw InputError(file, 0, {}, "the safetensors header is not a JSON object");
  for (const auto &[name, entry] : json.items()) {
    if (name == "__metadata__")
      continue;
    if (!entry.is_object() || !entry.contains("shape") || !entry["shape"].is_array() ||
        !entry.contains("dtype") || !entry["dtype"].is_string())
      throw InputError(file, 0, name, "tensor entry without shape and dtype");
    std::int64_t count = 1;
    for (const auto &d : entry["shape"]) {
      if (!d.is_number_unsigned())
        throw InputError(file, 0, name, "shape holds " + d.dump());
      const auto n = d.get<std::uint64_t>();
      if (n != 0 && std::uint64_t(count) > std::uint64_t(INT64_MAX) / n)
        throw InputError(file, 0, name, "shape " + entry["shape"].dump() + " has more than 2^63 elements");
      count *= std::int64_t(n);
    }
    if (totals.parameters > INT64_MAX - count)
      throw InputError(file, 0, name, "the tensors hold more than 2^63 elements");
    totals.parameters += count;
    totals.dtypes.insert(entry["dtype"].get<std::string>());
  }
}

WeightTotals weightTotals(const fs::path &dir) {
  WeightTotals totals;
  std::error_code ec;
  if (fs::exists(dir / "model.safetensors", ec)) {
    addHeader((dir / "model.safetensors").string(), totals);
  } else if (fs::exists(dir / "model.safetensors.index.json", ec)) {
    const auto index = readJsonObjectFile((dir / "model.safetensors.index.json").string());
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
      throw InputError((dir / "model.safetensors.index.json").string(), 0, "weight_map", "missing");
    std::set<std::string> shards;
    for (const auto &[name, shard] : index["weight_map"].items())
      if (shard.is_string())
        shards.insert(shard.get<std::string>());
    for (const auto &shard : shards)
      addHeader((dir / shard).string(), totals);
  } else if (fs::exists(dir / "adapter_model.safetensors", ec)) {
    addHeader((dir / "adapter_model.safetensors").string(), totals);
  } else {
    throw InputError(dir.string(), 0, {},
                     "no weights: expected model.safetensors or model.safetensors.index.json");
  }
  return totals;
}

std::string dtypeOf(const WeightTotals &totals) {
  if (totals.dtypes.size() == 1)
    return *totals.dtypes.begin();
  return totals.dtypes.empty() ? std::string() : std::string("mixed");
}

std::int64_t integerKey(const nlohmann::json &config, const char *key, const std::string &file) {
  if (!config.contains(key) || !config[key].is_number_integer())
    throw InputError(file, 0, key, "missing or not an integer");
  return config[key].get<std::int64_t>();
}

void gptShape(const nlohmann::json &config, const std::string &file, const char *positionsKey,
              ModelFolderInfo &info) {
  info.layers = integerKey(config, "n_layer", file);
  info.hidden = integerKey(config, "n_embd", file);
  info.heads = info.kvHeads = integerKey(config, "n_head", file);
  info.contextLength = integerKey(config, positionsKey, file);
  info.vocabSize = integerKey(config, "vocab_size", file);
  const auto preflab = config.find("preflab");
  info.rewardModel =
      (preflab != config.end() && preflab->is_object() && preflab->value("score_head", false)) ||
      config.value("score_head", false); // an exported folder, or PrefLab's own shape
}

void llamaShape(const LlamaConfig &c, ModelFolderInfo &info) {
  info.layers = c.nLayer;
  info.hidden = c.hiddenSize;
  info.heads = c.nHead;
  info.kvHeads = c.nKvHead;
  info.contextLength = c.blockSize();
  info.vocabSize = c.vocabSize;
  info.rewardModel = c.scoreHead;
}

void readShape(const nlohmann::json &config, const std::string &file, ModelFolderInfo &info) {
  if (info.family == "gpt2")
    gptShape(config, file, config.contains("n_positions") ? "n_positions" : "n_ctx", info);
  else
    llamaShape(llamaConfigFromHf(config, file), info); // refuses what PrefLab cannot compute
}

// PrefLab's own folder: gpt_config.json or llama_config.json (its shape JSON) + model.pt, whose
// parameters are not counted (that needs LibTorch).
void readNative(const fs::path &dir, ModelFolderInfo &info) {
  std::error_code ec;
  const bool gpt = fs::exists(dir / "gpt_config.json", ec);
  const auto file = (dir / (gpt ? "gpt_config.json" : "llama_config.json")).string();
  const auto shape = readJsonObjectFile(file);
  info.format = "PrefLab";
  if (gpt) {
    info.family = "gpt2";
    gptShape(shape, file, "block_size", info);
  } else {
    const auto c = llamaConfigFromJson(shape);
    info.family = c.family;
    llamaShape(c, info);
  }
}

void readTokenizer(const fs::path &dir, ModelFolderInfo &info) {
  std::error_code ec;
  const std::pair<const char *, const char *> files[] = {
      {"tokenizer.json", "tokenizer.json"},
      {"tokenizer.model", "tokenizer.model (SentencePiece)"},
      {"vocab.json", "vocab.json + merges.txt"},
      {"preflab_tokenizer.json", "byte-level"}};
  for (const auto &[file, name] : files)
    if (fs::exists(dir / file, ec)) {
      const auto tokenizer = loadTokenizer(dir.string());
      info.tokenizerFile = name;
      info.tokenizerVocab = tokenizer->vocabSize();
      info.chatTemplate = tokenizer->chatTemplate();
      if (info.vocabSize > 0 && info.tokenizerVocab > info.vocabSize) // as loading the model refuses it
        throw InputError((dir / file).string(), 0, {},
                         "the tokenizer has " + std::to_string(info.tokenizerVocab) +
                             " ids, more than the model's " + std::to_string(info.vocabSize));
      return;
    }
}

std::string roundedCount(double n) {
  char text[32];
  if (n >= 1e9)
    std::snprintf(text, sizeof text, "%.1f B", n / 1e9);
  else if (n >= 1e6)
    std::snprintf(text, sizeof text, "%.1f M", n / 1e6);
  else if (n >= 1e3)
    std::snprintf(text, sizeof text, "%.1f k", n / 1e3);
  else
    std::snprintf(text, sizeof text, "%.0f", n);
  return text;
}

} // namespace

ModelFolderInfo inspectModelFolder(const std::string &dirName, bool withTokenizer) {
  const fs::path dir(dirName);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(dirName, 0, {}, "model folder does not exist");
  ModelFolderInfo info;
  info.path = dirName;
  if (fs::exists(dir / "adapter_config.json", ec) && !fs::exists(dir / "config.json", ec)) {
    std::string base;
    const auto lora = readLoraAdapterConfig(dirName, &base);
    const auto own = weightTotals(dir);
    info = inspectModelFolder(base, withTokenizer);
    info.path = dirName;
    info.format = "PEFT adapter";
    info.lora = lora;
    info.baseModel = base;
    info.adapterParameters = own.parameters;
    if (withTokenizer)
      readTokenizer(dir, info); // the adapter's own tokenizer files win, as when it loads
    return info;
  }
  if (fs::exists(dir / "config.json", ec)) {
    const auto file = (dir / "config.json").string();
    const auto config = readJsonObjectFile(file);
    if (config.contains("model_type") && !config["model_type"].is_string())
      throw InputError(file, 0, "model_type", "must be a string");
    info.format = "Hugging Face";
    info.family = config.value("model_type", std::string("gpt2"));
    static const std::set<std::string> kFamilies = {"gpt2", "llama", "mistral", "qwen2", "qwen3"};
    if (!kFamilies.count(info.family))
      throw InputError(file, 0, "model_type",
                       "'" + info.family + "' is not supported (gpt2, llama, mistral, qwen2, qwen3)");
    readShape(config, file, info);
    const auto totals = weightTotals(dir);
    info.parameters = totals.parameters;
    info.dtype = dtypeOf(totals);
  } else if (fs::exists(dir / "gpt_config.json", ec) || fs::exists(dir / "llama_config.json", ec)) {
    readNative(dir, info);
  } else {
    throw InputError(
        dirName, 0, {},
        "not a model folder: no config.json, adapter_config.json, gpt_config.json or llama_config.json");
  }
  if (withTokenizer)
    readTokenizer(dir, info);
  return info;
}

std::string modelSummaryLine(const ModelFolderInfo &info) {
  if (info.lora)
    return "LoRA r=" + std::to_string(info.lora->rank) + " on " + info.family + " · " +
           roundedCount(double(info.adapterParameters)) + " adapter parameters";
  const auto family = info.family + (info.rewardModel ? " reward model" : "");
  if (info.parameters == 0) // model.pt: not counted
    return family + " · " + std::to_string(info.layers) + " layers, width " + std::to_string(info.hidden);
  return family + " · " + roundedCount(double(info.parameters)) + " parameters" +
         (info.dtype.empty() ? std::string() : " (" + info.dtype + ")");
}

} // namespace preflab::core
