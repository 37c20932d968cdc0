// LoRA settings and PEFT's adapter_config.json: what the adapters are, read without LibTorch (the
// app's model inspector reads them too).
#include "core/text/lora_config.h"

#include "core/io/input_error.h"
#include "core/io/json_file.h"

#include <cmath>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

const char *const kAdapterConfig = "adapter_config.json";

void refuseSet(const nlohmann::json &config, const std::string &file, const std::string &key,
               const std::string &why) {
  if (!config.contains(key))
    return;
  const auto &v = config[key];
  const bool set = !(v.is_null() || (v.is_boolean() && !v.get<bool>()) || (v.is_object() && v.empty()) ||
                     (v.is_array() && v.empty()) || (v.is_string() && v.get<std::string>().empty()));
  if (set)
    throw InputError(file, 0, key, "is set (" + v.dump() + "): " + why + " is not supported");
}

} // namespace

double LoraSettings::scale() const {
  return rslora ? alpha / std::sqrt(double(rank)) : alpha / double(rank);
}

LoraSettings loraSettingsFromJson(const nlohmann::json &lora, const std::string &file) {
  try {
    LoraSettings s;
    s.rank = lora.at("r").get<std::int64_t>();
    s.alpha = lora.at("lora_alpha").get<double>();
    s.dropout = lora.at("lora_dropout").get<double>();
    s.rslora = lora.at("use_rslora").get<bool>();
    s.targetModules = lora.at("target_modules").get<std::vector<std::string>>();
    return s;
  } catch (const nlohmann::json::exception &e) {
    throw InputError(file, 0, "lora", std::string("malformed adapter settings: ") + e.what());
  }
}

std::vector<std::string> defaultLoraTargets(const std::string &architecture) {
  if (architecture == "gpt2")
    return {"c_attn"};
  return {"q_proj", "v_proj"};
}

bool isLoraAdapterFolder(const std::string &dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / kAdapterConfig, ec);
}

LoraSettings readLoraAdapterConfig(const std::string &dir, std::string *baseModel) {
  const auto file = (fs::path(dir) / kAdapterConfig).string();
  const auto config = readJsonObjectFile(file);
  auto need = [&](const std::string &key, nlohmann::json::value_t type,
                  const char *what) -> const nlohmann::json & {
    if (!config.contains(key))
      throw InputError(file, 0, key, "missing");
    const auto &v = config[key];
    const bool ok = type == nlohmann::json::value_t::number_float ? v.is_number() : v.type() == type;
    if (!ok)
      throw InputError(file, 0, key, std::string("must be ") + what + ", got " + v.dump());
    return v;
  };
  const auto type = need("peft_type", nlohmann::json::value_t::string, "a string").get<std::string>();
  if (type != "LORA")
    throw InputError(file, 0, "peft_type", "is '" + type + "': only LORA adapters are supported");
  LoraSettings s;
  const auto &r = need("r", nlohmann::json::value_t::number_unsigned, "a positive integer");
  s.rank = r.get<std::int64_t>();
  s.alpha = need("lora_alpha", nlohmann::json::value_t::number_float, "a number").get<double>();
  if (config.contains("lora_dropout"))
    s.dropout = need("lora_dropout", nlohmann::json::value_t::number_float, "a number").get<double>();
  if (config.contains("use_rslora") && config["use_rslora"].is_boolean())
    s.rslora = config["use_rslora"].get<bool>();
  if (!config.contains("target_modules") || config["target_modules"].is_null())
    throw InputError(file, 0, "target_modules", "missing: the adapted projections must be named");
  const auto &targets = config["target_modules"];
  if (targets.is_string()) {
    s.targetRegex = targets.get<std::string>();
  } else if (targets.is_array()) {
    for (const auto &t : targets) {
      if (!t.is_string())
        throw InputError(file, 0, "target_modules", "must list module names, got " + t.dump());
      s.targetModules.push_back(t.get<std::string>());
    }
  } else {
    throw InputError(file, 0, "target_modules", "must be a list of names or a regex string");
  }
  if (config.contains("bias") && config["bias"] != "none")
    throw InputError(file, 0, "bias",
                     "is " + config["bias"].dump() + ": trained biases are not supported (only \"none\")");
  if (config.contains("task_type") && !config["task_type"].is_null() && config["task_type"] != "CAUSAL_LM")
    throw InputError(file, 0, "task_type",
                     "is " + config["task_type"].dump() + ": only CAUSAL_LM adapters apply here");
  refuseSet(config, file, "use_dora", "DoRA");
  refuseSet(config, file, "modules_to_save", "training whole modules beside the adapters");
  refuseSet(config, file, "layers_to_transform", "adapting only some layers");
  refuseSet(config, file, "rank_pattern", "a rank per module");
  refuseSet(config, file, "alpha_pattern", "an alpha per module");
  // Every other key PEFT writes either changes nothing at load time or is a feature that must be off.
  static const std::set<std::string> kInert = {"peft_type",
                                               "r",
                                               "lora_alpha",
                                               "lora_dropout",
                                               "use_rslora",
                                               "target_modules",
                                               "bias",
                                               "task_type",
                                               "use_dora",
                                               "modules_to_save",
                                               "layers_to_transform",
                                               "rank_pattern",
                                               "alpha_pattern",
                                               "base_model_name_or_path",
                                               "revision",
                                               "inference_mode",
                                               "init_lora_weights",
                                               "fan_in_fan_out",
                                               "auto_mapping",
                                               "layers_pattern",
                                               "peft_version",
                                               "exclude_modules"};
  for (const auto &[key, value] : config.items())
    if (!kInert.count(key))
      refuseSet(config, file, key, "the adapter setting '" + key + "'");
  if (baseModel) {
    const auto &base =
        need("base_model_name_or_path", nlohmann::json::value_t::string, "a string").get<std::string>();
    fs::path p(base);
    std::error_code ec;
    if (p.is_relative() && fs::is_directory(fs::path(dir) / p, ec))
      p = fs::path(dir) / p;
    if (!fs::is_directory(p, ec))
      throw InputError(file, 0, "base_model_name_or_path",
                       "'" + base +
                           "' is not a model folder here (a Hub name needs a local copy of the model)");
    *baseModel = p.lexically_normal().string();
  }
  return s;
}

} // namespace preflab::core
