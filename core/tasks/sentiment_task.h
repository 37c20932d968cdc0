// The embedded "sentiment steering" task: SFT stage, labelled pairs, and the final evaluation.
#pragma once

#include "core/data/text_preference_reader.h"
#include "core/text/causal_lm.h"
#include "core/text/tokenizer.h"
#include "core/train/run_folder.h"
#include "core/train/text_train_config.h"
#include "core/train/tokenized_data.h"
#include "core/train/trainer_callbacks.h"

#include <c10/core/Device.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <map>
#include <string>

namespace preflab::core {

// Stages are cached under <cache_dir>/sentiment-<key>/ (key: hash of the settings they depend
// on): sft/ (the SFT model, also the reference), sft-run/ (its run folder), pairs.jsonl and
// pairs_eval.jsonl (TRL-format pairs with rater_fraction and rater_count).
class SentimentTask {
public:
  SentimentTask(const TextTrainConfig &config, const TrainerCallbacks &callbacks, torch::Device device);

  // Runs or reuses the SFT and pair stages. Throws on failure; returns false when cancelled.
  bool prepare(const std::atomic<bool> *cancel);

  const std::string &stageDir() const { return m_dir; }
  std::string sftModelDir() const { return m_dir + "/sft"; }
  std::string trainPairsPath() const { return m_dir + "/pairs.jsonl"; }
  std::string evalPairsPath() const { return m_dir + "/pairs_eval.jsonl"; }

  // Oracle reward, KL to the reference, win rate vs the reference at fixed prompts and seeds,
  // ranking accuracy, idealised ranking accuracy and alignment gap on the held-out pairs.
  // Writes <run>/eval/summary.json, eval/pairs.jsonl and samples/eval_samples.jsonl. A reward
  // model (loss_type: reward, a score head) is evaluated by evaluateRewardModel instead.
  nlohmann::json evaluate(const CausalLm &policy, RunFolder &folder);
  // A reward model's accuracy on the held-out pairs (ties ½, with its interval) and mean score gap:
  // eval/reward_model_accuracy(_ci95), eval/reward_model_margin, eval/pairs in eval/summary.json.
  nlohmann::json evaluateRewardModel(const CausalLm &model, RunFolder &folder);
  // The sampled part of evaluate: eval/reward, eval/reward_ref, eval/kl, eval/win_rate (with
  // eval/win_rate_ci95), eval/tie_rate, eval/prompts, and the h-win rates with the raters as the
  // judge, eval/h_win_rate_{identity,log,logit} (each with _ci95). With `samplesPath`, the samples are
  // written there (JSONL). The reference's samples are drawn once and kept, so later calls sample only the
  // policy.
  nlohmann::json policyMetrics(const CausalLm &policy, const std::string &samplesPath = {});
  // policyMetrics' numbers (the intervals left out), as an online trainer's evaluatePolicy takes them.
  std::map<std::string, double> policyMetricValues(const CausalLm &policy);
  // The SFT model (the reference), loaded once on the task's device.
  CausalLm reference();

private:
  void runSft(const std::atomic<bool> *cancel);
  void makePairs();
  void report(const std::string &stage, double fraction) const;

  TextTrainConfig m_config;
  TrainerCallbacks m_callbacks;
  torch::Device m_device;
  ByteTokenizer m_tokenizer;
  std::string m_dir;
  CausalLm m_reference;
  std::vector<TokenIds> m_refSamples; // the reference's evaluation samples, once drawn
};

} // namespace preflab::core
