// TrainConfig <-> YAML through one table of fields, so reading, overriding and saving agree.
#include "core/train/train_config.h"

#include "core/io/input_error.h"
#include "core/train/config_table.h"
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

using Field = config_table::Field<TrainConfig>;
using config_table::field;
using config_table::nested;

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
  config_table::fromYaml(fields(), config, yamlText, source);
  return config;
}

TrainConfig loadTrainConfig(const std::string &path) {
  return trainConfigFromYaml(config_table::readConfigText(path), path);
}

void applyOverride(TrainConfig &config, const std::string &assignment) {
  config_table::applyOverride(fields(), config, assignment);
}

std::string toYaml(const TrainConfig &config) {
  return config_table::toYaml(fields(), config, "Resolved PrefLab training config (every key, defaults included)");
}

std::vector<std::string> trainConfigKeys() { return config_table::keys(fields()); }

} // namespace preflab::core
