// TextTrainConfig: every setting of a text (language model) preference run, read from YAML (TRL DPOConfig
// names) and saved resolved.
#pragma once

#include "core/train/config_key.h"

#include "core/objectives/objective_info.h"
#include "core/text/gpt_config.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace preflab::core {

// Settings of the embedded "sentiment steering" task (used when task == "sentiment").
struct SentimentTaskConfig {
  std::int64_t corpusSize = 4000; // built-in reviews used for SFT
  std::int64_t sftSteps = 600;
  double sftLearningRate = 2e-3;
  std::int64_t sftBatchSize = 32;
  std::int64_t numPrompts = 1200; // prompts for which two completions are sampled and labelled
  std::int64_t raters = 5;        // simulated raters per pair (Bradley–Terry draws)
  double raterTemperature = 0.5;  // temperature of the raters' Bradley–Terry choice on oracle reward
  double evalFraction = 0.1;      // share of labelled pairs held out
  std::int64_t evalPrompts = 128; // fixed prompts (each with a fixed seed) for reward / KL / win rate
  double sampleTemperature = 1.0;
  std::int64_t maxNewTokens = 48;
  std::int64_t trainPairs = 0; // use only the first N labelled training pairs (0: all)
  std::string reward = "sentiment"; // what labels the pairs: sentiment | conciseness | maxmin
  // Which prompts and sampling seeds the win-rate evaluation uses: "test" (openers no pair has) or
  // "validation" (the pairs' openers, other prompts' draws and seeds): tune on one, report the other.
  std::string evalSplit = "test";
};

// Settings of online D2PO (trainer == "d2po"): each optimizer step is a round in which the policy
// samples two responses per prompt, a discriminator (a Bradley–Terry reward model) labels them,
// and gold labels (the task's raters, or a person) are spent on the pairs it is least sure of.
struct D2poConfig {
  std::int64_t promptsPerRound = 32;        // prompts sampled twice per round
  std::int64_t goldBudget = 128;            // gold labels over the whole run (initial_gold included)
  std::int64_t goldPerRound = 8;            // gold labels asked per round until the budget is spent
  std::string goldSelection = "confidence"; // confidence (smallest |score gap| first) | random
  bool silver = true;                       // false: the policy trains on gold pairs only
  std::int64_t initialGold = 0;             // labelled task pairs that train the discriminator first
  double discriminatorLearningRate = 1e-4;
  std::int64_t discriminatorEpochs = 4; // passes over new gold + replay after each round with gold
  std::int64_t discriminatorBatchSize = 16;
  std::int64_t replayPairs = 80; // earlier gold pairs replayed with each update
  // Who gives the gold labels: raters (the task's simulated raters) | person (questions go into a
  // label store and the run waits for the decisions, made in the app's Label tab or with
  // preflab-cli labels decide).
  std::string goldLabeller = "raters";
  std::string goldStore;     // person: the label store; empty: <output_dir>/gold.preflab-labels
  std::string goldAnnotator; // person: whose decisions answer; empty: anyone's (the majority)
};

// Settings of an MPO mixing run (trainer == "mpo"): the weights λ of a log-linear mixture of
// policies trained on different rewards from one reference, by batch stochastic mirror descent
// over the reference's samples; max_steps is the number of iterations T.
struct MpoConfig {
  std::string policies;                 // comma-separated model or run folders (a YAML list is accepted)
  std::string weights;                  // comma-separated fixed λ (no optimisation); empty: computed
  std::int64_t samplesPerPrompt = 8;    // m reference samples per prompt
  std::int64_t promptsPerIteration = 4; // prompts in each iteration's batch
  double stepSize = 1.0;                // c in the step size η = c / √T
};

// Settings of win-rate optimisation (trainer == "wro"): each optimizer step the policy answers
// prompts K times, a judge (a Bradley–Terry scorer: the task's raters or a reward model) compares
// every answer with cached reference answers, the reward is the mean of h(p̂) over them, and the
// policy takes an RLOO step on reward − beta · (log π − log π_ref) of each sequence.
struct WroConfig {
  std::int64_t promptsPerStep = 8;   // prompts per optimizer step
  std::int64_t samplesPerPrompt = 4; // K policy samples per prompt (the leave-one-out group), >= 2
  std::int64_t competitors = 4;      // cached reference samples per prompt each answer is judged against
  std::string h = "identity";        // identity | log | logit, applied to the judge's probability
  std::string judge = "oracle";      // oracle (the task's raters) | reward_model (wro.reward_model)
  std::string rewardModel;           // a reward model folder or run folder (its hf/) for judge: reward_model
};

struct TextTrainConfig {
  // What to train on.
  std::string trainer = "offline"; // offline (preference pairs) | d2po (online rounds) | mpo (mixing) | wro
  std::string task;                // "" or "sentiment"
  std::string trainFile; // JSONL pairs (when task is empty)
  std::string evalFile;  // optional held-out JSONL
  std::string datasetFormat = "auto";
  bool skipInvalid = false;
  // Model: a built-in shape or a Hugging Face GPT-2 folder.
  GptConfig model;
  std::string modelNameOrPath;    // HF folder to start from (overrides `model`)
  std::string refModelNameOrPath; // reference; default: the initial policy
  // LoRA (TRL's ModelConfig / PEFT names): adapters on the projections, base weights frozen.
  bool usePeft = false;
  std::int64_t loraR = 16;
  double loraAlpha = 32.0;
  double loraDropout = 0.05;
  std::string
      loraTargetModules; // comma-separated (a YAML list is accepted); empty: the architecture's default
  // Objective.
  std::string lossType = "dpo";
  double beta = 0.1;
  // The other parameters the text objectives declare (label_smoothing, gamma_beta_ratio, ...),
  // by config key; each objective reads its own (see objective_info.h).
  std::map<std::string, double> objectiveParams = objectiveParamDefaults(Modality::Text);
  // Optimisation (AdamW).
  double learningRate = 5e-4;
  double weightDecay = 0.0;
  double adamBeta1 = 0.9;
  double adamBeta2 = 0.999;
  double adamEpsilon = 1e-8;
  std::string lrSchedulerType = "linear"; // constant | constant_with_warmup | linear | cosine
  double warmupRatio = 0.0;
  std::int64_t warmupSteps = 0; // wins over warmup_ratio when > 0
  double maxGradNorm = 1.0;     // 0: no clipping
  std::int64_t perDeviceTrainBatchSize = 16;
  std::int64_t perDeviceEvalBatchSize = 64;
  std::int64_t gradientAccumulationSteps = 1;
  std::int64_t maxSteps = -1; // > 0 wins over num_train_epochs
  double numTrainEpochs = 1.0;
  std::int64_t maxLength = 96;
  std::int64_t maxPromptLength = 32;
  std::uint64_t seed = 42;
  // Logging, evaluation, checkpoints.
  std::int64_t loggingSteps = 1;
  std::int64_t evalSteps = 0;      // 0: only at the end
  std::int64_t saveSteps = 0;      // 0: only at the end
  std::int64_t saveTotalLimit = 0; // 0: keep all checkpoints
  std::string outputDir = "runs/run";
  std::string cacheDir; // default: <parent of output_dir>/.cache
  bool precomputeRefLogProbs = true;
  bool disableDropout = true; // as TRL: policy and reference log-probs comparable at step 0
  // Execution.
  std::string device = "cpu"; // cpu | cuda | auto
  bool bf16 = true;           // on CUDA, forwards under bfloat16 autocast (TRL's bf16); no effect on CPU
  std::int64_t threads = 0;   // 0: all cores
  SentimentTaskConfig sentiment;
  D2poConfig d2po;
  MpoConfig mpo;
  WroConfig wro;

  // Throws InputError naming the key for an out-of-range value or unknown loss_type.
  void validate() const;
  void validateD2po() const; // the d2po.* keys and what trainer: d2po needs of the others
  void validateMpo() const;  // the mpo.* keys and what trainer: mpo needs of the others
  void validateWro() const;  // the wro.* keys and what trainer: wro needs of the others
  // mpo.weights as numbers (empty when computed). Throws InputError naming mpo.weights.
  std::vector<double> mpoWeights() const;
  // The chosen objective's parameters as this config sets them (beta included).
  ObjectiveParams lossParams() const;
  // cache_dir, or <parent of output_dir>/.cache when it is empty.
  std::string resolvedCacheDir() const;
};

// "a, b,c" -> {"a", "b", "c"} (spaces around items dropped, empty items skipped).
std::vector<std::string> splitList(const std::string &commaSeparated);

// Parses YAML text; `source` names it in errors. Unknown keys are errors naming the key.
TextTrainConfig textTrainConfigFromYaml(const std::string &yamlText, const std::string &source);
TextTrainConfig loadTextTrainConfig(const std::string &path);
// Applies "key=value" (nested keys with dots, e.g. "model.n_layer=2"); throws on unknown keys.
void applyOverride(TextTrainConfig &config, const std::string &assignment);
// The fully resolved config as YAML (every key, defaults included). Relative paths are kept as
// written: like TRL's scripts, they are relative to the working directory of the run.
std::string toYaml(const TextTrainConfig &config);
// The keys the YAML accepts ("beta", "model.n_layer", "sentiment.raters", ...), for --help.
std::vector<std::string> textTrainConfigKeys();
// Every key with its default and a one-line meaning (range included), in table order.
std::vector<ConfigKeyHelp> textTrainConfigHelp();

} // namespace preflab::core
