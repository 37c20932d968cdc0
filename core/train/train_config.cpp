// TrainConfig <-> YAML through one table of fields, so reading, overriding and saving agree.
#include "core/train/train_config.h"

#include "core/io/input_error.h"
#include "core/objectives/objective_info.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <functional>
#include <type_traits>
#include <sstream>

namespace preflab::core {

namespace {

// One config key: how to set it from a scalar string and how to print it.
struct Field {
  std::string key;
  std::function<void(TrainConfig &, const std::string &)> set;
  std::function<std::string(const TrainConfig &)> get;
};

template <typename T> T parseScalar(const std::string &key, const std::string &text) {
  if constexpr (std::is_same_v<T, std::string>)
    return text; // strings are taken as written (an empty value stays empty)
  try {
    return YAML::Load(text).as<T>();
  } catch (const YAML::Exception &) {
    throw InputError({}, 0, key, "cannot read '" + text + "' as the expected type");
  }
}

template <typename T> std::string printScalar(const T &value) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[32]; // shortest text that reads back as the same double
    for (int digits = 6; digits <= 17; ++digits) {
      std::snprintf(buf, sizeof buf, "%.*g", digits, double(value));
      if (std::strtod(buf, nullptr) == double(value))
        break;
    }
    return buf;
  } else {
    YAML::Emitter e;
    e << value;
    return e.c_str();
  }
}

template <typename T> Field field(std::string key, T TrainConfig::*member) {
  return {key, [member, key](TrainConfig &c, const std::string &v) { c.*member = parseScalar<T>(key, v); },
          [member](const TrainConfig &c) { return printScalar(c.*member); }};
}

template <typename S, typename T>
Field nested(std::string key, S TrainConfig::*section, T S::*member) {
  return {key,
          [section, member, key](TrainConfig &c, const std::string &v) { c.*section.*member = parseScalar<T>(key, v); },
          [section, member](const TrainConfig &c) { return printScalar(c.*section.*member); }};
}

const std::vector<Field> &fields() {
  using C = TrainConfig;
  using S = SentimentTaskConfig;
  static const std::vector<Field> kFields = {
      field("task", &C::task), field("train_file", &C::trainFile), field("eval_file", &C::evalFile),
      field("dataset_format", &C::datasetFormat), field("skip_invalid", &C::skipInvalid),
      nested("model.n_layer", &C::model, &GptConfig::nLayer),
      nested("model.n_head", &C::model, &GptConfig::nHead),
      nested("model.n_embd", &C::model, &GptConfig::nEmbd),
      nested("model.block_size", &C::model, &GptConfig::blockSize),
      nested("model.vocab_size", &C::model, &GptConfig::vocabSize),
      nested("model.dropout", &C::model, &GptConfig::dropout),
      field("model_name_or_path", &C::modelNameOrPath),
      field("ref_model_name_or_path", &C::refModelNameOrPath), field("loss_type", &C::lossType),
      field("beta", &C::beta), field("label_smoothing", &C::labelSmoothing),
      field("gamma_beta_ratio", &C::gammaBetaRatio), field("rdpo_alpha", &C::rdpoAlpha),
      field("desirable_weight", &C::desirableWeight), field("undesirable_weight", &C::undesirableWeight),
      field("center_rewards_coefficient", &C::centerRewardsCoefficient),
      field("learning_rate", &C::learningRate), field("weight_decay", &C::weightDecay),
      field("adam_beta1", &C::adamBeta1), field("adam_beta2", &C::adamBeta2),
      field("adam_epsilon", &C::adamEpsilon), field("lr_scheduler_type", &C::lrSchedulerType),
      field("warmup_ratio", &C::warmupRatio), field("warmup_steps", &C::warmupSteps),
      field("max_grad_norm", &C::maxGradNorm),
      field("per_device_train_batch_size", &C::perDeviceTrainBatchSize),
      field("per_device_eval_batch_size", &C::perDeviceEvalBatchSize),
      field("gradient_accumulation_steps", &C::gradientAccumulationSteps),
      field("max_steps", &C::maxSteps), field("num_train_epochs", &C::numTrainEpochs),
      field("max_length", &C::maxLength), field("max_prompt_length", &C::maxPromptLength),
      field("seed", &C::seed), field("logging_steps", &C::loggingSteps),
      field("eval_steps", &C::evalSteps), field("save_steps", &C::saveSteps),
      field("save_total_limit", &C::saveTotalLimit), field("output_dir", &C::outputDir),
      field("cache_dir", &C::cacheDir), field("precompute_ref_log_probs", &C::precomputeRefLogProbs),
      field("disable_dropout", &C::disableDropout),
      field("device", &C::device), field("threads", &C::threads),
      nested("sentiment.corpus_size", &C::sentiment, &S::corpusSize),
      nested("sentiment.sft_steps", &C::sentiment, &S::sftSteps),
      nested("sentiment.sft_learning_rate", &C::sentiment, &S::sftLearningRate),
      nested("sentiment.sft_batch_size", &C::sentiment, &S::sftBatchSize),
      nested("sentiment.num_prompts", &C::sentiment, &S::numPrompts),
      nested("sentiment.raters", &C::sentiment, &S::raters),
      nested("sentiment.rater_temperature", &C::sentiment, &S::raterTemperature),
      nested("sentiment.eval_fraction", &C::sentiment, &S::evalFraction),
      nested("sentiment.eval_prompts", &C::sentiment, &S::evalPrompts),
      nested("sentiment.sample_temperature", &C::sentiment, &S::sampleTemperature),
      nested("sentiment.max_new_tokens", &C::sentiment, &S::maxNewTokens),
  };
  return kFields;
}

const Field &findField(const std::string &key) {
  for (const auto &f : fields())
    if (f.key == key)
      return f;
  throw InputError({}, 0, key, "unknown config key (see 'preflab-cli train --help' for the list)");
}

// Walks a YAML mapping; nested mappings become dotted keys.
void applyNode(TrainConfig &config, const YAML::Node &node, const std::string &prefix,
               const std::string &source) {
  for (const auto &item : node) {
    const std::string key = prefix + item.first.as<std::string>();
    const int line = item.first.Mark().line + 1;
    try {
      if (item.second.IsMap()) {
        applyNode(config, item.second, key + ".", source);
      } else if (item.second.IsScalar()) {
        findField(key).set(config, item.second.Scalar());
      } else if (item.second.IsNull()) {
        continue; // "key:" with no value keeps the default
      } else {
        throw InputError({}, 0, key, "expected a single value");
      }
    } catch (const InputError &e) {
      throw InputError(source, line, e.key(), e.message());
    }
  }
}

} // namespace

void TrainConfig::validate() const {
  auto require = [](bool ok, const char *key, const std::string &what) {
    if (!ok)
      throw InputError({}, 0, key, what);
  };
  objectiveInfo(lossType); // throws for unknown names
  require(task.empty() || task == "sentiment", "task", "unknown task '" + task + "' (known: sentiment)");
  require(!task.empty() || !trainFile.empty(), "train_file", "required when no task is set");
  require(learningRate > 0, "learning_rate", "must be > 0");
  require(perDeviceTrainBatchSize >= 1, "per_device_train_batch_size", "must be >= 1");
  require(perDeviceEvalBatchSize >= 1, "per_device_eval_batch_size", "must be >= 1");
  require(gradientAccumulationSteps >= 1, "gradient_accumulation_steps", "must be >= 1");
  require(maxSteps > 0 || numTrainEpochs > 0, "max_steps", "set max_steps > 0 or num_train_epochs > 0");
  require(maxLength >= 2 && maxLength <= model.blockSize, "max_length", "must be in 2..model.block_size");
  require(maxPromptLength >= 1 && maxPromptLength < maxLength, "max_prompt_length", "must be in 1..max_length-1");
  require(lrSchedulerType == "constant" || lrSchedulerType == "constant_with_warmup" ||
              lrSchedulerType == "linear" || lrSchedulerType == "cosine",
          "lr_scheduler_type", "must be constant, constant_with_warmup, linear or cosine");
  require(warmupRatio >= 0 && warmupRatio < 1, "warmup_ratio", "must be in [0, 1)");
  require(labelSmoothing >= 0 && labelSmoothing < 0.5, "label_smoothing", "must be in [0, 0.5)");
  require(loggingSteps >= 1, "logging_steps", "must be >= 1");
  require(device == "cpu" || device == "cuda" || device == "auto", "device", "must be cpu, cuda or auto");
  require(threads >= 0, "threads", "must be >= 0");
  require(sentiment.raters >= 1, "sentiment.raters", "must be >= 1");
  require(sentiment.evalFraction > 0 && sentiment.evalFraction < 1, "sentiment.eval_fraction", "must be in (0, 1)");
  model.validate();
}

std::string TrainConfig::resolvedCacheDir() const {
  return cacheDir.empty() ? (std::filesystem::path(outputDir).parent_path() / ".cache").string() : cacheDir;
}

TrainConfig trainConfigFromYaml(const std::string &yamlText, const std::string &source) {
  TrainConfig config;
  YAML::Node root;
  try {
    root = YAML::Load(yamlText);
  } catch (const YAML::ParserException &e) {
    throw InputError(source, e.mark.line + 1, {}, "YAML syntax error: " + e.msg);
  }
  if (root.IsNull())
    return config;
  if (!root.IsMap())
    throw InputError(source, 1, {}, "the config must be a mapping of keys to values");
  applyNode(config, root, "", source);
  return config;
}

TrainConfig loadTrainConfig(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw InputError(path, 0, {}, "cannot open config file");
  std::stringstream text;
  text << in.rdbuf();
  return trainConfigFromYaml(text.str(), path);
}

void applyOverride(TrainConfig &config, const std::string &assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError({}, 0, assignment, "an override must read key=value");
  const std::string key = assignment.substr(0, eq);
  findField(key).set(config, assignment.substr(eq + 1));
}

std::string toYaml(const TrainConfig &config) {
  std::string out = "# Resolved PrefLab training config (every key, defaults included)\n";
  std::string section;
  for (const auto &f : fields()) {
    const auto dot = f.key.find('.');
    std::string name = f.key;
    if (dot != std::string::npos) {
      const std::string head = f.key.substr(0, dot);
      if (head != section)
        out += head + ":\n";
      section = head;
      name = "  " + f.key.substr(dot + 1);
    } else {
      section.clear();
    }
    out += name + ": " + f.get(config) + "\n";
  }
  return out;
}

std::vector<std::string> trainConfigKeys() {
  std::vector<std::string> keys;
  for (const auto &f : fields())
    keys.push_back(f.key);
  return keys;
}

} // namespace preflab::core
