// D2poTrainer: online D2PO (discriminator-guided DPO) as a step of the one TrainLoop. Each
// optimizer step is a round: the policy answers prompts twice, a discriminator (a separate
// Bradley–Terry reward model) scores both answers, gold labels (a Labeller: simulated raters, a
// person) go to the pairs it is least sure of and override its labels there, the gold pairs
// (with a replay of earlier ones) train the discriminator, and the policy takes one step of its
// pairwise objective on gold + silver pairs (pairs the discriminator scores equal are left out).
#pragma once

#include "core/data/text_preference_reader.h"
#include "core/objectives/objective.h"
#include "core/text/causal_lm.h"
#include "core/text/sampling_options.h"
#include "core/text/tokenizer.h"
#include "core/train/gold_selection.h"
#include "core/train/labeller.h"
#include "core/train/run_folder.h"
#include "core/train/text_train_config.h"
#include "core/train/tokenized_data.h"
#include "core/train/train_loop.h"

#include <torch/optim/adamw.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace preflab::core {

// What a D2PO run draws on besides the models: where prompts and gold labels come from, and how a
// task measures the policy.
struct D2poSources {
  std::vector<std::string> prompts; // the pool each round takes d2po.prompts_per_round from, cycled
  std::shared_ptr<Labeller> gold;   // gold labels; its answers are spent from d2po.gold_budget
  TextPreferenceData initialGold;   // labelled pairs the discriminator trains on before round 1
  TextPreferenceData heldOutGold;   // labelled pairs for d2po/discriminator_accuracy (never trained on)
  // Optional: a reward of one sampled text (a task's oracle), logged as d2po/sample_reward, the
  // mean over the round's samples.
  std::function<double(const std::string &prompt, const std::string &text)> sampleReward;
  // Optional: held-out measures of the policy ("eval/reward", "eval/win_rate", ...), at eval_steps
  // and at the end.
  std::function<std::map<std::string, double>(const CausalLm &policy)> evaluatePolicy;
};

// Not thread-safe: construct, run and destroy on one thread; only the flags are shared.
// Throws InputError from the constructor for bad settings; failures during run() end in a Failed
// outcome.
class DataParallelGroup;

class D2poTrainer : private TrainStep {
public:
  // `reference` is frozen; `discriminator` must have a score head. `folder` must outlive this.
  D2poTrainer(const TextTrainConfig &config, CausalLm policy, CausalLm reference, CausalLm discriminator,
              std::shared_ptr<Tokenizer> tokenizer, D2poSources sources, RunFolder &folder,
              torch::Device device);

  void setCallbacks(TrainerCallbacks callbacks) { m_loop->setCallbacks(std::move(callbacks)); }
  void setCancelFlag(const std::atomic<bool> *flag) {
    m_cancel = flag;
    m_loop->setCancelFlag(flag);
  }
  void setPauseFlag(const std::atomic<bool> *flag) { m_loop->setPauseFlag(flag); }
  std::int64_t resumeLatest() { return m_loop->resumeLatest(); }
  LoopOutcome run() { return m_loop->run(); }
  // Several processes: every rank samples and labels the whole round and trains its copy of the
  // discriminator the same way (seeded, so the copies stay equal); the policy's step is split,
  // each rank taking a contiguous share of the round's pairs, and the loop sums the shares.
  // Throws InputError for gold_labeller person (one person answers one process) and for an
  // objective whose loss is not a mean over pairs.
  void setDataParallel(DataParallelGroup *group);

  std::int64_t totalSteps() const { return m_config.maxSteps; }
  CausalLm policy() const { return m_policy; }
  CausalLm discriminator() const { return m_discriminator; }
  std::int64_t goldUsed() const { return m_goldUsed; }

private:
  struct GoldPair {
    TokenIds prompt, winner, loser;
  };
  struct Round; // the round's sampled pairs, scores and labels (d2po_trainer.cpp)

  // TrainStep
  std::vector<torch::Tensor> parameters() override;
  torch::optim::Optimizer &optimizer() override { return *m_optimizer; }
  std::map<std::string, torch::Tensor> compute(std::int64_t step) override;
  bool splitAcrossRanks(int /*rank*/, int /*worldSize*/) override { return true; }
  std::map<std::string, double> evaluate(std::int64_t step) override;
  void save(const std::string &dir) override;
  void load(const std::string &dir) override;
  nlohmann::json identity() const override;

  Round sampleRound(std::int64_t round);
  void askGold(Round &r, std::int64_t round);
  // Trains the discriminator on the newest `fresh` gold pairs plus the replay window; returns the
  // mean BT loss of its last epoch (NaN when it did not train).
  double trainDiscriminator(std::size_t fresh, std::uint64_t seed);
  double discriminatorAccuracy();

  TextTrainConfig m_config;
  CausalLm m_policy, m_reference, m_discriminator;
  std::shared_ptr<Tokenizer> m_tokenizer;
  D2poSources m_sources;
  TokenizedData m_heldOut;
  torch::Device m_device;
  ObjectiveInfo m_info;
  ObjectiveFn m_objective, m_rewardObjective;
  ObjectiveParams m_params;
  GoldSelection m_selection;
  SamplingOptions m_sampling;
  std::unique_ptr<torch::optim::AdamW> m_optimizer, m_discOptimizer;
  std::unique_ptr<TrainLoop> m_loop;
  const std::atomic<bool> *m_cancel = nullptr;
  int m_rank = 0, m_worldSize = 1; // of the data-parallel group
  // State an exact resume restores (checkpoint d2po_state.json and discriminator*.pt).
  std::vector<GoldPair> m_gold; // every gold pair so far, oldest first (the replay buffer)
  std::int64_t m_goldUsed = 0;  // gold labels asked (answered or not)
  std::int64_t m_compared = 0;  // gold-labelled pairs that had a silver label to compare
  std::int64_t m_agreed = 0;    // ... of them where silver and gold agreed
  double m_discAccuracy = 0.0;  // on heldOutGold, after the latest update
  double m_discLoss = 0.0;      // last epoch's mean of the latest update
};

} // namespace preflab::core
