// ImageTrainConfig <-> YAML through the shared field table.
#include "core/train/image_train_config.h"

#include "core/io/input_error.h"
#include "core/objectives/diffusion_objective_info.h"
#include "core/train/config_table.h"

namespace preflab::core {

namespace {

using Field = config_table::Field<ImageTrainConfig>;
using config_table::field;

const std::vector<Field> &fields() {
  using C = ImageTrainConfig;
  static const std::vector<Field> kFields = {
      field("task", &C::task),
      field("train_file", &C::trainFile),
      field("eval_file", &C::evalFile),
      field("eval_fraction", &C::evalFraction),
      field("ties", &C::ties),
      field("skip_invalid", &C::skipInvalid),
      field("fashion_pairs_per_class", &C::fashionPairsPerClass),
      field("reference_model", &C::referenceModel),
      field("oracle_model", &C::oracleModel),
      field("loss_type", &C::lossType),
      field("beta", &C::beta),
      field("detach_target", &C::detachTarget),
      field("sdxl_gap_threshold", &C::sdxlGapThreshold),
      field("desirable_weight", &C::desirableWeight),
      field("undesirable_weight", &C::undesirableWeight),
      field("prompt_dropout", &C::promptDropout),
      field("learning_rate", &C::learningRate),
      field("weight_decay", &C::weightDecay),
      field("adam_beta1", &C::adamBeta1),
      field("adam_beta2", &C::adamBeta2),
      field("adam_epsilon", &C::adamEpsilon),
      field("lr_scheduler_type", &C::lrSchedulerType),
      field("warmup_steps", &C::warmupSteps),
      field("max_grad_norm", &C::maxGradNorm),
      field("per_device_train_batch_size", &C::perDeviceTrainBatchSize),
      field("max_steps", &C::maxSteps),
      field("seed", &C::seed),
      field("logging_steps", &C::loggingSteps),
      field("eval_steps", &C::evalSteps),
      field("save_steps", &C::saveSteps),
      field("output_dir", &C::outputDir),
      field("eval_seeds_per_class", &C::evalSeedsPerClass),
      field("eval_seed", &C::evalSeed),
      field("eval_sampler", &C::evalSampler),
      field("eval_sampling_steps", &C::evalSamplingSteps),
      field("guidance_scale", &C::guidanceScale),
      field("eval_timesteps", &C::evalTimesteps),
      field("grid_seeds", &C::gridSeeds),
      field("appeal_weight", &C::appealWeight),
      field("device", &C::device),
      field("threads", &C::threads),
  };
  return kFields;
}

} // namespace

void ImageTrainConfig::validate() const {
  auto require = [](bool ok, const char *key, const std::string &what) {
    if (!ok)
      throw InputError({}, 0, key, what);
  };
  require(task == "text-to-image", "task", "must be text-to-image for an image run");
  diffusionObjectiveInfo(lossType); // throws for unknown names, listing the known ones
  require(!trainFile.empty(), "train_file", "a manifest JSONL or fashion-mnist is needed");
  require(evalFraction >= 0 && evalFraction < 1, "eval_fraction", "must be in [0, 1)");
  require(ties == "drop" || ties == "keep", "ties", "must be drop or keep");
  require(fashionPairsPerClass >= 1, "fashion_pairs_per_class", "must be >= 1");
  require(beta >= 0, "beta", "must be >= 0 (0: the objective's default)");
  require(promptDropout >= 0 && promptDropout < 1, "prompt_dropout", "must be in [0, 1)");
  require(learningRate > 0, "learning_rate", "must be > 0");
  require(lrSchedulerType == "constant" || lrSchedulerType == "constant_with_warmup" ||
              lrSchedulerType == "linear" || lrSchedulerType == "cosine",
          "lr_scheduler_type", "must be constant, constant_with_warmup, linear or cosine");
  require(warmupSteps >= 0, "warmup_steps", "must be >= 0");
  require(maxGradNorm >= 0, "max_grad_norm", "must be >= 0 (0: no clipping)");
  require(perDeviceTrainBatchSize >= 1, "per_device_train_batch_size", "must be >= 1");
  require(maxSteps >= 1, "max_steps", "must be >= 1");
  require(loggingSteps >= 1, "logging_steps", "must be >= 1");
  require(evalSteps >= 0 && saveSteps >= 0, "eval_steps", "eval_steps and save_steps must be >= 0");
  require(evalSeedsPerClass >= 1, "eval_seeds_per_class", "must be >= 1");
  require(evalSampler == "ddim" || evalSampler == "ddpm", "eval_sampler", "must be ddim or ddpm");
  require(evalSamplingSteps >= 0, "eval_sampling_steps", "must be >= 0 (0: all T)");
  require(evalTimesteps >= 1, "eval_timesteps", "must be >= 1");
  require(gridSeeds >= 0, "grid_seeds", "must be >= 0");
  require(appealWeight >= 0, "appeal_weight", "must be >= 0");
  require(device == "cpu" || device == "cuda" || device == "auto", "device", "must be cpu, cuda or auto");
  require(threads >= 0, "threads", "must be >= 0");
}

ImageTrainConfig imageTrainConfigFromYaml(const std::string &yamlText, const std::string &source) {
  ImageTrainConfig config;
  config_table::fromYaml(fields(), config, yamlText, source);
  return config;
}

ImageTrainConfig loadImageTrainConfig(const std::string &path) {
  return imageTrainConfigFromYaml(config_table::readConfigText(path), path);
}

void applyOverride(ImageTrainConfig &config, const std::string &assignment) {
  config_table::applyOverride(fields(), config, assignment);
}

std::string toYaml(const ImageTrainConfig &config) {
  return config_table::toYaml(fields(), config,
                              "Resolved PrefLab text-to-image config (every key, defaults included)");
}

std::vector<std::string> imageTrainConfigKeys() {
  return config_table::keys(fields());
}

bool isImageTrainConfigFile(const std::string &path) {
  try {
    const auto root = YAML::Load(config_table::readConfigText(path));
    return root.IsMap() && root["task"] && root["task"].IsScalar() &&
           root["task"].Scalar() == "text-to-image";
  } catch (const std::exception &) {
    return false;
  }
}

} // namespace preflab::core
