// preflab-cli pretrain-diffusion / train-oracle / generate-pairs: the text-to-image task's tools.
#include "cli/cli_common.h"

#include "core/io/resource_paths.h"
#include "core/jobs/diffusion_pretrain.h"
#include "core/tasks/fashion_oracle.h"
#include "core/tasks/image_pairs.h"

#include <cstdio>
#include <iostream>

namespace preflab::cli {

namespace {

void addSamplingOptions(CLI::App *cmd, core::DiffusionSamplingOptions &s, std::string &sampler) {
  cmd->add_option("--sampler", sampler, "ddim or ddpm")->check(CLI::IsMember({"ddim", "ddpm"}));
  cmd->add_option("--sampling-steps", s.steps, "denoising steps (0: all T)")->check(kNonNegative);
  cmd->add_option("--guidance", s.guidanceScale, "classifier-free guidance scale (1: conditional only)");
  cmd->add_option("--eta", s.eta, "DDIM eta (0: deterministic)")->check(CLI::Range(0.0, 1.0));
}

core::TrainerCallbacks progressCallbacks(ProgressLine &progress, const std::string &stage, bool quiet) {
  core::TrainerCallbacks cb;
  if (quiet)
    return cb;
  cb.onLog = [&progress, stage](const core::StepRecord &r) {
    char detail[96];
    std::snprintf(detail, sizeof detail, "step %lld/%lld loss %.4f | %.0f s", (long long)r.step,
                  (long long)r.maxSteps, r.metrics.count("loss") ? r.metrics.at("loss") : 0.0,
                  r.elapsedSeconds);
    progress.update(stage, double(r.step) / double(std::max<std::int64_t>(1, r.maxSteps)), detail);
  };
  cb.onProgress = [&progress](const std::string &s, double f) { progress.update(s, f); };
  cb.onMessage = [&progress](const std::string &m) {
    progress.finish();
    std::cerr << m << std::endl;
  };
  return cb;
}

} // namespace

Action addPretrainDiffusionCommand(CLI::App &app) {
  auto *cmd = app.add_subcommand(
      "pretrain-diffusion", "Pretrain the text-to-image reference (conditional UNet, DDPM) on Fashion-MNIST "
                            "with class prompts; writes a run folder with model/ and samples/grid.png.");
  auto o = std::make_shared<core::DiffusionPretrainOptions>();
  auto quiet = std::make_shared<bool>(false);
  cmd->add_option("--out", o->outputDir, "run folder to write")->required();
  cmd->add_option("--data-dir", o->dataDir,
                  "Fashion-MNIST folder (default: $PREFLAB_FASHION_MNIST_DIR or "
                  "/usr/share/datasets/fashion-mnist)");
  cmd->add_option("--steps", o->steps, "optimizer steps")->check(kPositive);
  cmd->add_option("--batch-size", o->batchSize, "images per step")->check(kPositive);
  cmd->add_option("--lr", o->learningRate, "peak AdamW learning rate")->check(kPositive);
  cmd->add_option("--warmup-steps", o->warmupSteps, "linear warmup steps")->check(kNonNegative);
  cmd->add_option("--ema-decay", o->emaDecay, "decay of the saved weight average")
      ->check(CLI::Range(0.0, 0.99999));
  cmd->add_option("--base-channels", o->model.baseChannels, "UNet width at full resolution")
      ->check(kPositive);
  cmd->add_option("--prompt-dropout", o->model.promptDropout, "probability of the empty prompt (CFG)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--guidance", o->model.guidanceScale, "default guidance scale stored with the model");
  cmd->add_option("--beta-schedule", o->model.betaSchedule, "linear or cosine")
      ->check(CLI::IsMember({"linear", "cosine"}));
  cmd->add_option("--seed", o->seed, "seed of the initial weights and the data order");
  cmd->add_option("--threads", o->threads, "CPU threads (0: all cores)")->check(kNonNegative);
  cmd->add_option("--device", o->device, "cpu, cuda or auto");
  cmd->add_option("--grid-seeds", o->gridSeeds, "seeds per class in samples/grid.png (0: no grid)")
      ->check(kNonNegative);
  cmd->add_option("--save-steps", o->saveSteps, "checkpoint every N steps (0: only at the end)")
      ->check(kNonNegative);
  cmd->add_flag("--resume", o->resume, "continue from the newest checkpoint in --out");
  cmd->add_flag("-q,--quiet", *quiet, "no progress line");
  return [o, quiet]() -> int {
    ProgressLine progress;
    const auto result =
        core::pretrainDiffusion(*o, progressCallbacks(progress, "pretrain-diffusion", *quiet));
    progress.finish();
    std::printf("model: %s\nsteps: %lld\nfinal loss: %.4f\nseconds: %.1f\n%s", result.modelDir.c_str(),
                (long long)result.steps, result.finalLoss, result.seconds,
                result.cancelled ? "cancelled\n" : "");
    return kOk;
  };
}

Action addTrainOracleCommand(CLI::App &app) {
  auto *cmd =
      app.add_subcommand("train-oracle", "Train the Fashion-MNIST classifier that the text-to-image "
                                         "oracle uses for prompt alignment; reports its test accuracy.");
  auto o = std::make_shared<core::OracleTrainOptions>();
  auto quiet = std::make_shared<bool>(false);
  cmd->add_option("--out", o->outputDir, "oracle folder to write")->required();
  cmd->add_option("--data-dir", o->dataDir, "Fashion-MNIST folder");
  cmd->add_option("--epochs", o->epochs, "passes over the 60,000 training images")
      ->check(kPositive);
  cmd->add_option("--batch-size", o->batchSize, "images per step")->check(kPositive);
  cmd->add_option("--lr", o->learningRate, "AdamW learning rate")->check(kPositive);
  cmd->add_option("--seed", o->seed, "seed");
  cmd->add_option("--threads", o->threads, "CPU threads (0: all cores)")->check(kNonNegative);
  cmd->add_flag("-q,--quiet", *quiet, "no progress line");
  return [o, quiet]() -> int {
    ProgressLine progress;
    const auto r = core::trainFashionOracle(*o, progressCallbacks(progress, "train-oracle", *quiet));
    progress.finish();
    std::printf("oracle: %s\ntest accuracy: %.4f (%lld images)\nsteps: %lld\nseconds: %.1f\n", r.dir.c_str(),
                r.testAccuracy, (long long)r.testCount, (long long)r.steps, r.seconds);
    return kOk;
  };
}

Action addGeneratePairsCommand(CLI::App &app) {
  auto *cmd = app.add_subcommand(
      "generate-pairs",
      "Sample two images per class prompt from a diffusion model (or draw two Fashion-MNIST "
      "images), score them with the oracle, let simulated Bradley-Terry raters vote, and write "
      "a Pick-a-Pic-style manifest.jsonl with PNG files.");
  auto o = std::make_shared<core::PairGenerationOptions>();
  auto sampler = std::make_shared<std::string>("ddim");
  auto source = std::make_shared<std::string>("model");
  auto quiet = std::make_shared<bool>(false);
  o->modelDir = core::embeddedResource("fashion-reference");
  o->oracleDir = core::embeddedResource("fashion-oracle");
  o->sampling.steps = 25;
  o->sampling.guidanceScale = 1.5;
  o->sampling.batchInvariant = false;
  cmd->add_option("--out", o->outputDir, "folder for manifest.jsonl and images/")->required();
  cmd->add_option("--source", *source, "model (sample from --model) or fashion-mnist (real images)")
      ->check(CLI::IsMember({"model", "fashion-mnist"}));
  cmd->add_option("--model", o->modelDir, "diffusion model folder (default: the embedded reference)");
  cmd->add_option("--oracle", o->oracleDir, "oracle folder (default: the embedded oracle)");
  cmd->add_option("--data-dir", o->dataDir, "Fashion-MNIST folder (source fashion-mnist)");
  cmd->add_option("--pairs-per-class", o->pairsPerClass, "pairs per class prompt (10 classes)")
      ->check(kPositive);
  cmd->add_option("--seed", o->seed, "pair k uses seeds seed+2k and seed+2k+1");
  cmd->add_option("--raters", o->raters, "simulated raters per pair")->check(kPositive);
  cmd->add_option("--rater-temperature", o->raterTemperature, "temperature of their Bradley-Terry choice")
      ->check(kPositive);
  cmd->add_option("--appeal-weight", o->appealWeight, "weight of the visual-appeal term in the oracle reward")
      ->check(kNonNegative);
  cmd->add_option("--device", o->device, "cpu, cuda or auto");
  cmd->add_option("--threads", o->threads, "CPU threads (0: all cores)")->check(kNonNegative);
  addSamplingOptions(cmd, o->sampling, *sampler);
  cmd->add_flag("-q,--quiet", *quiet, "no progress line");
  return [o, sampler, source, quiet]() -> int {
    o->sampling.sampler =
        *sampler == "ddpm" ? core::DiffusionSamplerKind::Ddpm : core::DiffusionSamplerKind::Ddim;
    o->source = *source == "model" ? core::PairSource::Model : core::PairSource::FashionMnist;
    ProgressLine progress;
    const auto r = core::generatePairs(*o, progressCallbacks(progress, "generate-pairs", *quiet));
    progress.finish();
    std::printf("manifest: %s\npairs: %lld (first image preferred %lld, ties %lld)\nraters agree with the "
                "oracle's higher reward: %.3f\nmean reward gap: %.3f\nseconds: %.1f\n",
                r.manifestPath.c_str(), (long long)r.pairs, (long long)r.firstPreferred, (long long)r.ties,
                r.oracleAgreement, r.meanRewardGap, r.seconds);
    return kOk;
  };
}

} // namespace preflab::cli
