// executeWroRun: the SFT policy and reference, the judge (the task's raters or a reward model),
// the WRO steps, then hf/ and the task's evaluation.
#include "core/jobs/wro_training.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/jobs/loop_summary.h"
#include "core/runtime/device.h"
#include "core/tasks/sentiment_oracle.h"
#include "core/tasks/sentiment_task.h"
#include "core/text/model_store.h"
#include "core/train/data_parallel.h"
#include "core/train/pair_scoring.h"
#include "core/train/wro_trainer.h"

#include <torch/torch.h>

#include <filesystem>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

// A reward model's folder: the folder itself, or a run folder's hf/.
std::string rewardModelFolder(const std::string &path) {
  if (fs::exists(fs::path(path) / "hf") && !fs::exists(fs::path(path) / "config.json"))
    return (fs::path(path) / "hf").string();
  return path;
}

} // namespace

RunSummary executeWroRun(const TextTrainConfig &config, const RunOptions &options, const TrainerCallbacks &cb,
                         const std::atomic<bool> *cancel, const std::atomic<bool> *pause, RunFolder &folder,
                         SentimentTask &task) {
  RunSummary summary;
  summary.runDir = folder.root();
  auto *group = options.dataParallel.get();
  const auto device = rankDevice(resolveDevice(config.device), group);
  std::shared_ptr<Tokenizer> tokenizer;
  auto policy = loadModelFolder(task.sftModelDir(), &tokenizer);
  if (policy->dropout() > 0.0)
    policy = policy->clone(0.0); // policy and reference without dropout (as TRL's RLOO)
  auto reference = policy->clone();
  const auto &w = config.wro;
  WroSources sources;
  sources.prompts = SentimentCorpus::prompts(config.sentiment.numPrompts, config.seed + 1,
                                             SentimentCorpus::PromptSet::Pairs);
  std::string judgeFolder;
  if (w.judge == "oracle") {
    // The raters' Bradley–Terry choice: p(a beats b) = σ((score(a) − score(b)) / temperature).
    const auto reward = taskRewardNamed(config.sentiment.reward);
    if (reward == TaskReward::MaxMin)
      throw InputError({}, 0, "wro.judge",
                       "oracle judges one reward; with sentiment.reward: maxmin use wro.judge: reward_model");
    const double t = config.sentiment.raterTemperature;
    sources.judgeName = "oracle raters (" + config.sentiment.reward + ")";
    sources.judge = [reward, t](const std::vector<std::string> &, const std::vector<std::string> &answers) {
      std::vector<double> out;
      for (const auto &a : answers)
        out.push_back((reward == TaskReward::Sentiment ? double(SentimentOracle::score(a))
                                                       : ConcisenessOracle::score(a)) /
                      t);
      return out;
    };
  } else {
    judgeFolder = fs::absolute(rewardModelFolder(w.rewardModel)).lexically_normal().string();
    std::shared_ptr<Tokenizer> judgeTokenizer;
    auto judge = loadModelFolder(judgeFolder, &judgeTokenizer);
    if (!judge->hasScoreHead())
      throw InputError(judgeFolder, 0, "wro.reward_model",
                       "is not a reward model (no score head): train one with loss_type: reward");
    judge->to(device);
    judge->eval();
    sources.judgeName = "reward model " + judgeFolder;
    const ScoringOptions so{config.maxLength, config.maxPromptLength, config.perDeviceEvalBatchSize};
    sources.judge = [judge, judgeTokenizer, so](const std::vector<std::string> &prompts,
                                                const std::vector<std::string> &answers) {
      std::vector<TokenIds> ps, rs;
      for (std::size_t i = 0; i < answers.size(); ++i) {
        ps.push_back(encodePrompt(*judgeTokenizer, prompts[i]));
        rs.push_back(judgeTokenizer->encode(answers[i]));
        rs.back().push_back(judgeTokenizer->eosId()); // as the reward model's training pairs end
      }
      std::vector<const TokenIds *> pp, rp;
      for (std::size_t i = 0; i < ps.size(); ++i) {
        pp.push_back(&ps[i]);
        rp.push_back(&rs[i]);
      }
      return rewardScores(judge, pp, rp, so);
    };
  }
  sources.sampleReward = [](const std::string &, const std::string &text) {
    return SentimentOracle::reward(text);
  };
  sources.evaluatePolicy = [&task](const CausalLm &p) { return task.policyMetricValues(p); };
  if (cb.onMessage)
    cb.onMessage("WRO: h = " + w.h + ", judge " + sources.judgeName + ", " +
                 std::to_string(w.samplesPerPrompt) + " samples per prompt against " +
                 std::to_string(w.competitors) +
                 " reference samples, KL penalty beta = " + std::to_string(config.beta));
  nlohmann::json info = {{"task", config.task},
                         {"trainer", config.trainer},
                         {"h", w.h},
                         {"judge", w.judge},
                         {"reference_model", fs::absolute(task.sftModelDir()).lexically_normal().string()},
                         {"policy_final", fs::absolute(folder.path("hf")).lexically_normal().string()}};
  if (!judgeFolder.empty())
    info["reward_model"] = judgeFolder;
  if (!(folder.holding() && fs::exists(folder.path("run_info.json"))))
    folder.writeFile("run_info.json", info.dump(2) + "\n"); // rank 0's alone
  WroTrainer trainer(config, policy, reference, tokenizer, std::move(sources), folder, device);
  if (group) {
    trainer.setDataParallel(group);
    announcePrepared(*group, "each step's prompts shared by", cb.onMessage);
  }
  const auto outcome = runOnLoop(trainer, options, cb, cancel, pause, summary);
  if (outcome.state == RunState::Failed || !folder.writes())
    return summary; // a rank after rank 0 ends with the loop: rank 0 exports and evaluates
  trainer.policy()->exportHuggingFace(*tokenizer, folder.path("hf"));
  if (outcome.state == RunState::Finished) {
    folder.writeStatus(RunState::Running, "evaluating", outcome.step, trainer.totalSteps());
    summary.evalSummary = task.evaluate(trainer.policy(), folder); // writes eval/summary.json
  }
  if (summary.message.empty())
    summary.message = "finished " + std::to_string(outcome.step) + " WRO steps";
  return summary;
}

} // namespace preflab::core
