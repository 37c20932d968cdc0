// executeD2poRun: the SFT policy and reference, a discriminator from the SFT model, the task's
// raters as the gold labeller, the D2PO rounds, then hf/, discriminator/ and the task's evaluation.
#include "core/jobs/d2po_training.h"

#include "core/io/atomic_file.h"
#include "core/jobs/loop_summary.h"
#include "core/labels/store_labeller.h"
#include "core/runtime/device.h"
#include "core/tasks/rater_labeller.h"
#include "core/tasks/sentiment_oracle.h"
#include "core/tasks/sentiment_task.h"
#include "core/text/model_store.h"
#include "core/train/d2po_trainer.h"
#include "core/train/data_parallel.h"

#include <torch/torch.h>

#include <filesystem>

namespace fs = std::filesystem;

namespace preflab::core {

RunSummary executeD2poRun(const TextTrainConfig &config, const RunOptions &options,
                          const TrainerCallbacks &cb, const std::atomic<bool> *cancel,
                          const std::atomic<bool> *pause, RunFolder &folder, SentimentTask &task) {
  RunSummary summary;
  summary.runDir = folder.root();
  const auto device = rankDevice(resolveDevice(config.device), options.dataParallel.get());
  std::shared_ptr<Tokenizer> tokenizer;
  auto policy = loadModelFolder(task.sftModelDir(), &tokenizer);
  if (policy->dropout() > 0.0)
    policy = policy->clone(0.0); // policy, reference and discriminator without dropout (as TRL)
  auto reference = policy->clone();
  // The discriminator starts from the SFT model with a new score head, as a reward model trained
  // from the policy's base does; it is a separate model, never the policy.
  auto discriminator = withScoreHead(policy->clone(), config.seed ^ 0xd15cu);
  D2poSources sources;
  const auto &s = config.sentiment;
  sources.prompts =
      SentimentCorpus::prompts(s.numPrompts, config.seed + 1, SentimentCorpus::PromptSet::Pairs);
  if (config.d2po.goldLabeller == "person") {
    const auto store =
        config.d2po.goldStore.empty() ? folder.path("gold.preflab-labels") : config.d2po.goldStore;
    auto onAsk = [cb, who = config.d2po.goldAnnotator](const std::string &path, std::int64_t asked,
                                                       std::int64_t open) {
      if (cb.onLabelsWanted)
        cb.onLabelsWanted(path, who, asked, open);
      if (cb.onMessage)
        cb.onMessage("D2PO: waiting for " + std::to_string(open) + " of " + std::to_string(asked) +
                     " gold labels in " + path + " (the app's Label tab, or preflab-cli labels decide)");
    };
    sources.gold = std::make_shared<StoreLabeller>(store, config.d2po.goldAnnotator, onAsk);
  } else {
    sources.gold = std::make_shared<RaterLabeller>(int(s.raters), s.raterTemperature);
  }
  auto labelled = readTextPreferences(task.trainPairsPath());
  labelled.pairs.resize(std::min<std::size_t>(labelled.pairs.size(), std::size_t(config.d2po.initialGold)));
  sources.initialGold = std::move(labelled);
  sources.heldOutGold = readTextPreferences(task.evalPairsPath());
  sources.sampleReward = [](const std::string &, const std::string &text) {
    return SentimentOracle::reward(text);
  };
  sources.evaluatePolicy = [&task](const CausalLm &p) { return task.policyMetricValues(p); };
  if (cb.onMessage)
    cb.onMessage("D2PO: gold labels from " + sources.gold->name() + ", budget " +
                 std::to_string(config.d2po.goldBudget) + " (" + std::to_string(config.d2po.goldPerRound) +
                 " per round, " + config.d2po.goldSelection + "), " +
                 (config.d2po.silver ? "gold + silver" : "gold only") + " pairs for the policy");
  const nlohmann::json info = {
      {"task", config.task},
      {"trainer", config.trainer},
      {"loss_type", config.lossType},
      {"reference_model", fs::absolute(task.sftModelDir()).lexically_normal().string()},
      {"policy_final", fs::absolute(folder.path("hf")).lexically_normal().string()},
      {"discriminator", fs::absolute(folder.path("discriminator")).lexically_normal().string()},
      {"gold_labeller", sources.gold->name()}};
  if (!(folder.holding() && fs::exists(folder.path("run_info.json"))))
    folder.writeFile("run_info.json", info.dump(2) + "\n"); // rank 0's alone
  D2poTrainer trainer(config, policy, reference, discriminator, tokenizer, std::move(sources), folder,
                      device);
  if (auto *group = options.dataParallel.get()) {
    trainer.setDataParallel(group);
    announcePrepared(*group, "each round's policy pairs split across", cb.onMessage);
  }
  const auto outcome = runOnLoop(trainer, options, cb, cancel, pause, summary);
  if (outcome.state == RunState::Failed || !folder.writes())
    return summary; // a rank after rank 0 ends with the loop: rank 0 exports and evaluates
  trainer.policy()->exportHuggingFace(*tokenizer, folder.path("hf"));
  trainer.discriminator()->exportHuggingFace(*tokenizer, folder.path("discriminator"));
  if (outcome.state == RunState::Finished) {
    folder.writeStatus(RunState::Running, "evaluating", outcome.step, trainer.totalSteps());
    summary.evalSummary = task.evaluate(trainer.policy(), folder);
    summary.evalSummary["eval/gold_labels"] = trainer.goldUsed();
    writeFileAtomic(folder.path("eval/summary.json"), summary.evalSummary.dump(2) + "\n");
  }
  if (summary.message.empty())
    summary.message = "finished " + std::to_string(outcome.step) + " rounds, " +
                      std::to_string(trainer.goldUsed()) + " gold labels";
  return summary;
}

} // namespace preflab::core
