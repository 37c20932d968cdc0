// Text-to-image preference training: pairs -> tensors, the Diffusion-DPO / DSPO / SFT / KTO step
// with shared noise and timestep per pair, oracle evaluation, grids.
#include "core/train/image_training.h"

#include "core/train/image_step.h"

#include "core/data/fashion_mnist.h"
#include "core/data/image_output.h"
#include "core/data/image_preference_reader.h"
#include "core/diffusion/diffusion_loss.h"
#include "core/diffusion/diffusion_store.h"
#include "core/diffusion/sampler.h"
#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/resource_paths.h"
#include "core/objectives/diffusion_objectives.h"
#include "core/tasks/fashion_oracle.h"
#include "core/tasks/image_pairs.h"
#include "core/tasks/raters.h"
#include "core/train/compute_threads.h"
#include "core/train/device.h"
#include "core/train/lr_schedule.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

// N pairs on the CPU: winners and losers (N, C, H, W) in [-1, 1], prompt ids (N, L), class labels.
struct PairTensors {
  torch::Tensor winners, losers, ids;
  std::vector<std::string> captions;
  std::int64_t size() const { return winners.defined() ? winners.size(0) : 0; }
};

torch::Tensor imageTensor(const ImageBuffer &image) { // -> (C, H, W) in [-1, 1]
  return torch::from_blob(const_cast<std::uint8_t *>(image.pixels.data()),
                          {image.height, image.width, image.channels}, torch::kUInt8)
      .permute({2, 0, 1})
      .to(torch::kFloat32)
      .div(127.5)
      .sub(1.0);
}

// One oriented pair: image `w` preferred (or, for a kept tie, trained in both orders).
struct OrientedPair {
  std::string caption;
  const ImageBuffer *w = nullptr, *l = nullptr;
  bool tie = false;
};

PairTensors toTensors(const std::vector<OrientedPair> &pairs, const DiffusionConfig &model) {
  std::vector<torch::Tensor> w, l;
  PairTensors out;
  for (const auto &p : pairs) {
    if (p.w->width != model.imageSize || p.w->height != model.imageSize || p.w->channels != model.channels ||
        p.l->width != model.imageSize || p.l->height != model.imageSize || p.l->channels != model.channels)
      throw InputError({}, 0, "image_size",
                       "pair '" + p.caption + "' has images of " + std::to_string(p.w->width) + "x" +
                           std::to_string(p.w->height) + "x" + std::to_string(p.w->channels) +
                           " but the model needs " + std::to_string(model.imageSize) + "x" +
                           std::to_string(model.imageSize) + "x" + std::to_string(model.channels));
    w.push_back(imageTensor(*p.w));
    l.push_back(imageTensor(*p.l));
    out.captions.push_back(p.caption);
    if (p.tie) { // both orders: the loss then pulls the two margins together
      w.push_back(imageTensor(*p.l));
      l.push_back(imageTensor(*p.w));
      out.captions.push_back(p.caption);
    }
  }
  if (w.empty())
    return out;
  out.winners = torch::stack(w);
  out.losers = torch::stack(l);
  out.ids = tokenizePrompts(out.captions, model.maxPromptLength);
  return out;
}

struct LoadedPairs {
  PairTensors train, eval;
  std::string description;
};

LoadedPairs loadPairs(const ImageTrainConfig &config, const DiffusionConfig &model,
                      const std::string &oracleDir, const TrainerCallbacks &cb) {
  auto say = [&](const std::string &m) {
    if (cb.onMessage)
      cb.onMessage(m);
  };
  LoadedPairs out;
  std::vector<OrientedPair> train, eval;
  // Storage that the oriented pairs point into.
  std::vector<LabelledImagePair> fashion;
  ImagePreferenceData trainData, evalData;
  auto orient = [&](const ImagePair &p) {
    return OrientedPair{p.caption, &p.image0, &p.image1, p.label0 == 0.5};
  };
  if (config.trainFile == "fashion-mnist") {
    PairGenerationOptions o;
    o.source = PairSource::FashionMnist;
    o.oracleDir = oracleDir;
    o.pairsPerClass = config.fashionPairsPerClass;
    o.seed = config.seed;
    o.appealWeight = config.appealWeight;
    fashion = makeLabelledPairs(o, cb);
    for (const auto &p : fashion) {
      const double label0 = p.label0();
      if (label0 == 0.5 && config.ties == "drop")
        continue;
      train.push_back(label0 >= 0.5 ? OrientedPair{p.caption, &p.image0, &p.image1, label0 == 0.5}
                                    : OrientedPair{p.caption, &p.image1, &p.image0, false});
    }
    out.description = std::to_string(train.size()) + " Fashion-MNIST pairs labelled by the oracle";
  } else {
    ImageReadOptions ro;
    ro.resolution = int(model.imageSize);
    ro.channels = int(model.channels);
    ro.ties = config.ties == "keep" ? TiePolicy::Keep : TiePolicy::Drop;
    ro.skipInvalid = config.skipInvalid;
    trainData = readImagePreferences(config.trainFile, ro);
    for (const auto &p : trainData.pairs)
      train.push_back(orient(p));
    out.description = std::to_string(trainData.pairs.size()) + " pairs from " + config.trainFile;
    if (!trainData.skippedImages.empty())
      say(config.trainFile + ": skipped " + std::to_string(trainData.skippedImages.size()) +
          " pairs with missing or unreadable images (first: " + trainData.skippedImages.front().path + ": " +
          trainData.skippedImages.front().reason + ")");
    if (!trainData.skipped.empty())
      say(config.trainFile + ": skipped " + std::to_string(trainData.skipped.size()) + " malformed lines");
    if (trainData.tiesDropped > 0)
      say(config.trainFile + ": dropped " + std::to_string(trainData.tiesDropped) + " ties (ties: drop)");
    if (!config.evalFile.empty()) {
      evalData = readImagePreferences(config.evalFile, ro);
      for (const auto &p : evalData.pairs)
        eval.push_back(orient(p));
    }
  }
  if (config.evalFile.empty() && config.evalFraction > 0 && train.size() >= 2) {
    // Hold out a seeded random share, so eval pairs are spread over the prompts.
    std::vector<std::size_t> order(train.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::mt19937_64 rng(config.seed);
    std::shuffle(order.begin(), order.end(), rng);
    const auto held = std::max<std::size_t>(1, std::size_t(double(train.size()) * config.evalFraction));
    std::vector<OrientedPair> kept;
    for (std::size_t i = 0; i < order.size(); ++i)
      (i < held ? eval : kept).push_back(train[order[i]]);
    train = std::move(kept);
  }
  if (train.empty())
    throw InputError(config.trainFile, 0, "train_file", "no usable pairs to train on");
  out.train = toTensors(train, model);
  out.eval = toTensors(eval, model);
  return out;
}

// Fixed held-out prompts and seeds, the reference's samples and scores, the oracle.
struct Evaluator {
  std::vector<std::string> prompts;
  std::vector<int> labels;
  std::vector<std::uint64_t> seeds;
  DiffusionSamplingOptions sampling;
  std::vector<ImageBuffer> refImages;
  std::vector<OracleScore> refScores;
  std::vector<double> refEvalMse; // per (eval pair, timestep): mse_ref_w - mse_ref_l
  std::vector<std::int64_t> timesteps;
  std::unique_ptr<FashionOracle> oracle;
};

std::vector<ImageBuffer> sampleAll(UNet &model, const NoiseSchedule &schedule, const Evaluator &ev) {
  std::vector<ImageBuffer> out;
  for (const auto &image : sampleImages(model, schedule, ev.prompts, ev.seeds, ev.sampling))
    out.push_back(toImageBuffer(image));
  return out;
}

// mse_w - mse_l per (pair, timestep) with fixed noise per pair; -> flattened row-major vector.
std::vector<double> mseGaps(UNet &model, const NoiseSchedule &schedule, const PairTensors &pairs,
                            const std::vector<std::int64_t> &timesteps, std::uint64_t seed,
                            torch::Device device) {
  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  std::vector<double> out;
  constexpr std::int64_t kChunk = 64;
  for (std::int64_t begin = 0; begin < pairs.size(); begin += kChunk) {
    const auto end = std::min(pairs.size(), begin + kChunk);
    const auto n = end - begin;
    const auto w = pairs.winners.slice(0, begin, end).to(device);
    const auto l = pairs.losers.slice(0, begin, end).to(device);
    const auto ids = pairs.ids.slice(0, begin, end).to(device);
    std::vector<torch::Tensor> gapsPerT;
    for (std::size_t k = 0; k < timesteps.size(); ++k) {
      auto gen = at::detail::createCPUGenerator(seed + std::uint64_t(begin) * 1000003ULL + k);
      const auto eps = torch::randn(w.sizes(), gen, torch::TensorOptions(torch::kFloat32)).to(device);
      const auto t = torch::full({2 * n}, timesteps[k], torch::TensorOptions(torch::kInt64).device(device));
      const auto mse = perSampleMse(model, schedule, torch::cat({w, l}), t, torch::cat({eps, eps}),
                                    torch::cat({ids, ids}));
      gapsPerT.push_back((mse.slice(0, 0, n) - mse.slice(0, n, 2 * n)).cpu());
    }
    const auto gaps = torch::stack(gapsPerT, 1).to(torch::kFloat64).contiguous(); // (n, T_eval)
    const double *g = gaps.data_ptr<double>();
    out.insert(out.end(), g, g + gaps.numel());
  }
  model->train(wasTraining);
  return out;
}

ImageBuffer classGrid(const std::vector<ImageBuffer> &images, std::int64_t gridSeeds,
                      std::int64_t seedsPerClass) {
  std::vector<ImageBuffer> tiles;
  for (int label = 0; label < kFashionMnistClasses; ++label)
    for (std::int64_t s = 0; s < std::min(gridSeeds, seedsPerClass); ++s)
      tiles.push_back(images[std::size_t(label) * std::size_t(seedsPerClass) + std::size_t(s)]);
  return tileImages(tiles, int(std::min(gridSeeds, seedsPerClass)), 2, 2, 255);
}

std::map<std::string, double> evaluate(UNet &policy, const NoiseSchedule &schedule, Evaluator &ev,
                                       const PairTensors &evalPairs, const ImageTrainConfig &config,
                                       torch::Device device, RunFolder &folder, std::int64_t step) {
  const auto images = sampleAll(policy, schedule, ev);
  const auto scores = ev.oracle->score(images, ev.labels);
  std::vector<double> outcomes;
  double reward = 0, rewardRef = 0, acc = 0, accRef = 0, appeal = 0, appealRef = 0;
  std::string samplesJsonl;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const auto &s = scores[i], &r = ev.refScores[i];
    outcomes.push_back(s.reward > r.reward ? 1.0 : (s.reward == r.reward ? 0.5 : 0.0));
    reward += s.reward;
    rewardRef += r.reward;
    acc += s.predicted == s.label;
    accRef += r.predicted == r.label;
    appeal += s.appeal;
    appealRef += r.appeal;
    samplesJsonl += nlohmann::json{{"prompt", ev.prompts[i]},   {"seed", ev.seeds[i]},
                                   {"reward", s.reward},        {"reward_ref", r.reward},
                                   {"class_prob", s.classProb}, {"class_prob_ref", r.classProb},
                                   {"appeal", s.appeal},        {"appeal_ref", r.appeal}}
                        .dump() +
                    "\n";
  }
  const double n = double(std::max<std::size_t>(1, scores.size()));
  const auto win = winRateWithInterval(outcomes);
  std::map<std::string, double> m = {{"eval/oracle_reward", reward / n},
                                     {"eval/oracle_reward_ref", rewardRef / n},
                                     {"eval/win_rate", win.rate},
                                     {"eval/win_rate_low", win.low},
                                     {"eval/win_rate_high", win.high},
                                     {"eval/class_accuracy", acc / n},
                                     {"eval/class_accuracy_ref", accRef / n},
                                     {"eval/appeal", appeal / n},
                                     {"eval/appeal_ref", appealRef / n},
                                     {"eval/prompts", double(scores.size())}};
  if (evalPairs.size() > 0) {
    const auto gaps = mseGaps(policy, schedule, evalPairs, ev.timesteps, config.evalSeed, device);
    double correct = 0;
    for (std::size_t i = 0; i < gaps.size(); ++i) // inside > 0  <=>  (ref gap) - (model gap) > 0
      correct += ev.refEvalMse[i] - gaps[i] > 0;
    m["eval/implicit_acc"] = correct / double(std::max<std::size_t>(1, gaps.size()));
    m["eval/pairs"] = double(evalPairs.size());
  }
  writeFileAtomic(folder.path("eval/samples.jsonl"), samplesJsonl);
  if (config.gridSeeds > 0) {
    const auto grid = besideEachOther(classGrid(ev.refImages, config.gridSeeds, config.evalSeedsPerClass),
                                      classGrid(images, config.gridSeeds, config.evalSeedsPerClass), 12, 255);
    writePngFile(folder.path("samples/grid-step-" + std::to_string(step) + ".png"), grid);
    writePngFile(folder.path("samples/grid.png"), grid);
  }
  return m;
}

void saveCheckpoint(UNet &policy, RunFolder &folder, std::int64_t step) {
  const auto dir = folder.checkpointDir(step);
  saveDiffusionModel(policy, dir);
  writeFileAtomic(dir + "/trainer_state.json", nlohmann::json{{"global_step", step}}.dump(2) + "\n");
}

RunSummary execute(const ImageTrainConfig &config, const TrainerCallbacks &cb,
                   const std::atomic<bool> *cancel, const std::atomic<bool> *pause, RunFolder &folder) {
  auto say = [&](const std::string &m) {
    if (cb.onMessage)
      cb.onMessage(m);
  };
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  RunSummary summary;
  summary.runDir = folder.root();
  summary.maxSteps = config.maxSteps;
  const auto device = resolveDevice(config.device);
  setComputeThreads(int(config.threads));
  const auto refDir =
      config.referenceModel.empty() ? embeddedResource("fashion-reference") : config.referenceModel;
  const auto oracleDir = config.oracleModel.empty() ? embeddedResource("fashion-oracle") : config.oracleModel;
  writeFileAtomic(folder.path("run_info.json"),
                  nlohmann::json{{"task", "text-to-image"},
                                 {"loss_type", config.lossType},
                                 {"reference_model", fs::absolute(refDir).string()},
                                 {"oracle_model", fs::absolute(oracleDir).string()},
                                 {"policy_final", "model"}}
                          .dump(2) +
                      "\n");
  UNet reference = loadDiffusionModel(refDir);
  reference->to(device);
  reference->eval();
  for (auto &p : reference->parameters())
    p.set_requires_grad(false);
  const auto &modelConfig = reference->config();
  const NoiseSchedule schedule(modelConfig);

  folder.writeStatus(RunState::Running, "loading pairs", 0, config.maxSteps);
  auto pairs = loadPairs(config, modelConfig, oracleDir, cb);
  say("training on " + pairs.description + " (" + std::to_string(pairs.train.size()) + " train, " +
      std::to_string(pairs.eval.size()) + " held out)");

  const auto &info = diffusionObjectiveInfo(config.lossType);
  DiffusionObjectiveParams params;
  params.beta = config.beta > 0 ? config.beta : info.defaultBeta;
  params.detachTarget = config.detachTarget;
  params.sdxlGapThreshold = config.sdxlGapThreshold;
  params.desirableWeight = config.desirableWeight;
  params.undesirableWeight = config.undesirableWeight;
  const auto &objective = diffusionObjectiveFunction(config.lossType);

  torch::manual_seed(config.seed);
  UNet policy = cloneUNet(reference);
  for (auto &p : policy->parameters())
    p.set_requires_grad(true);
  policy->train();
  torch::optim::AdamW optimizer(policy->parameters(), torch::optim::AdamWOptions(config.learningRate)
                                                          .betas({config.adamBeta1, config.adamBeta2})
                                                          .eps(config.adamEpsilon)
                                                          .weight_decay(config.weightDecay));
  const LrSchedule lr{config.lrSchedulerType, config.learningRate, config.warmupSteps, config.maxSteps};

  // Held-out prompts and seeds; the reference is sampled and scored once.
  Evaluator ev;
  ev.oracle = std::make_unique<FashionOracle>(oracleDir, OracleRewardSettings{config.appealWeight});
  for (int label = 0; label < kFashionMnistClasses; ++label)
    for (std::int64_t s = 0; s < config.evalSeedsPerClass; ++s) {
      // The phrasings that pair generation never uses, alternating by seed.
      ev.prompts.push_back(fashionMnistPrompt(
          label, kFashionPairTemplates + int(s % (kFashionPromptTemplates - kFashionPairTemplates))));
      ev.labels.push_back(label);
      ev.seeds.push_back(config.evalSeed + std::uint64_t(label) * std::uint64_t(config.evalSeedsPerClass) +
                         std::uint64_t(s));
    }
  ev.sampling.sampler =
      config.evalSampler == "ddpm" ? DiffusionSamplerKind::Ddpm : DiffusionSamplerKind::Ddim;
  ev.sampling.steps = config.evalSamplingSteps;
  ev.sampling.guidanceScale = config.guidanceScale;
  ev.sampling.batchInvariant = false;
  const auto T = schedule.timesteps();
  for (std::int64_t k = 0; k < config.evalTimesteps; ++k)
    ev.timesteps.push_back(std::min<std::int64_t>(
        T - 1, std::int64_t((double(k) + 0.5) * double(T) / double(config.evalTimesteps))));
  folder.writeStatus(RunState::Running, "sampling the reference on held-out prompts", 0, config.maxSteps);
  ev.refImages = sampleAll(reference, schedule, ev);
  ev.refScores = ev.oracle->score(ev.refImages, ev.labels);
  if (pairs.eval.size() > 0)
    ev.refEvalMse = mseGaps(reference, schedule, pairs.eval, ev.timesteps, config.evalSeed, device);
  say("oracle: " + oracleDir + " (classifier test accuracy " + std::to_string(ev.oracle->testAccuracy()) +
      ")");

  auto generator = at::detail::createCPUGenerator(config.seed);
  const std::int64_t n = pairs.train.size();
  const std::int64_t batch = std::min(config.perDeviceTrainBatchSize, n);
  torch::Tensor order;
  std::int64_t cursor = n;
  std::int64_t step = 0;
  std::map<std::string, double> lastEval;
  folder.writeStatus(RunState::Running, "training", 0, config.maxSteps);
  summary.state = RunState::Finished;
  for (; step < config.maxSteps; ++step) {
    while (pause && pause->load() && !(cancel && cancel->load())) {
      folder.writeStatus(RunState::Running, "paused", step, config.maxSteps);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (cancel && cancel->load()) {
      summary.state = RunState::Cancelled;
      summary.message = "cancelled at step " + std::to_string(step);
      saveCheckpoint(policy, folder, step);
      break;
    }
    if (cursor + batch > n) {
      order = torch::randperm(n, generator, torch::kInt64);
      cursor = 0;
    }
    const auto index = order.slice(0, cursor, cursor + batch);
    cursor += batch;
    const auto w = pairs.train.winners.index_select(0, index).to(device);
    const auto l = pairs.train.losers.index_select(0, index).to(device);
    auto ids = pairs.train.ids.index_select(0, index);
    if (config.promptDropout > 0)
      ids = dropPrompts(ids, config.promptDropout); // the same (dropped or not) prompt for w and l
    ids = ids.to(device);
    // One timestep and one noise per pair, shared by its two images: batch [winners; losers].
    const auto t = torch::randint(T, {batch}, generator, torch::kInt64).to(device);
    const auto eps = torch::randn(w.sizes(), generator, torch::TensorOptions(torch::kFloat32)).to(device);
    const auto in = pairPredictions(policy, reference, schedule, w, l, t, eps, ids);
    const double rate = lr.at(step);
    for (auto &group : optimizer.param_groups())
      static_cast<torch::optim::AdamWOptions &>(group.options()).lr(rate);
    auto out = objective(in, params);
    optimizer.zero_grad();
    out.loss.backward();
    const double lossValue = out.loss.item<double>();
    if (!std::isfinite(lossValue)) {
      summary.state = RunState::Failed;
      summary.message = "the " + config.lossType + " loss became " + std::to_string(lossValue) + " at step " +
                        std::to_string(step + 1) + " (keys 'learning_rate', 'beta': lower them); " +
                        "the policy before this step is saved in checkpoints/step-" + std::to_string(step);
      saveCheckpoint(policy, folder, step);
      break;
    }
    double gradNorm = 0.0;
    if (config.maxGradNorm > 0)
      gradNorm = torch::nn::utils::clip_grad_norm_(policy->parameters(), config.maxGradNorm);
    optimizer.step();
    const std::int64_t done = step + 1;
    if (done % config.loggingSteps == 0 || done == config.maxSteps) {
      StepRecord record;
      record.step = done;
      record.maxSteps = config.maxSteps;
      record.epoch = double(done * batch) / double(n);
      record.elapsedSeconds = elapsed();
      record.metrics["loss"] = lossValue;
      for (const auto &[name, value] : out.metrics)
        record.metrics[name] = value.item<double>();
      record.metrics["learning_rate"] = rate;
      if (config.maxGradNorm > 0)
        record.metrics["grad_norm"] = gradNorm;
      record.metrics["epoch"] = record.epoch;
      folder.appendMetrics(done, record.metrics);
      folder.writeStatus(RunState::Running, "training", done, config.maxSteps);
      summary.lastMetrics = record.metrics;
      if (cb.onLog)
        cb.onLog(record);
    }
    if (config.saveSteps > 0 && done % config.saveSteps == 0 && done < config.maxSteps) {
      saveCheckpoint(policy, folder, done);
      if (cb.onCheckpoint)
        cb.onCheckpoint(done, folder.checkpointDir(done));
    }
    if ((config.evalSteps > 0 && done % config.evalSteps == 0) || done == config.maxSteps) {
      folder.writeStatus(RunState::Running, "evaluating", done, config.maxSteps);
      lastEval = evaluate(policy, schedule, ev, pairs.eval, config, device, folder, done);
      folder.appendMetrics(done, lastEval);
      if (cb.onEval) {
        StepRecord record;
        record.step = done;
        record.maxSteps = config.maxSteps;
        record.elapsedSeconds = elapsed();
        record.metrics = lastEval;
        cb.onEval(record);
      }
    }
  }
  summary.steps = step;
  if (summary.state == RunState::Failed)
    return summary;
  saveDiffusionModel(policy, folder.path("model"));
  if (!lastEval.empty()) {
    nlohmann::json s;
    for (const auto &[k, v] : lastEval)
      s[k] = v;
    s["eval/win_rate_ci95"] = {lastEval["eval/win_rate_low"], lastEval["eval/win_rate_high"]};
    s["loss_type"] = config.lossType;
    s["beta"] = params.beta;
    s["steps"] = step;
    s["oracle_test_accuracy"] = ev.oracle->testAccuracy();
    s["train_pairs"] = pairs.train.size();
    s["seconds"] = elapsed();
    writeFileAtomic(folder.path("eval/summary.json"), s.dump(2) + "\n");
    summary.evalSummary = s;
  }
  if (summary.message.empty())
    summary.message = "finished " + std::to_string(step) + " steps";
  return summary;
}

} // namespace

DiffusionObjectiveInputs pairPredictions(UNet &policy, UNet &reference, const NoiseSchedule &schedule,
                                         const torch::Tensor &winners, const torch::Tensor &losers,
                                         const torch::Tensor &t, const torch::Tensor &eps,
                                         const torch::Tensor &ids) {
  const auto batch = winners.size(0);
  const auto x = torch::cat({winners, losers});
  const auto tt = torch::cat({t, t});
  const auto ee = torch::cat({eps, eps});
  const auto ids2 = torch::cat({ids, ids});
  DiffusionObjectiveInputs in;
  const auto predModel = noisePrediction(policy, schedule, x, tt, ee, ids2);
  in.predModelW = predModel.slice(0, 0, batch);
  in.predModelL = predModel.slice(0, batch, 2 * batch);
  in.noise = eps;
  torch::NoGradGuard noGrad;
  const auto predRef = noisePrediction(reference, schedule, x, tt, ee, ids2);
  in.predRefW = predRef.slice(0, 0, batch);
  in.predRefL = predRef.slice(0, batch, 2 * batch);
  return in;
}

RunSummary runImageTraining(const ImageTrainConfig &config, const RunOptions &options,
                            const TrainerCallbacks &callbacks, const std::atomic<bool> *cancel,
                            const std::atomic<bool> *pause) {
  RunSummary summary;
  summary.runDir = config.outputDir;
  summary.maxSteps = config.maxSteps;
  try {
    config.validate();
    if (options.resume)
      throw InputError({}, 0, "resume",
                       "text-to-image runs cannot be resumed yet; start a new run "
                       "(reference_model may point at a checkpoint folder)");
    if (options.overwrite)
      fs::remove_all(config.outputDir);
    else if (fs::exists(fs::path(config.outputDir) / "metrics.jsonl"))
      throw InputError({}, 0, "output_dir",
                       config.outputDir + " already holds a run; pass --overwrite to replace it");
    RunFolder folder(config.outputDir);
    folder.writeConfig(toYaml(config));
    folder.writeStatus(RunState::Running, "starting", 0, config.maxSteps);
    summary = summaryOrFailure(summary, [&] { return execute(config, callbacks, cancel, pause, folder); });
    folder.writeStatus(summary.state, summary.message, summary.steps, config.maxSteps);
  } catch (const std::exception &e) {
    summary.state = RunState::Failed;
    summary.message = e.what();
  }
  return summary;
}

} // namespace preflab::core
