// runTextTraining: wires config, data, models, reference cache, trainer and evaluation together.
#include "core/jobs/text_training.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/json_file.h"
#include "core/jobs/d2po_training.h"
#include "core/jobs/loop_summary.h"
#include "core/jobs/mpo_mixing.h"
#include "core/jobs/run_folder_guard.h"
#include "core/jobs/wro_training.h"
#include "core/runtime/autocast.h"
#include "core/runtime/compute_threads.h"
#include "core/runtime/device.h"
#include "core/runtime/launch_env.h"
#include "core/tasks/sentiment_task.h"
#include "core/text/gpt.h"
#include "core/text/lora.h"
#include "core/text/model_store.h"
#include "core/train/config_checks.h"
#include "core/train/data_parallel.h"
#include "core/train/pair_scoring.h"
#include "core/train/preference_trainer.h"
#include "core/train/reference_logps.h"

#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <new>
#include <optional>
#include <thread>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

void message(const TrainerCallbacks &cb, const std::string &text) {
  if (cb.onMessage)
    cb.onMessage(text);
}

struct Inputs {
  TextPreferenceData train, eval;
  CausalLm policy;
  std::optional<CausalLm> reference;
  std::shared_ptr<Tokenizer> tokenizer = std::make_shared<ByteTokenizer>();
};

TextPreferenceData readData(const std::string &path, const TextTrainConfig &config,
                            const TrainerCallbacks &cb) {
  TextReadOptions opts;
  opts.format = parseTextFormat(config.datasetFormat);
  opts.skipInvalid = config.skipInvalid;
  auto data = readTextPreferences(path, opts);
  if (!data.skipped.empty())
    message(cb, path + ": skipped " + std::to_string(data.skipped.size()) + " invalid line(s); first: line " +
                    std::to_string(data.skipped.front().line) + ": " + data.skipped.front().reason);
  // A pair whose two sides are the same text says nothing about which is better.
  const auto identical = dropIdenticalPairs(data);
  if (!identical.empty()) {
    std::string lines;
    for (std::size_t i = 0; i < identical.size() && i < 10; ++i)
      lines += (i ? ", " : "") + std::to_string(identical[i]);
    message(cb, path + ": dropped " + std::to_string(identical.size()) +
                    " pair(s) whose chosen and rejected are identical (no preference signal), line(s) " +
                    lines + (identical.size() > 10 ? ", ..." : ""));
    if (data.pairs.empty())
      throw InputError(path, 0, {}, "every pair has identical chosen and rejected: nothing to learn from");
  }
  return data;
}

// Policy and reference from files (the generic path, when no embedded task is set).
void loadFromFiles(const TextTrainConfig &config, const TrainerCallbacks &cb, Inputs &in) {
  in.train = readData(config.trainFile, config, cb);
  if (!config.evalFile.empty())
    in.eval = readData(config.evalFile, config, cb);
  const bool reward = objectiveInfo(config.lossType).kind == ObjectiveKind::Reward;
  if (!config.modelNameOrPath.empty()) {
    in.policy = loadModelFolder(config.modelNameOrPath, &in.tokenizer);
    if (config.maxLength > in.policy->blockSize())
      throw InputError({}, 0, "max_length",
                       "is " + std::to_string(config.maxLength) + ", more than the " +
                           std::to_string(in.policy->blockSize()) + " positions of " +
                           config.modelNameOrPath);
    if (reward && (config.usePeft || loraSettingsOf(*in.policy)))
      throw InputError({}, 0, "use_peft",
                       "LoRA reward models are not supported: the new score head would stay frozen "
                       "(train the reward model in full, use_peft: false)");
    if (reward && !in.policy->hasScoreHead()) {
      in.policy = withScoreHead(in.policy, config.seed);
      message(cb, config.modelNameOrPath +
                      " is a language model: reward training gives it a new score head (one output on the "
                      "last token, drawn normal(0, 0.02) with the run's seed), as transformers' "
                      "*ForSequenceClassification does");
    }
  } else {
    torch::manual_seed(config.seed);
    GptConfig shape = config.model;
    shape.scoreHead = reward;
    in.policy = makeGpt(shape);
  }
  if (config.usePeft || loraSettingsOf(*in.policy)) {
    if (!config.refModelNameOrPath.empty())
      throw InputError(
          {}, 0, "ref_model_name_or_path",
          "is set with LoRA: the reference is the base model with the adapters off (leave it empty)");
    return; // the reference is made once the adapters are on (adaptersOffView)
  }
  if (!config.refModelNameOrPath.empty())
    in.reference = loadModelFolder(config.refModelNameOrPath);
  else
    in.reference = in.policy->clone();
}

// With use_peft: adapters on the policy (unless it came with its own), every other weight frozen,
// and the reference the same weights with the adapters off.
void attachAdapters(const TextTrainConfig &config, const TrainerCallbacks &cb, Inputs &in) {
  const bool ownAdapters = loraSettingsOf(*in.policy).has_value(); // an adapter folder as the policy
  if (!config.usePeft && !ownAdapters)
    return;
  if (!ownAdapters) {
    LoraSettings s;
    s.rank = config.loraR;
    s.alpha = config.loraAlpha;
    s.dropout = config.disableDropout ? 0.0 : config.loraDropout;
    std::string name;
    for (char c : config.loraTargetModules + ",") {
      if (c == ',') {
        if (!name.empty())
          s.targetModules.push_back(name);
        name.clear();
      } else if (c != ' ') {
        name += c;
      }
    }
    const auto adapted = attachLora(*in.policy, s, config.seed);
    std::int64_t trainable = 0, total = 0;
    for (const auto &p : in.policy->parameters())
      (p.requires_grad() ? trainable : total) += p.numel();
    total += trainable;
    message(cb, "LoRA r=" + std::to_string(s.rank) + " on " + std::to_string(adapted.size()) +
                    " projections: " + std::to_string(trainable) + " of " + std::to_string(total) +
                    " parameters trained");
  }
  in.reference = adaptersOffView(in.policy);
}

} // namespace

namespace {

std::string absolutePath(const std::string &path) {
  return fs::absolute(path).lexically_normal().string();
}

// run_info.json: where the run's reference model lives, so the app can compare its generations
// with the tuned policy's. A reference that exists only in memory (a fresh random initial
// policy) is saved under reference/ first: small models, and otherwise it would be lost.
std::string writeRunInfo(const TextTrainConfig &config, const std::string &taskReference, const Inputs &in,
                         RunFolder &folder) {
  std::string reference;
  if (!taskReference.empty())
    reference = absolutePath(taskReference);
  else if (!config.refModelNameOrPath.empty())
    reference = absolutePath(config.refModelNameOrPath);
  else if (!config.modelNameOrPath.empty()) {
    reference = config.modelNameOrPath;
    if (isLoraAdapterFolder(reference)) // an adapter: its reference is the base it adapts
      readLoraAdapterConfig(config.modelNameOrPath, &reference);
    reference = absolutePath(reference);
  } else if (in.reference) {
    (*in.reference)->exportHuggingFace(*in.tokenizer, folder.path("reference"));
    reference = absolutePath(folder.path("reference"));
  }
  const nlohmann::json info = {{"task", config.task},
                               {"loss_type", config.lossType},
                               {"reference_model", reference},
                               {"policy_final", absolutePath(folder.path("hf"))}};
  writeFileAtomic(folder.path("run_info.json"), info.dump(2) + "\n");
  return reference;
}

// eval/pairs.jsonl of a run on files: how the trained policy ranks the held-out pairs or, without
// an eval_file, the training pairs (labels exported from the Label tab, say), against the
// reference, for the Pairs inspector. Pairwise objectives only; skipped above kMaxReportedPairs
// (a large training set is better analysed with preflab-cli eval and analyze).
constexpr std::size_t kMaxReportedPairs = 5000;

nlohmann::json writeFilePairReport(const TextTrainConfig &config, const Inputs &in, const CausalLm &policy,
                                   const std::string &referenceDir, RunFolder &folder,
                                   const TrainerCallbacks &cb, torch::Device device) {
  const auto &objective = objectiveInfo(config.lossType);
  const auto &data = in.eval.pairs.empty() ? in.train : in.eval;
  if (objective.kind != ObjectiveKind::Pairwise || referenceDir.empty() || data.pairs.empty())
    return {};
  if (data.pairs.size() > kMaxReportedPairs) {
    message(cb, "eval/pairs.jsonl not written: " + std::to_string(data.pairs.size()) +
                    " pairs (preflab-cli eval and analyze score any number)");
    return {};
  }
  CausalLm reference = loadModelFolder(referenceDir);
  reference->to(device);
  reference->eval();
  policy->eval();
  torch::NoGradGuard noGrad;
  const auto tokens = tokenizeData(data, *in.tokenizer, false);
  ScoringOptions so{config.maxLength, config.maxPromptLength, config.perDeviceEvalBatchSize};
  const auto scores = scorePairs(policy, &reference, tokens, so);
  writeFileAtomic(folder.path("eval/pairs.jsonl"),
                  pairAnalysisLines(scores, pairTexts(data), objective, config.lossParams()));
  const auto summary = summarizeRanking(scores);
  message(cb, "eval/pairs.jsonl: ranking accuracy " + std::to_string(summary.accuracy) + " on " +
                  std::to_string(scores.size()) + (in.eval.pairs.empty() ? " training" : " held-out") +
                  " pairs");
  auto out = toJson(summary);
  out["pairs_file"] = in.eval.pairs.empty() ? config.trainFile : config.evalFile;
  return out;
}

// Reference log-probs for train and eval, from the cache when the same reference scored the
// same tokens before; the reference model is released afterwards.
void attachReference(const TextTrainConfig &config, const std::string &cacheDir, CausalLm reference,
                     TokenizedData &train, TokenizedData &eval, const TrainerCallbacks &cb) {
  ReferenceOptions opts{config.maxLength, config.maxPromptLength, config.perDeviceEvalBatchSize, {}};
  for (TokenizedData *data : {&train, &eval}) {
    const std::string stage = data == &train ? "reference log-probs (train)" : "reference log-probs (eval)";
    if (data->size() == 0)
      continue;
    const bool bf16 = config.bf16 && reference->device().is_cuda(); // bf16 log-probs are other numbers
    const auto key = referenceCacheKey(reference, *data, opts) + (bf16 ? "-bf16" : "");
    if (loadReferenceCache(cacheDir, key, *data)) {
      message(cb, "reference log-probs: cache hit " + key);
      continue;
    }
    if (cb.onProgress) {
      cb.onProgress(stage, 0.0);
      opts.progress = [&](double f) { cb.onProgress(stage, f); };
    }
    {
      const CudaAutocastGuard autocast(reference->device(), bf16); // as the policy's forwards
      computeReferenceLogps(reference, *data, opts);
    }
    opts.progress = nullptr;
    saveReferenceCache(cacheDir, key, *data);
    message(cb, "reference log-probs: computed " + std::to_string(data->size()) + " rows, cached as " + key);
  }
}

RunSummary executeTextRun(const TextTrainConfig &config, const RunOptions &options,
                          const TrainerCallbacks &cb, const std::atomic<bool> *cancel,
                          const std::atomic<bool> *pause, RunFolder &folder) {
  RunSummary summary;
  summary.runDir = folder.root();
  const auto device = rankDevice(resolveDevice(config.device), options.dataParallel.get());
  setComputeThreads(int(config.threads));
  const auto cacheDir = config.resolvedCacheDir();
  if (const auto *group = options.dataParallel.get()) { // refused before any data is prepared
    if (config.trainer == "mpo")
      throw InputError({}, 0, "trainer",
                       "'" + config.trainer + "' trains in one process only: start it without a launcher");
    if (config.trainer == "offline")
      requireDataParallelSplit(config, group->worldSize());
    else if (config.trainer == "wro")
      checkWroSplit(config.wro.promptsPerStep, group->worldSize());
    else
      checkD2poSplit(config, objectiveInfo(config.lossType).meanOverRows, group->worldSize());
  }
  Inputs in;
  std::optional<SentimentTask> task;
  if (config.task == "sentiment") {
    task.emplace(config, cb, device);
    if (!task->prepare(cancel)) {
      summary.state = RunState::Cancelled;
      summary.message = "cancelled while preparing the task";
      return summary;
    }
    if (config.trainer == "d2po")
      return executeD2poRun(config, options, cb, cancel, pause, folder, *task);
    if (config.trainer == "mpo")
      return executeMpoRun(config, cb, cancel, folder, *task);
    if (config.trainer == "wro")
      return executeWroRun(config, options, cb, cancel, pause, folder, *task);
    in.train = readTextPreferences(task->trainPairsPath());
    in.eval = readTextPreferences(task->evalPairsPath());
    if (config.sentiment.trainPairs > 0 && std::size_t(config.sentiment.trainPairs) < in.train.pairs.size()) {
      in.train.pairs.resize(std::size_t(config.sentiment.trainPairs));
      message(cb, "training on the first " + std::to_string(config.sentiment.trainPairs) +
                      " labelled pairs (sentiment.train_pairs)");
    }
    in.policy = loadModelFolder(task->sftModelDir());
    in.reference = loadModelFolder(task->sftModelDir());
    if (objectiveInfo(config.lossType).kind == ObjectiveKind::Reward) {
      // A reward model from the task's SFT model: a new score head, as from any language model.
      in.policy = withScoreHead(in.policy, config.seed);
      message(cb, "reward model: the task's SFT model with a new score head (one output on the last token)");
    }
  } else {
    loadFromFiles(config, cb, in);
  }
  // For every source of the policy (imported GPT-2 folders default to dropout 0.1, the embedded
  // task's SFT model has the config's dropout): the reference is scored in eval mode, so a
  // policy trained with dropout would not start at the reference (DPO's step-0 loss ≠ ln 2).
  if (config.disableDropout && in.policy->dropout() > 0.0)
    in.policy = in.policy->clone(0.0);
  attachAdapters(config, cb, in);
  // A resumed run keeps the run_info.json (and reference/) of its first start: the reference
  // cannot have changed (its keys are result-changing), and nothing is written before the
  // checkpoint is accepted.
  std::string referenceDir;
  if (!folder.writes())
    ; // another rank's folder: rank 0 writes run_info.json
  else if (!(folder.holding() && fs::exists(folder.path("run_info.json"))))
    referenceDir = writeRunInfo(config, task ? task->sftModelDir() : std::string(), in, folder);
  else
    referenceDir = readJsonObjectFile(folder.path("run_info.json")).value("reference_model", "");
  const auto &info = objectiveInfo(config.lossType);
  const bool unpaired = info.kind == ObjectiveKind::Unpaired;
  auto train = tokenizeData(in.train, *in.tokenizer, unpaired);
  auto eval = tokenizeData(in.eval, *in.tokenizer, unpaired);
  if (info.needsReference && config.precomputeRefLogProbs && !train.hasReference()) {
    (*in.reference)->to(device);
    // A LoRA run's reference is the policy itself with the adapters off (on this thread): the
    // cache key then covers the base weights (and the adapters' initial values).
    const bool lora = loraSettingsOf(*in.policy).has_value();
    in.policy->to(device);
    AdaptersOff off;
    attachReference(config, cacheDir, lora ? in.policy : *in.reference, train, eval, cb);
    in.reference.reset(); // not kept in memory while training
  }
  if (!info.needsReference)
    in.reference.reset();
  // Optional so that its optimizer state is released before the files' pair report loads a
  // reference of its own.
  std::optional<PreferenceTrainer> trainer;
  trainer.emplace(config, in.policy, std::move(train), std::move(eval), folder, device, in.reference);
  if (auto *group = options.dataParallel.get()) {
    trainer->setDataParallel(group);
    announcePrepared(*group, "each batch split across", [&](const std::string &m) { message(cb, m); });
  }
  if (trainer->batchShards() > 1)
    message(cb, "training batches split across " + std::to_string(trainer->batchShards()) + " CPU threads");
  const auto outcome = runOnLoop(*trainer, options, cb, cancel, pause, summary);
  if (outcome.state == RunState::Failed || !folder.writes())
    return summary; // a rank after rank 0 ends with the loop: rank 0 exports and evaluates
  auto policy = trainer->policy();
  const auto totalSteps = trainer->totalSteps();
  if (loraSettingsOf(*policy))
    saveLoraAdapter(*policy, *in.tokenizer, referenceDir, folder.path("hf"));
  else
    policy->exportHuggingFace(*in.tokenizer, folder.path("hf"));
  if (!config.modelNameOrPath.empty()) // the original's stop ids and sampling defaults
    keepGenerationConfig(config.modelNameOrPath, folder.path("hf"));
  if (!task && outcome.state == RunState::Finished && info.needsReference) {
    folder.writeStatus(RunState::Running, "evaluating", outcome.step, totalSteps);
    trainer.reset();
    in.reference.reset();
    // A report, not part of the training: a failure (memory, a reference that no longer loads)
    // is said, and the finished run stays finished.
    try {
      const auto ranking = writeFilePairReport(config, in, policy, referenceDir, folder, cb, device);
      for (const auto &[key, value] : ranking.items()) // beside the eval metrics, when there are some
        summary.evalSummary[key] = value;
    } catch (const std::exception &e) {
      message(cb, std::string("eval/pairs.jsonl not written: ") + e.what());
    }
  }
  if (task && outcome.state == RunState::Finished) {
    folder.writeStatus(RunState::Running, "evaluating", outcome.step, totalSteps);
    summary.evalSummary = task->evaluate(policy, folder);
  }
  if (summary.message.empty())
    summary.message = "finished " + std::to_string(outcome.step) + " steps";
  return summary;
}

} // namespace

// Config checks refuse batches and models that cannot fit the machine's memory; what still runs
// out (activations of long sequences, several runs at once) gets the keys that lower it.
constexpr const char *kMemoryHint =
    "lower 'per_device_train_batch_size' or 'per_device_eval_batch_size' (raising "
    "'gradient_accumulation_steps' keeps the effective batch), 'max_length', or the model's size";

RunSummary summaryOrFailure(const RunSummary &started, const std::function<RunSummary()> &body) {
  RunSummary summary = started;
  try {
    summary = body();
  } catch (const c10::Error &e) {
    summary.state = RunState::Failed;
    summary.message = e.what_without_backtrace();
    const auto &m = summary.message;
    if (m.find("can't allocate memory") != std::string::npos || m.find("out of memory") != std::string::npos)
      summary.message = "out of memory (" + m.substr(0, m.find('\n')) + "): " + kMemoryHint;
  } catch (const std::bad_alloc &) {
    summary.state = RunState::Failed;
    summary.message = std::string("out of memory: ") + kMemoryHint;
  } catch (const std::exception &e) {
    summary.state = RunState::Failed;
    summary.message = e.what();
  }
  return summary;
}

RunSummary runInFolder(const std::string &outputDir, std::int64_t maxSteps, const RunOptions &options,
                       const std::function<std::string()> &validatedConfigYaml,
                       const std::function<RunSummary(RunFolder &)> &body) {
  RunSummary summary;
  summary.runDir = outputDir;
  summary.maxSteps = std::max<std::int64_t>(0, maxSteps); // -1: epochs, known once the data is read
  auto *group = options.dataParallel.get();
  const bool writes = !group || group->writes();
  try {
    if (!writes) // rank 0 claims the folder and prepares the task data and caches first
      group->awaitAnnouncement("prepared");
    const auto yaml = validatedConfigYaml();
    const auto lock = writes ? claimOutputDir(outputDir, options, yaml) : nullptr; // held until the run ends
    const bool resuming = options.resume && isRunFolder(outputDir);
    RunFolder folder(outputDir, writes);
    if (resuming)
      folder.holdUntilResumed(); // released once the checkpoint is accepted (TrainLoop::resumeLatest)
    folder.writeConfig(yaml);
    folder.writeStatus(RunState::Running, "starting", 0, maxSteps);
    summary = summaryOrFailure(summary, [&] { return body(folder); });
    // A resume refused (or cancelled) before it began leaves the folder as it was.
    if (!(folder.holding() && summary.state != RunState::Finished)) {
      folder.release();
      folder.writeStatus(summary.state, summary.message, summary.steps,
                         summary.maxSteps > 0 ? summary.maxSteps : maxSteps);
    }
  } catch (const std::exception &e) { // bad config, or the folder itself could not be made
    summary.state = RunState::Failed;
    summary.message = e.what();
  }
  if (group && writes && !group->announced("prepared")) // the others wait for it: tell them why not
    group->announce("prepared", summary.message.empty() ? "stopped before training" : summary.message);
  return summary;
}

RunSummary runTextTraining(const TextTrainConfig &config, const RunOptions &options,
                           const TrainerCallbacks &callbacks, const std::atomic<bool> *cancel,
                           const std::atomic<bool> *pause) {
  return runInFolder(
      config.outputDir, config.maxSteps, options,
      [&] {
        config.validate();
        return toYaml(config);
      },
      [&](RunFolder &folder) { return executeTextRun(config, options, callbacks, cancel, pause, folder); });
}

std::shared_ptr<DataParallelGroup> joinDataParallelGroup(const LaunchEnv &env) {
  return std::make_shared<DataParallelGroup>(env, std::chrono::seconds(env.collectiveTimeoutSeconds),
                                             std::chrono::seconds(env.waitTimeoutSeconds));
}

} // namespace preflab::core
