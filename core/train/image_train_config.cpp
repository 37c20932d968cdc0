// ImageTrainConfig <-> YAML through the shared field table.
#include "core/train/image_train_config.h"

#include "core/io/input_error.h"
#include "core/train/config_checks.h"
#include "core/train/config_table.h"

namespace preflab::core {

namespace {

using Field = config_table::Field<ImageTrainConfig>;
using config_table::field;

const std::vector<Field> &fields() {
  using C = ImageTrainConfig;
  static const std::vector<Field> kFields = config_table::withObjectiveParams<C>(
      &C::objectiveParams, Modality::Image,
      config_table::joined<C>(
          {{
               field("task", &C::task, "text-to-image (selects this kind of run)"),
               field("train_file", &C::trainFile,
                     "image-pair manifest JSONL (caption, jpg_0, jpg_1, label_0), or fashion-mnist for "
                     "oracle-labelled pairs of real Fashion-MNIST images"),
               field("eval_file", &C::evalFile,
                     "held-out manifest; empty: eval_fraction of train_file is held out"),
               field("eval_fraction", &C::evalFraction,
                     "share of the pairs held out for implicit accuracy, in [0, 1)"),
               field("ties", &C::ties, "label_0 0.5: drop, or keep (trained in both orders)"),
               field("skip_invalid", &C::skipInvalid,
                     "skip malformed manifest lines (counted) instead of failing"),
               field("fashion_pairs_per_class", &C::fashionPairsPerClass,
                     "train_file: fashion-mnist only: pairs per class, >= 1"),
               field("reference_model", &C::referenceModel,
                     "diffusion model folder the policy starts from (pretrain-diffusion's model/ or a "
                     "checkpoint); "
                     "empty: the embedded Fashion-MNIST reference"),
               field("oracle_model", &C::oracleModel,
                     "judge of the held-out samples: an oracle folder, fashion (the embedded one), or empty "
                     "(none: "
                     "implicit accuracy only)"),
               field("loss_type", &C::lossType,
                     "image objective: " + config_table::objectiveNames(Modality::Image) +
                         " (preflab-cli objectives)"),
               field("beta", &C::beta,
                     "the objective's strength on its own scale (thousands for Diffusion-DPO); 0: the "
                     "objective's "
                     "default"),
               field("prompt_dropout", &C::promptDropout,
                     "rate of the empty prompt while training (classifier-free guidance), in [0, 1)"),
           },
           config_table::adamWFields<C>(),
           {
               field("lr_scheduler_type", &C::lrSchedulerType,
                     "constant, constant_with_warmup, linear (to 0) or cosine (to 0)"),
               field("warmup_steps", &C::warmupSteps, "linear warmup steps from 0, >= 0"),
               field("max_grad_norm", &C::maxGradNorm,
                     "clip the total gradient norm to this; 0: no clipping (the norm is still logged)"),
               field("per_device_train_batch_size", &C::perDeviceTrainBatchSize,
                     "pairs per step, in 1..65536"),
               field("max_steps", &C::maxSteps, "optimizer steps, >= 1"),
               field("seed", &C::seed, "seed of the pair order, timesteps, noise and the held-out split"),
               field("logging_steps", &C::loggingSteps, "write metrics.jsonl every N steps, >= 1"),
               field("eval_steps", &C::evalSteps, "evaluate every N steps; 0: only at the end"),
               field("save_steps", &C::saveSteps, "checkpoint every N steps; 0: only at the end"),
               field("output_dir", &C::outputDir, "the run folder"),
               field("eval_seeds_per_class", &C::evalSeedsPerClass,
                     "with an oracle: seeds per class prompt of the win-rate evaluation, >= 1"),
               field("eval_seed", &C::evalSeed,
                     "first seed of the evaluation samples (disjoint from the pairs' seeds)"),
               field("eval_split", &C::evalSplit,
                     "with an oracle: test (the phrasings no pair used) or validation (the pairs' phrasings, "
                     "seeds 2^32 above eval_seed): choose settings on validation, report test"),
               field("eval_sampler", &C::evalSampler, "ddim or ddpm"),
               field("eval_sampling_steps", &C::evalSamplingSteps,
                     "sampler steps of the evaluation; 0: all T"),
               field("guidance_scale", &C::guidanceScale,
                     "classifier-free guidance of the evaluation samples"),
               field("eval_timesteps", &C::evalTimesteps,
                     "timesteps implicit accuracy is averaged over, >= 1"),
               field("grid_seeds", &C::gridSeeds,
                     "columns (seeds) per row of the samples/ grids; 0: no grids"),
               field("appeal_weight", &C::appealWeight,
                     "oracle reward = P(class | image) + appeal_weight * appeal"),
               field("device", &C::device, "cpu, cuda or auto"),
               field("threads", &C::threads, "CPU threads, at most the machine's cores; 0: all cores"),
           }}));
  return kFields;
}

} // namespace

void ImageTrainConfig::validate() const {
  requireInput(task == "text-to-image", "task", "must be text-to-image for an image run");
  checkObjectiveParams(objectiveInfo(lossType, Modality::Image), lossParams()); // unknown names throw
  requireInput(!trainFile.empty(), "train_file", "a manifest JSONL or fashion-mnist is needed");
  requireInput(evalFraction >= 0 && evalFraction < 1, "eval_fraction", "must be in [0, 1)");
  requireInput(ties == "drop" || ties == "keep", "ties", "must be drop or keep");
  requireInput(fashionPairsPerClass >= 1, "fashion_pairs_per_class", "must be >= 1");
  requireInput(beta >= 0, "beta", "must be >= 0 (0: the objective's default)");
  requireInput(promptDropout >= 0 && promptDropout < 1, "prompt_dropout", "must be in [0, 1)");
  checkAdamW({learningRate, weightDecay, adamBeta1, adamBeta2, adamEpsilon, maxGradNorm, warmupSteps});
  requireInput(lrSchedulerType == "constant" || lrSchedulerType == "constant_with_warmup" ||
                   lrSchedulerType == "linear" || lrSchedulerType == "cosine",
               "lr_scheduler_type", "must be constant, constant_with_warmup, linear or cosine");
  checkCount("per_device_train_batch_size", perDeviceTrainBatchSize, 1);
  requireInput(maxSteps >= 1, "max_steps", "must be >= 1");
  requireInput(loggingSteps >= 1, "logging_steps", "must be >= 1");
  requireInput(evalSteps >= 0 && saveSteps >= 0, "eval_steps", "eval_steps and save_steps must be >= 0");
  requireInput(evalSeedsPerClass >= 1, "eval_seeds_per_class", "must be >= 1");
  requireInput(evalSplit == "test" || evalSplit == "validation", "eval_split", "must be test or validation");
  requireInput(evalSampler == "ddim" || evalSampler == "ddpm", "eval_sampler", "must be ddim or ddpm");
  requireInput(evalSamplingSteps >= 0, "eval_sampling_steps", "must be >= 0 (0: all T)");
  requireInput(evalTimesteps >= 1, "eval_timesteps", "must be >= 1");
  requireInput(gridSeeds >= 0, "grid_seeds", "must be >= 0");
  requireInput(appealWeight >= 0, "appeal_weight", "must be >= 0");
  requireInput(device == "cpu" || device == "cuda" || device == "auto", "device",
               "must be cpu, cuda or auto");
  checkThreads(threads);
}

ObjectiveParams ImageTrainConfig::lossParams() const {
  return objectiveParamsFrom(objectiveInfo(lossType, Modality::Image), beta, objectiveParams);
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

std::vector<ConfigKeyHelp> imageTrainConfigHelp() {
  return config_table::keyHelp(fields(), ImageTrainConfig{});
}

} // namespace preflab::core
