// Text-to-image preference training: pairs -> tensors, the Diffusion-DPO / DSPO / SFT / KTO step
// with shared noise and timestep per pair, oracle evaluation, grids.
#include "core/jobs/image_training.h"

#include "core/train/image_step.h"

#include "core/data/image_output.h"
#include "core/data/image_preference_reader.h"
#include "core/diffusion/diffusion_loss.h"
#include "core/diffusion/diffusion_store.h"
#include "core/diffusion/sampler.h"
#include "core/io/atomic_file.h"
#include "core/io/content_hash.h"
#include "core/io/input_error.h"
#include "core/io/resource_paths.h"
#include "core/objectives/diffusion_objectives.h"
#include "core/runtime/compute_threads.h"
#include "core/runtime/device.h"
#include "core/runtime/launch_env.h"
#include "core/tasks/fashion_task.h"
#include "core/tasks/image_pairs.h"
#include "core/train/batch_shards.h"
#include "core/train/config_checks.h"
#include "core/train/data_parallel.h"
#include "core/train/image_eval.h"
#include "core/train/lr_schedule.h"
#include "core/train/shuffled_batches.h"
#include "core/train/train_loop.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

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
    o.threads = config.threads; // else it would leave the run on all cores (threads: 0)
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

// What every image run evaluates: implicit accuracy on the held-out pairs (fixed timesteps and
// noise, the reference's MSE gaps computed once), and with an oracle the Fashion task's metrics.
struct Evaluator {
  std::vector<std::int64_t> timesteps;
  std::vector<double> refEvalMse; // per (eval pair, timestep): mse_ref_w - mse_ref_l
  std::optional<FashionTask> fashion;
  // Without an oracle: the held-out captions (up to 10, in order of first use) for the grid.
  std::vector<std::string> gridPrompts;
  std::vector<std::uint64_t> gridSeeds;
  DiffusionSamplingOptions gridSampling;
  std::vector<ImageBuffer> refGrid;
};

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

std::vector<ImageBuffer> sampleGrid(UNet &model, const NoiseSchedule &schedule, const Evaluator &ev,
                                    const std::function<void(double)> &progress) {
  std::vector<ImageBuffer> out;
  for (const auto &image :
       sampleImages(model, schedule, ev.gridPrompts, ev.gridSeeds, ev.gridSampling, progress))
    out.push_back(toImageBuffer(image));
  return out;
}

std::map<std::string, double> evaluate(UNet &policy, const NoiseSchedule &schedule, Evaluator &ev,
                                       const PairTensors &evalPairs, const ImageTrainConfig &config,
                                       torch::Device device, RunFolder &folder, std::int64_t step,
                                       const std::function<void(double)> &progress) {
  // Progress: the samples (oracle or grid) are most of the work; implicit accuracy is the rest.
  const bool sampling = ev.fashion || !ev.gridPrompts.empty();
  const double sampleShare = sampling ? (evalPairs.size() > 0 ? 0.8 : 1.0) : 0.0;
  const auto report = [&](double f) {
    if (progress)
      progress(f);
  };
  report(0.0);
  std::map<std::string, double> m;
  if (ev.fashion)
    m = ev.fashion->evaluate(policy, schedule, folder, step, [&](double f) { report(sampleShare * f); });
  if (evalPairs.size() > 0) {
    const auto gaps = mseGaps(policy, schedule, evalPairs, ev.timesteps, config.evalSeed, device);
    double correct = 0;
    for (std::size_t i = 0; i < gaps.size(); ++i) // inside > 0  <=>  (ref gap) - (model gap) > 0
      correct += ev.refEvalMse[i] - gaps[i] > 0;
    m["eval/implicit_acc"] = correct / double(std::max<std::size_t>(1, gaps.size()));
    m["eval/pairs"] = double(evalPairs.size());
    report(ev.fashion ? 1.0 : 1.0 - sampleShare);
  }
  if (!ev.fashion && !ev.gridPrompts.empty()) { // reference | tuned, a row per held-out caption
    const auto columns = int(config.gridSeeds);
    const auto grid =
        besideEachOther(tileImages(ev.refGrid, columns, 2, 2, 255),
                        tileImages(sampleGrid(policy, schedule, ev,
                                              [&](double f) { report(1.0 - sampleShare + sampleShare * f); }),
                                   columns, 2, 2, 255),
                        12, 255);
    std::vector<std::string> rows;
    for (std::size_t i = 0; i < ev.gridPrompts.size(); i += std::size_t(columns))
      rows.push_back(ev.gridPrompts[i]);
    writeEvalGrid(folder, step, grid, rows);
  }
  return m;
}

// Throws InputError naming the key unless `config`'s batches can be split across `worldSize`
// data-parallel processes: an objective whose loss is a mean of per-pair terms, a pair per process.
void requireImageDataParallelSplit(const ImageTrainConfig &config, int worldSize) {
  checkDataParallelSplit(config.lossType, objectiveInfo(config.lossType, Modality::Image).meanOverRows,
                         config.perDeviceTrainBatchSize, worldSize);
}

// One text-to-image preference step for the TrainLoop: a batch of pairs drawn from a seeded
// permutation, one timestep and one noise per pair shared by its two images, the objective.
// Its checkpoint holds the policy (a loadable model folder), the batch generator's and the global
// generator's states and the data position, so a resumed run draws exactly what it would have.
class ImagePreferenceStep final : public TrainStep {
public:
  using Evaluate = std::function<std::map<std::string, double>(std::int64_t step)>;

  ImagePreferenceStep(const ImageTrainConfig &config, UNet policy, UNet reference,
                      const NoiseSchedule &schedule, const PairTensors &train, torch::Device device,
                      Evaluate evaluate)
      : m_config(config), m_policy(std::move(policy)), m_reference(std::move(reference)),
        m_schedule(schedule), m_train(train), m_device(device), m_evaluate(std::move(evaluate)),
        m_objective(diffusionObjectiveFunction(config.lossType)),
        m_batches(train.size(), config.perDeviceTrainBatchSize, config.seed),
        m_optimizer(m_policy->parameters(), torch::optim::AdamWOptions(config.learningRate)
                                                .betas({config.adamBeta1, config.adamBeta2})
                                                .eps(config.adamEpsilon)
                                                .weight_decay(config.weightDecay)) {
    m_params = config.lossParams();
  }

  // The β the objective trains with (0 for one without β).
  double beta() const { return m_params.values.count("beta") ? m_params.beta() : 0.0; }
  std::int64_t batch() const { return m_batches.batch(); }

  std::vector<torch::Tensor> parameters() override { return m_policy->parameters(); }
  torch::optim::Optimizer &optimizer() override { return m_optimizer; }

  std::map<std::string, torch::Tensor> compute(std::int64_t) override {
    const auto index = m_batches.next();
    auto &generator = m_batches.generator();
    const auto w = m_train.winners.index_select(0, index).to(m_device);
    const auto l = m_train.losers.index_select(0, index).to(m_device);
    auto ids = m_train.ids.index_select(0, index);
    if (m_config.promptDropout > 0)
      ids = dropPrompts(ids, m_config.promptDropout); // the same (dropped or not) prompt for w and l
    ids = ids.to(m_device);
    // One timestep and one noise per pair, shared by its two images: batch [winners; losers].
    const auto t =
        torch::randint(m_schedule.timesteps(), {index.size(0)}, generator, torch::kInt64).to(m_device);
    const auto eps = torch::randn(w.sizes(), generator, torch::TensorOptions(torch::kFloat32)).to(m_device);
    // Every rank draws the whole batch (the same draws) and trains on its rows (one rank: all).
    const auto bounds = shardBounds(std::size_t(index.size(0)), m_worldSize);
    const auto from = std::int64_t(bounds[std::size_t(m_rank)]);
    const auto rows = std::int64_t(bounds[std::size_t(m_rank) + 1]) - from;
    auto part = [&](const torch::Tensor &x) { return x.narrow(0, from, rows); };
    return pairStepBackward(m_policy, m_reference, m_schedule, m_objective, m_params, part(w), part(l),
                            part(t), part(eps), part(ids), double(rows) / double(index.size(0)));
  }

  bool splitAcrossRanks(int rank, int worldSize) override {
    requireImageDataParallelSplit(m_config, worldSize);
    m_rank = rank;
    m_worldSize = worldSize;
    return true;
  }
  nlohmann::json exactness() const override { return {{"processes", m_worldSize}}; }

  std::map<std::string, double> evaluate(std::int64_t step) override { return m_evaluate(step); }

  void save(const std::string &dir) override {
    saveDiffusionModel(m_policy, dir); // a checkpoint is also a reference_model folder
    m_batches.save(dir);
    saveGlobalGenerator(dir);
  }

  void load(const std::string &dir) override {
    torch::load(m_policy, dir + "/model.pt", m_device);
    m_batches.load(dir);
    loadGlobalGenerator(dir);
  }

  nlohmann::json identity() const override {
    nlohmann::json id = {{"task", "text-to-image"},
                         {"loss_type", m_config.lossType},
                         {"seed", m_config.seed},
                         {"train_pairs", m_train.size()}};
    // Pairs read from files, by content. The embedded Fashion-MNIST pairs are a function of
    // result-changing keys (seed, pairs per class, oracle), already compared on resume.
    if (m_config.trainFile != "fashion-mnist")
      id["train_data"] = trainDataDigest();
    return id;
  }

private:
  // The training pairs by content (pixels in winner/loser order, captions' token ids): a resume
  // on other images under the same file names is refused.
  std::string trainDataDigest() const {
    std::uint64_t h = kFnvOffset;
    for (const auto *t : {&m_train.winners, &m_train.losers, &m_train.ids}) {
      if (!t->defined())
        continue;
      const auto c = t->to(torch::kCPU).contiguous();
      h = fnv1a(h, c.data_ptr(), std::size_t(c.numel()) * c.element_size());
    }
    return hexDigest(h);
  }

  const ImageTrainConfig &m_config;
  UNet m_policy, m_reference;
  const NoiseSchedule &m_schedule;
  const PairTensors &m_train;
  torch::Device m_device;
  Evaluate m_evaluate;
  const DiffusionObjectiveFn &m_objective;
  ObjectiveParams m_params;
  ShuffledBatches m_batches;
  torch::optim::AdamW m_optimizer;
  int m_rank = 0, m_worldSize = 1; // data parallel: this process's share of every batch
};

RunSummary executeImageRun(const ImageTrainConfig &config, const RunOptions &options,
                           const TrainerCallbacks &cb, const std::atomic<bool> *cancel,
                           const std::atomic<bool> *pause, RunFolder &folder) {
  const bool resume = options.resume;
  auto *group = options.dataParallel.get();
  if (group) // refused before any data is prepared
    requireImageDataParallelSplit(config, group->worldSize());
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
  const auto device = rankDevice(resolveDevice(config.device), group);
  setComputeThreads(int(config.threads));
  const auto refDir =
      config.referenceModel.empty() ? embeddedResource("fashion-reference") : config.referenceModel;
  const auto oracleDir = resolveImageOracle(config); // "": no oracle, implicit accuracy only
  if (!(folder.holding() && fs::exists(folder.path("run_info.json")))) // a resume keeps its first start's
    folder.writeFile(
        "run_info.json",
        nlohmann::json{{"task", "text-to-image"},
                       {"loss_type", config.lossType},
                       {"reference_model", fs::absolute(refDir).string()},
                       {"oracle_model", oracleDir.empty() ? std::string() : fs::absolute(oracleDir).string()},
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

  torch::manual_seed(config.seed);
  UNet policy = cloneUNet(reference);
  for (auto &p : policy->parameters())
    p.set_requires_grad(true);
  policy->train();

  // Held-out evaluation; the reference is sampled, scored and measured once.
  Evaluator ev;
  const auto T = schedule.timesteps();
  for (std::int64_t k = 0; k < config.evalTimesteps; ++k)
    ev.timesteps.push_back(std::min<std::int64_t>(
        T - 1, std::int64_t((double(k) + 0.5) * double(T) / double(config.evalTimesteps))));
  folder.writeStatus(RunState::Running, "sampling the reference on held-out prompts", 0, config.maxSteps);
  const std::function<void(double)> referenceProgress = [&](double f) {
    if (cb.onProgress)
      cb.onProgress("sampling the reference", f);
  };
  referenceProgress(0.0);
  if (!oracleDir.empty()) {
    ev.fashion.emplace(config, oracleDir);
    ev.fashion->prepare(reference, schedule, referenceProgress);
    say("oracle: " + oracleDir + " (classifier test accuracy " +
        std::to_string(ev.fashion->oracleTestAccuracy()) + ")");
  } else {
    for (const auto &caption : pairs.eval.captions) {
      if (ev.gridPrompts.size() / std::size_t(std::max<std::int64_t>(1, config.gridSeeds)) >= 10)
        break;
      if (std::find(ev.gridPrompts.begin(), ev.gridPrompts.end(), caption) != ev.gridPrompts.end())
        continue;
      for (std::int64_t s = 0; s < config.gridSeeds; ++s) {
        ev.gridPrompts.push_back(caption);
        ev.gridSeeds.push_back(config.evalSeed + std::uint64_t(s));
      }
    }
    ev.gridSampling = evalSampling(config);
    if (!ev.gridPrompts.empty())
      ev.refGrid = sampleGrid(reference, schedule, ev, referenceProgress);
    say("no oracle configured (oracle_model): evaluating implicit accuracy on " +
        std::to_string(pairs.eval.size()) + " held-out pairs and sampling their captions");
  }
  if (pairs.eval.size() > 0)
    ev.refEvalMse = mseGaps(reference, schedule, pairs.eval, ev.timesteps, config.evalSeed, device);

  ImagePreferenceStep step(config, policy, reference, schedule, pairs.train, device, [&](std::int64_t done) {
    return evaluate(policy, schedule, ev, pairs.eval, config, device, folder, done, [&](double f) {
      if (cb.onProgress)
        cb.onProgress("evaluating", f);
    });
  });
  LoopSettings settings;
  settings.totalSteps = config.maxSteps;
  settings.loggingSteps = config.loggingSteps;
  settings.evalSteps = config.evalSteps;
  settings.saveSteps = config.saveSteps;
  settings.maxGradNorm = config.maxGradNorm;
  const LrSchedule lr{config.lrSchedulerType, config.learningRate, config.warmupSteps, config.maxSteps};
  settings.learningRate = [lr](std::int64_t s) { return lr.at(s); };
  settings.stepsPerEpoch = double(pairs.train.size()) / double(step.batch());
  settings.failureHint = "keys 'learning_rate', 'beta': lower them";
  TrainLoop loop(std::move(settings), step, folder);
  if (group) {
    loop.setDataParallel(group);
    announcePrepared(*group, "each batch split across", say);
  }
  loop.setCallbacks(cb);
  loop.setCancelFlag(cancel);
  loop.setPauseFlag(pause);
  if (resume) {
    const auto from = loop.resumeLatest();
    if (from >= 0)
      say("resumed from checkpoint step-" + std::to_string(from));
  }
  const auto outcome = loop.run();
  summary.state = outcome.state;
  summary.message = outcome.message;
  summary.steps = outcome.step;
  summary.lastMetrics = outcome.lastMetrics;
  auto lastEval = outcome.lastEval;
  const auto stepsDone = outcome.step;
  if (summary.state == RunState::Failed || !folder.writes())
    return summary; // a rank after rank 0 ends with the loop: rank 0 saves and summarises
  saveDiffusionModel(policy, folder.path("model"));
  if (!lastEval.empty()) {
    nlohmann::json s;
    for (const auto &[k, v] : lastEval)
      s[k] = v;
    if (lastEval.count("eval/win_rate_low"))
      s["eval/win_rate_ci95"] = {lastEval["eval/win_rate_low"], lastEval["eval/win_rate_high"]};
    s["loss_type"] = config.lossType;
    s["beta"] = step.beta();
    s["steps"] = stepsDone;
    if (ev.fashion)
      s["oracle_test_accuracy"] = ev.fashion->oracleTestAccuracy();
    s["train_pairs"] = pairs.train.size();
    s["seconds"] = elapsed();
    writeFileAtomic(folder.path("eval/summary.json"), s.dump(2) + "\n");
    summary.evalSummary = s;
  }
  if (summary.message.empty())
    summary.message = "finished " + std::to_string(stepsDone) + " steps";
  return summary;
}

} // namespace

RunSummary runImageTraining(const ImageTrainConfig &config, const RunOptions &options,
                            const TrainerCallbacks &callbacks, const std::atomic<bool> *cancel,
                            const std::atomic<bool> *pause) {
  return runInFolder(
      config.outputDir, config.maxSteps, options,
      [&] {
        config.validate();
        return toYaml(config);
      },
      [&](RunFolder &folder) { return executeImageRun(config, options, callbacks, cancel, pause, folder); });
}

} // namespace preflab::core
