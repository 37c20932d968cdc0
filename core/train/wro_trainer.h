// WroTrainer: win-rate optimisation as a step of the one TrainLoop. Each optimizer step the policy
// answers prompts K times; a judge (a Bradley–Terry scorer: the task's raters, a reward model)
// scores every answer and the reference's cached answers to the same prompt; an answer's reward
// is the mean over those competitors of h(σ(score − competitor score)); the per-sequence penalty
// beta · (log π − log π_ref) of the sample is subtracted; and the policy takes a REINFORCE step
// with the leave-one-out baseline (RLOO): advantage = reward − mean of the other K − 1.
#pragma once

#include "core/text/causal_lm.h"
#include "core/text/sampling_options.h"
#include "core/text/tokenizer.h"
#include "core/train/rloo.h"
#include "core/train/run_folder.h"
#include "core/train/text_train_config.h"
#include "core/train/train_loop.h"

#include <torch/optim/adamw.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace preflab::core {

class DataParallelGroup;

// Bradley–Terry scores of answers: p̂(answer a beats b | prompt) = σ(score(a) − score(b)).
using JudgeScores = std::function<std::vector<double>(const std::vector<std::string> &prompts,
                                                      const std::vector<std::string> &answers)>;

struct WroSources {
  std::vector<std::string> prompts; // the pool each step takes wro.prompts_per_step from, cycled
  JudgeScores judge;                // the training judge
  std::string judgeName;            // for messages and trainer_state.json
  // Optional: a reward of one sampled text (a task's oracle), logged as wro/sample_reward.
  std::function<double(const std::string &prompt, const std::string &text)> sampleReward;
  // Optional: held-out measures of the policy, at eval_steps and at the end.
  std::function<std::map<std::string, double>(const CausalLm &policy)> evaluatePolicy;
};

// Not thread-safe: construct, run and destroy on one thread; only the flags are shared. Throws
// InputError from the constructor for bad settings; failures during run() end in a Failed outcome.
class WroTrainer : private TrainStep {
public:
  // `reference` is frozen (the KL anchor and the competitors' sampler). `folder` must outlive this.
  WroTrainer(const TextTrainConfig &config, CausalLm policy, CausalLm reference,
             std::shared_ptr<Tokenizer> tokenizer, WroSources sources, RunFolder &folder,
             torch::Device device);

  void setCallbacks(TrainerCallbacks callbacks) { m_loop->setCallbacks(std::move(callbacks)); }
  void setCancelFlag(const std::atomic<bool> *flag) { m_loop->setCancelFlag(flag); }
  void setPauseFlag(const std::atomic<bool> *flag) { m_loop->setPauseFlag(flag); }
  std::int64_t resumeLatest() { return m_loop->resumeLatest(); }
  // Several processes: each answers its share of a step's prompts (every world-th, by position),
  // the answers' rewards and log-probs are gathered so that every rank computes the same
  // leave-one-out advantages and statistics as one process would, and the loop sums the shares'
  // gradients. Throws InputError (wro.prompts_per_step) when a step has fewer prompts than ranks.
  void setDataParallel(DataParallelGroup *group);
  LoopOutcome run() { return m_loop->run(); }

  std::int64_t totalSteps() const { return m_config.maxSteps; }
  CausalLm policy() const { return m_policy; }
  // The judge's scores of the cached reference answers to pool prompt `index` (drawn on first use).
  const std::vector<double> &competitorScores(std::size_t index);

private:
  // TrainStep
  std::vector<torch::Tensor> parameters() override;
  torch::optim::Optimizer &optimizer() override { return *m_optimizer; }
  std::map<std::string, torch::Tensor> compute(std::int64_t step) override;
  bool splitAcrossRanks(int /*rank*/, int /*worldSize*/) override { return true; }
  std::map<std::string, double> evaluate(std::int64_t step) override;
  void save(const std::string &dir) override;
  void load(const std::string &dir) override;
  nlohmann::json identity() const override;

  TextTrainConfig m_config;
  CausalLm m_policy, m_reference;
  std::shared_ptr<Tokenizer> m_tokenizer;
  WroSources m_sources;
  torch::Device m_device;
  WinRateTransform m_h;
  SamplingOptions m_sampling;
  std::unique_ptr<torch::optim::AdamW> m_optimizer;
  std::unique_ptr<TrainLoop> m_loop;
  DataParallelGroup *m_group = nullptr; // with more than one rank
  // Competitor scores per pool prompt: deterministic in (seed, prompt index), so a resumed run
  // draws the same ones again.
  std::map<std::size_t, std::vector<double>> m_competitors;
  std::int64_t m_usefulSteps = 0; // steps so far with a non-zero advantage somewhere (checkpointed)
};

} // namespace preflab::core
