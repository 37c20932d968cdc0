// Model folders: native LibTorch archives for speed, Hugging Face layout for exchange.
#include "core/text/model_store.h"

#include "core/text/mixture_lm.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/json_file.h"
#include "core/text/lora.h"
#include "core/text/tokenizer_files.h"

#include <torch/torch.h>

#include <filesystem>
#include <optional>

namespace fs = std::filesystem;

namespace preflab::core {

void saveNativeModel(const CausalLm &model, const Tokenizer &tokenizer, const std::string &dir) {
  fs::create_directories(dir);
  const auto tmp = dir + "/model.pt.tmp";
  torch::save(model, tmp);
  fs::rename(tmp, dir + "/model.pt");
  const auto &architecture = causalLmArchitecture(model->architecture());
  writeFileAtomic(dir + "/" + architecture.nativeConfigFile, model->shapeJson().dump(2) + "\n");
  writeFileAtomic(dir + "/tokenizer.json", tokenizer.describe().dump(2) + "\n");
}

namespace {

// A shape's architecture: its "architecture" key, else the first registered (GPT-2), whose shapes
// name none.
const CausalLmArchitecture &architectureOf(const nlohmann::json &shape) {
  if (shape.is_object() && shape.contains("architecture") && shape["architecture"].is_string())
    return causalLmArchitecture(shape["architecture"].get<std::string>(), "architecture");
  return causalLmArchitectures().front();
}

// Weights a run saved after a non-finite step, or a damaged file, would score and sample
// garbage with exit 0: refuse them, naming the tensor.
CausalLm requireFinite(CausalLm model, const std::string &file) {
  torch::NoGradGuard noGrad;
  for (const auto &item : model->named_parameters())
    if (!torch::isfinite(item.value()).all().item<bool>())
      throw InputError(file, 0, item.key(), "tensor holds NaN or infinite values");
  return model;
}

} // namespace

CausalLm loadModelFolder(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizer,
                         const nlohmann::json *fallbackShape) {
  if (!fs::is_directory(dir))
    throw InputError(dir, 0, {}, "model folder does not exist");
  if (fs::exists(dir + "/" + kMixtureFile)) // MPO's mixture of models (mixture_lm.h)
    return loadMixtureFolder(dir, tokenizer);
  if (isLoraAdapterFolder(dir) && !fs::exists(dir + "/config.json")) { // a PEFT adapter over its base
    std::string base;
    readLoraAdapterConfig(dir, &base);
    auto model = loadModelFolder(base, tokenizer);
    loadLoraAdapter(*model, dir);
    if (tokenizer && (fs::exists(dir + "/tokenizer.json") || fs::exists(dir + "/vocab.json")))
      *tokenizer = loadTokenizer(dir);
    return model;
  }
  if (fs::exists(dir + "/config.json") &&
      (fs::exists(dir + "/model.safetensors") || fs::exists(dir + "/model.safetensors.index.json"))) {
    const auto config = readJsonObjectFile(dir + "/config.json");
    if (config.contains("model_type") && !config["model_type"].is_string())
      throw InputError(dir + "/config.json", 0, "model_type",
                       std::string("must be a string, got ") + config["model_type"].type_name());
    const std::string type = config.value("model_type", causalLmArchitectures().front().name);
    try {
      return requireFinite(causalLmArchitecture(type).importHuggingFace(dir, tokenizer),
                           dir + "/model.safetensors");
    } catch (const InputError &e) {
      if (e.file().empty()) // the registry's "unknown architecture": name the file
        throw InputError(dir + "/config.json", 0, e.key(), e.message());
      throw;
    }
  }
  std::optional<nlohmann::json> shape;
  for (const auto &a : causalLmArchitectures())
    if (fs::exists(dir + "/" + a.nativeConfigFile)) {
      shape = readJsonObjectFile(dir + "/" + a.nativeConfigFile);
      break;
    }
  if (!shape && fallbackShape)
    shape = *fallbackShape;
  if (!shape)
    throw InputError(dir, 0, {},
                     "no model here: expected config.json + model.safetensors or gpt_config.json + model.pt");
  std::optional<LoraSettings> lora; // a checkpoint of a LoRA run
  if (shape->is_object() && shape->contains("lora")) {
    lora = loraSettingsFromJson((*shape)["lora"], dir + "/trainer_state.json");
    shape->erase("lora");
  }
  CausalLm model = architectureOf(*shape).create(*shape);
  if (lora)
    attachLora(*model, *lora, 0);
  try {
    torch::load(model, dir + "/model.pt");
  } catch (const c10::Error &e) {
    throw InputError(dir + "/model.pt", 0, {},
                     std::string("cannot load weights: ") + e.what_without_backtrace());
  }
  if (tokenizer) {
    const auto file = dir + "/tokenizer.json"; // PrefLab's description or a Hugging Face file
    *tokenizer = fs::exists(file) ? loadTokenizer(file) : std::make_shared<ByteTokenizer>();
  }
  return requireFinite(model, dir + "/model.pt");
}

namespace {

// The generation_config.json that applies to `dir`: its own, or for an adapter without one, its base's.
std::string generationConfigFile(const std::string &dir) {
  std::string folder = dir;
  if (isLoraAdapterFolder(dir) && !fs::exists(dir + "/generation_config.json"))
    readLoraAdapterConfig(dir, &folder);
  return folder + "/generation_config.json";
}

} // namespace

std::vector<std::int64_t> generationStopIds(const std::string &dir) {
  const auto file = generationConfigFile(dir);
  if (!fs::exists(file))
    return {};
  const auto config = readJsonObjectFile(file);
  std::vector<std::int64_t> ids;
  if (!config.contains("eos_token_id") || config["eos_token_id"].is_null())
    return ids;
  const auto &eos = config["eos_token_id"];
  for (const auto &id : eos.is_array() ? eos : nlohmann::json::array({eos})) {
    if (!id.is_number_integer())
      throw InputError(file, 0, "eos_token_id", "must be a token id or a list of them, got " + eos.dump());
    ids.push_back(id.get<std::int64_t>());
  }
  return ids;
}

void keepGenerationConfig(const std::string &source, const std::string &exported) {
  const auto file = generationConfigFile(source);
  if (!fs::is_regular_file(file) || !fs::is_regular_file(exported + "/generation_config.json"))
    return;
  writeFileAtomic(exported + "/generation_config.json", readJsonObjectFile(file).dump(2) + "\n");
}

CausalLm loadModelOrCheckpoint(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizer) {
  if (dir.empty())
    throw InputError("no model folder given");
  const auto state = dir + "/trainer_state.json";
  bool native = false;
  for (const auto &a : causalLmArchitectures())
    native = native || fs::exists(dir + "/" + a.nativeConfigFile);
  if (fs::exists(state) && !native) {
    auto json = nlohmann::json::parse(readFile(state), nullptr, false);
    if (json.is_discarded() || !json.contains("model"))
      throw InputError(state, 0, "model", "checkpoint state has no model shape");
    const nlohmann::json shape = json["model"];
    return loadModelFolder(dir, tokenizer, &shape);
  }
  return loadModelFolder(dir, tokenizer);
}

} // namespace preflab::core
