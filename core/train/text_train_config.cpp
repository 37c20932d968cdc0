// TextTrainConfig <-> YAML through one table of fields, so reading, overriding and saving agree.
#include "core/train/text_train_config.h"

#include "core/io/input_error.h"
#include "core/objectives/objective_info.h"
#include "core/train/config_checks.h"
#include "core/train/config_table.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <type_traits>

namespace preflab::core {

namespace {

using Field = config_table::Field<TextTrainConfig>;
using config_table::field;
using config_table::nested;

const std::vector<Field> &fields() {
  using C = TextTrainConfig;
  using S = SentimentTaskConfig;
  using D = D2poConfig;
  using M = MpoConfig;
  using W = WroConfig;
  static const std::vector<Field> kFields = config_table::withObjectiveParams<C>(
      &C::objectiveParams, Modality::Text,
      config_table::joined<C>(
          {{
               field("trainer", &C::trainer,
                     "offline (train on preference pairs), d2po (online rounds: the policy samples "
                     "pairs, a discriminator labels them, a gold budget goes to the least certain), "
                     "mpo (mix policies trained on different rewards, see mpo.*) or wro (win-rate "
                     "optimisation: RLOO on a judge's h(win probability) against reference samples, "
                     "see wro.*); d2po, mpo and wro need task: sentiment"),
               field(
                   "task", &C::task,
                   "embedded task: sentiment (built-in corpus, SFT reference, simulated raters), or empty to "
                   "train "
                   "on train_file"),
               field("train_file", &C::trainFile,
                     "preference JSONL (TRL, HH-RLHF, UltraFeedback, KTO); required when task is empty"),
               field("eval_file", &C::evalFile, "held-out preference JSONL for eval/* metrics; empty: none"),
               field("dataset_format", &C::datasetFormat,
                     "auto (detected per file), trl, trl-conversational, trl-implicit-prompt, hh-rlhf, "
                     "ultrafeedback, sharegpt, "
                     "llamafactory-v1, alpaca, openai-dpo, kto or kto-messages"),
               field("skip_invalid", &C::skipInvalid,
                     "skip malformed lines (counted and reported) instead of failing on the first"),
               nested("model.n_layer", &C::model, &GptConfig::nLayer,
                      "transformer blocks of the built-in GPT-2-shaped model, >= 1"),
               nested("model.n_head", &C::model, &GptConfig::nHead,
                      "attention heads per block, >= 1, must divide model.n_embd"),
               nested("model.n_embd", &C::model, &GptConfig::nEmbd, "width of the built-in model, >= 1"),
               nested("model.block_size", &C::model, &GptConfig::blockSize,
                      "longest sequence (prompt + response tokens) the model accepts; max_length must fit in "
                      "it"),
               nested("model.vocab_size", &C::model, &GptConfig::vocabSize,
                      "token ids of the byte-level tokenizer (257: 256 bytes + end-of-text)"),
               nested("model.dropout", &C::model, &GptConfig::dropout,
                      "dropout probability in [0, 1) while training (see disable_dropout)"),
               field("model_name_or_path", &C::modelNameOrPath,
                     "Hugging Face model folder (GPT-2, Llama family), PEFT adapter or checkpoint to start "
                     "the policy from; overrides model.*"),
               field("ref_model_name_or_path", &C::refModelNameOrPath,
                     "reference model folder; empty: a frozen copy of the initial policy"),
               field("use_peft", &C::usePeft,
                     "train LoRA adapters (PEFT layout) instead of every weight; the reference is the base "
                     "model with the adapters off"),
               field("lora_r", &C::loraR, "LoRA rank, >= 1"),
               field("lora_alpha", &C::loraAlpha,
                     "LoRA scale numerator: updates are scaled by lora_alpha / lora_r, > 0"),
               field("lora_dropout", &C::loraDropout,
                     "dropout on the adapters' input, in [0, 1) (off while disable_dropout is true, as in "
                     "TRL)"),
               field(
                   "lora_target_modules", &C::loraTargetModules,
                   "projections to adapt, a list or comma-separated (q_proj, v_proj, ...; c_attn for GPT-2); "
                   "empty: q_proj, v_proj (Llama family) or c_attn (GPT-2)"),
               field("loss_type", &C::lossType,
                     "objective: " + config_table::objectiveNames(Modality::Text) +
                         " (preflab-cli objectives)"),
               field("beta", &C::beta,
                     "the objective's strength on its own scale (KL strength for DPO, tau for IPO, lambda "
                     "for ORPO; "
                     "see objectives), > 0"),
           },
           config_table::adamWFields<C>(),
           {
               field("lr_scheduler_type", &C::lrSchedulerType,
                     "constant, constant_with_warmup, linear (to 0) or cosine (to 0)"),
               field("warmup_ratio", &C::warmupRatio,
                     "share of the steps with a linear warmup from 0, in [0, 1)"),
               field("warmup_steps", &C::warmupSteps, "warmup steps; > 0 wins over warmup_ratio"),
               field("max_grad_norm", &C::maxGradNorm,
                     "clip the total gradient norm to this; 0: no clipping (the norm is still logged)"),
               field("per_device_train_batch_size", &C::perDeviceTrainBatchSize,
                     "pairs per micro-batch, in 1..65536 (and within memory)"),
               field("per_device_eval_batch_size", &C::perDeviceEvalBatchSize,
                     "pairs per evaluation batch (and per reference log-prob batch), >= 1"),
               field("gradient_accumulation_steps", &C::gradientAccumulationSteps,
                     "micro-batches per optimizer step, in 1..65536"),
               field("max_steps", &C::maxSteps,
                     "optimizer steps, > 0 (wins over num_train_epochs); -1: train num_train_epochs"),
               field("num_train_epochs", &C::numTrainEpochs, "passes over train_file when max_steps is -1"),
               field("max_length", &C::maxLength, "tokens kept of prompt + response, in 2..model.block_size"),
               field("max_prompt_length", &C::maxPromptLength,
                     "tokens kept of the prompt (its end), in 1..max_length-1"),
               field("seed", &C::seed, "seed of the initial weights, the data order and dropout"),
               field("logging_steps", &C::loggingSteps, "write metrics.jsonl every N steps, >= 1"),
               field("eval_steps", &C::evalSteps, "evaluate on eval_file every N steps; 0: only at the end"),
               field("save_steps", &C::saveSteps, "checkpoint every N steps; 0: only at the end"),
               field("save_total_limit", &C::saveTotalLimit, "keep only the newest N checkpoints; 0: all"),
               field("output_dir", &C::outputDir, "the run folder"),
               field("cache_dir", &C::cacheDir,
                     "where the SFT model, pairs and reference log-probs are cached; empty: <parent of "
                     "output_dir>/.cache"),
               field("precompute_ref_log_probs", &C::precomputeRefLogProbs,
                     "compute reference log-probs once (cached) instead of a reference forward per step"),
               field(
                   "disable_dropout", &C::disableDropout,
                   "train the policy without dropout, as TRL does, so policy and reference agree at step 0"),
               field("device", &C::device, "cpu, cuda or auto"),
               field("bf16", &C::bf16,
                     "on CUDA, run the forwards under bfloat16 autocast (weights and optimizer stay "
                     "float32); ignored on the CPU, which computes in float32"),
               field("threads", &C::threads, "CPU threads, at most the machine's cores; 0: all cores"),
               nested("sentiment.corpus_size", &C::sentiment, &S::corpusSize,
                      "reviews in the built-in corpus the reference is SFT'd on"),
               nested("sentiment.sft_steps", &C::sentiment, &S::sftSteps, "SFT steps of the reference"),
               nested("sentiment.sft_learning_rate", &C::sentiment, &S::sftLearningRate, "SFT learning rate"),
               nested("sentiment.sft_batch_size", &C::sentiment, &S::sftBatchSize, "SFT batch size"),
               nested("sentiment.num_prompts", &C::sentiment, &S::numPrompts,
                      "prompts sampled twice from the reference to make pairs"),
               nested("sentiment.raters", &C::sentiment, &S::raters,
                      "simulated Bradley-Terry raters per pair, >= 1"),
               nested("sentiment.rater_temperature", &C::sentiment, &S::raterTemperature,
                      "temperature of the raters' draws (lower: more unanimous)"),
               nested("sentiment.eval_fraction", &C::sentiment, &S::evalFraction,
                      "share of the pairs held out for ranking accuracy, in (0, 1)"),
               nested("sentiment.eval_prompts", &C::sentiment, &S::evalPrompts,
                      "fixed prompts of the win-rate evaluation"),
               nested("sentiment.sample_temperature", &C::sentiment, &S::sampleTemperature,
                      "sampling temperature of the pairs and of the evaluation"),
               nested("sentiment.max_new_tokens", &C::sentiment, &S::maxNewTokens,
                      "tokens sampled per completion"),
               nested("sentiment.eval_split", &C::sentiment, &S::evalSplit,
                      "test (openers no pair has, the reported numbers) or validation (the pairs' "
                      "openers, other draws and sampling seeds: for choosing settings)"),
               nested("sentiment.reward", &C::sentiment, &S::reward,
                      "what the raters judge when labelling pairs: sentiment (the lexicon), conciseness "
                      "(fewer words) or maxmin (the lower of the two, each standardised on the sampled "
                      "completions); evaluation reports both"),
               nested("sentiment.train_pairs", &C::sentiment, &S::trainPairs,
                      "train on only the first N labelled pairs (a gold budget for offline runs); 0: all"),
               nested("d2po.prompts_per_round", &C::d2po, &D::promptsPerRound,
                      "prompts the policy answers twice in each round (one optimizer step), >= 1"),
               nested("d2po.gold_budget", &C::d2po, &D::goldBudget,
                      "gold labels asked over the whole run, initial_gold included, >= 0"),
               nested("d2po.gold_per_round", &C::d2po, &D::goldPerRound,
                      "gold labels asked per round until the budget is spent, >= 1"),
               nested("d2po.gold_selection", &C::d2po, &D::goldSelection,
                      "which pairs get gold labels: confidence (the discriminator's smallest score gap "
                      "first) or random"),
               nested("d2po.gold_labeller", &C::d2po, &D::goldLabeller,
                      "who gives the gold labels: raters (the task's simulated raters) or person (each "
                      "round's questions go into d2po.gold_store and the run waits for the decisions, made "
                      "in the app's Label tab or with preflab-cli labels decide)"),
               nested("d2po.gold_store", &C::d2po, &D::goldStore,
                      "gold_labeller person: the label store the questions go into; empty: "
                      "<output_dir>/gold.preflab-labels"),
               nested("d2po.gold_annotator", &C::d2po, &D::goldAnnotator,
                      "gold_labeller person: whose decisions answer; empty: anyone's (the majority)"),
               nested("d2po.silver", &C::d2po, &D::silver,
                      "train the policy on the discriminator's labels too; false: gold pairs only "
                      "(online DPO on gold labels)"),
               nested("d2po.initial_gold", &C::d2po, &D::initialGold,
                      "labelled task pairs that train the discriminator before the first round (spent "
                      "from gold_budget), >= 0"),
               nested("d2po.discriminator_learning_rate", &C::d2po, &D::discriminatorLearningRate,
                      "AdamW learning rate of the discriminator, > 0"),
               nested("d2po.discriminator_epochs", &C::d2po, &D::discriminatorEpochs,
                      "passes over the new gold pairs and the replayed ones after each round with gold, "
                      ">= 0 (0: the discriminator stays as initialised)"),
               nested("d2po.discriminator_batch_size", &C::d2po, &D::discriminatorBatchSize,
                      "pairs per discriminator step, >= 1"),
               nested("d2po.replay_pairs", &C::d2po, &D::replayPairs,
                      "earlier gold pairs (the newest) replayed with each discriminator update, >= 0"),
               nested("mpo.policies", &C::mpo, &M::policies,
                      "policies to mix (model folders, or run folders: their hf/), a list or "
                      "comma-separated, >= 2, trained from the task's reference with one beta"),
               nested("mpo.weights", &C::mpo, &M::weights,
                      "fixed mixing weights, one per policy, summing to 1 (e.g. 0.5,0.5); empty: MPO's "
                      "weights by mirror descent over max_steps iterations"),
               nested("mpo.samples_per_prompt", &C::mpo, &M::samplesPerPrompt,
                      "reference samples per prompt (m: the bias of the nested log-expectation is O(1/m)), "
                      ">= 1"),
               nested("mpo.prompts_per_iteration", &C::mpo, &M::promptsPerIteration,
                      "prompts in each mirror-descent iteration, >= 1"),
               nested("mpo.step_size", &C::mpo, &M::stepSize,
                      "c in the mirror-descent step size c / sqrt(max_steps), > 0"),
               nested("wro.prompts_per_step", &C::wro, &W::promptsPerStep,
                      "prompts the policy answers in each optimizer step, >= 1"),
               nested("wro.samples_per_prompt", &C::wro, &W::samplesPerPrompt,
                      "policy samples per prompt (K: each one's baseline is the mean reward of the "
                      "other K - 1), >= 2"),
               nested("wro.competitors", &C::wro, &W::competitors,
                      "reference samples per prompt (drawn once) each policy sample is judged "
                      "against; the reward is the mean of h over them, >= 1"),
               nested("wro.h", &C::wro, &W::h,
                      "h applied to the judge's preference probability: identity (win rate), log or "
                      "logit (logit with a Bradley-Terry judge is the reward gap: RLHF)"),
               nested("wro.judge", &C::wro, &W::judge,
                      "the preference classifier of training: oracle (the task's simulated raters) or "
                      "reward_model (a Bradley-Terry reward model, wro.reward_model)"),
               nested("wro.reward_model", &C::wro, &W::rewardModel,
                      "reward model folder (or a loss_type: reward run folder: its hf/) for wro.judge: "
                      "reward_model"),
           }}));
  return kFields;
}

} // namespace

void TextTrainConfig::validate() const {
  model.validate(); // first: the batch-memory estimate below uses the model's sizes
  const ObjectiveInfo &info = objectiveInfo(lossType, Modality::Text); // throws for unknown names
  checkObjectiveParams(info, lossParams());
  requireInput(task.empty() || task == "sentiment", "task", "unknown task '" + task + "' (known: sentiment)");
  requireInput(trainer == "offline" || trainer == "d2po" || trainer == "mpo" || trainer == "wro", "trainer",
               "unknown trainer '" + trainer + "' (known: offline, d2po, mpo, wro)");
  requireInput(sentiment.evalSplit == "test" || sentiment.evalSplit == "validation", "sentiment.eval_split",
               "is '" + sentiment.evalSplit + "', must be test or validation");
  requireInput(sentiment.reward == "sentiment" || sentiment.reward == "conciseness" ||
                   sentiment.reward == "maxmin",
               "sentiment.reward", "is '" + sentiment.reward + "', must be sentiment, conciseness or maxmin");
  requireInput(sentiment.trainPairs >= 0, "sentiment.train_pairs", "must be >= 0 (0: all)");
  if (trainer == "d2po")
    validateD2po();
  if (trainer == "mpo")
    validateMpo();
  if (trainer == "wro")
    validateWro();
  requireInput(!task.empty() || !trainFile.empty(), "train_file", "required when no task is set");
  requireInput(task.empty() || (trainFile.empty() && evalFile.empty()),
               trainFile.empty() ? "eval_file" : "train_file",
               "is not read by task: " + task + " (it makes its own pairs); remove one of the two");
  checkAdamW({learningRate, weightDecay, adamBeta1, adamBeta2, adamEpsilon, maxGradNorm, warmupSteps});
  checkCount("per_device_train_batch_size", perDeviceTrainBatchSize, 1);
  checkCount("per_device_eval_batch_size", perDeviceEvalBatchSize, 1);
  checkCount("gradient_accumulation_steps", gradientAccumulationSteps, 1);
  // Logits (and their log-softmax and gradient) dominate a micro-batch: chosen and rejected rows.
  const double rowBytes =
      double(maxLength) * double(model.vocabSize + 8 * model.nEmbd * model.nLayer) * 4.0 * 3.0;
  checkFitsInMemory("per_device_train_batch_size", perDeviceTrainBatchSize,
                    2.0 * double(perDeviceTrainBatchSize) * rowBytes);
  checkFitsInMemory("per_device_eval_batch_size", perDeviceEvalBatchSize,
                    2.0 * double(perDeviceEvalBatchSize) * rowBytes / 3.0);
  requireInput(maxSteps == -1 || maxSteps > 0, "max_steps",
               "is " + std::to_string(maxSteps) + ", must be > 0, or -1 to train num_train_epochs passes");
  requireInput(maxSteps > 0 || numTrainEpochs > 0, "num_train_epochs", "must be > 0 when max_steps is -1");
  requireInput(saveSteps >= 0, "save_steps", "must be >= 0 (0: only at the end)");
  requireInput(saveTotalLimit >= 0, "save_total_limit", "must be >= 0 (0: keep all)");
  requireInput(evalSteps >= 0, "eval_steps", "must be >= 0 (0: only at the end)");
  // A model folder's own length limit is checked once it is loaded (executeTextRun).
  const std::int64_t longest =
      modelNameOrPath.empty() ? model.blockSize : std::numeric_limits<std::int64_t>::max();
  requireInput(maxLength >= 2 && maxLength <= longest, "max_length",
               "is " + std::to_string(maxLength) + ", must be in 2.." + std::to_string(model.blockSize) +
                   " (model.block_size: the longest prompt + response the model accepts)");
  requireInput(maxPromptLength >= 1 && maxPromptLength < maxLength, "max_prompt_length",
               "is " + std::to_string(maxPromptLength) + ", must be in 1.." + std::to_string(maxLength - 1) +
                   " (max_length - 1: at least one response token)");
  requireInput(lrSchedulerType == "constant" || lrSchedulerType == "constant_with_warmup" ||
                   lrSchedulerType == "linear" || lrSchedulerType == "cosine",
               "lr_scheduler_type", "must be constant, constant_with_warmup, linear or cosine");
  requireInput(warmupRatio >= 0 && warmupRatio < 1, "warmup_ratio", "must be in [0, 1)");
  requireInput(loggingSteps >= 1, "logging_steps", "must be >= 1");
  requireInput(loraR >= 1, "lora_r", "must be >= 1");
  requireInput(loraAlpha > 0, "lora_alpha", "must be > 0");
  requireInput(loraDropout >= 0 && loraDropout < 1, "lora_dropout", "must be in [0, 1)");
  requireInput(device == "cpu" || device == "cuda" || device == "auto", "device",
               "must be cpu, cuda or auto");
  checkThreads(threads);
  requireInput(sentiment.raters >= 1, "sentiment.raters", "must be >= 1");
  requireInput(sentiment.evalFraction > 0 && sentiment.evalFraction < 1, "sentiment.eval_fraction",
               "must be in (0, 1)");
}

void TextTrainConfig::validateD2po() const {
  requireInput(task == "sentiment", "task",
               "trainer: d2po needs task: sentiment (its raters give the gold labels and its prompts are "
               "sampled)");
  const auto &info = objectiveInfo(lossType, Modality::Text);
  requireInput(info.kind == ObjectiveKind::Pairwise, "loss_type",
               "is '" + lossType + "': trainer: d2po trains the policy on pairs (dpo, ipo, ...)");
  requireInput(maxSteps > 0, "max_steps", "must be > 0 with trainer: d2po (the number of rounds)");
  requireInput(gradientAccumulationSteps == 1, "gradient_accumulation_steps",
               "must be 1 with trainer: d2po (a round's pairs are one batch)");
  const auto &d = d2po;
  requireInput(d.promptsPerRound >= 1, "d2po.prompts_per_round", "must be >= 1");
  checkFitsInMemory("d2po.prompts_per_round", d.promptsPerRound,
                    2.0 * double(d.promptsPerRound) * double(maxLength) *
                        double(model.vocabSize + 8 * model.nEmbd * model.nLayer) * 12.0);
  requireInput(d.goldBudget >= 0, "d2po.gold_budget", "must be >= 0");
  requireInput(d.goldPerRound >= 1, "d2po.gold_per_round", "must be >= 1");
  requireInput(d.goldSelection == "confidence" || d.goldSelection == "random", "d2po.gold_selection",
               "is '" + d.goldSelection + "', must be confidence or random");
  requireInput(d.goldLabeller == "raters" || d.goldLabeller == "person", "d2po.gold_labeller",
               "is '" + d.goldLabeller + "', must be raters or person");
  requireInput(d.initialGold >= 0 && d.initialGold <= d.goldBudget, "d2po.initial_gold",
               "is " + std::to_string(d.initialGold) + ", must be in 0..gold_budget (" +
                   std::to_string(d.goldBudget) + ")");
  requireInput(d.discriminatorLearningRate > 0, "d2po.discriminator_learning_rate", "must be > 0");
  requireInput(d.discriminatorEpochs >= 0, "d2po.discriminator_epochs", "must be >= 0");
  requireInput(d.discriminatorBatchSize >= 1, "d2po.discriminator_batch_size", "must be >= 1");
  requireInput(d.replayPairs >= 0, "d2po.replay_pairs", "must be >= 0");
  requireInput(d.silver || d.goldBudget > 0, "d2po.gold_budget",
               "is 0 with d2po.silver: false: the policy would have no pairs to train on");
}

void TextTrainConfig::validateMpo() const {
  requireInput(task == "sentiment", "task",
               "trainer: mpo needs task: sentiment (its reference is sampled and its evaluation scores both "
               "rewards)");
  const auto policies = splitList(mpo.policies);
  requireInput(policies.size() >= 2, "mpo.policies", "needs at least two policy folders to mix");
  if (!mpo.weights.empty()) {
    const auto weights = mpoWeights();
    requireInput(weights.size() == policies.size(), "mpo.weights",
                 "has " + std::to_string(weights.size()) + " weight(s) for " +
                     std::to_string(policies.size()) + " policies");
    double sum = 0;
    for (double w : weights) {
      requireInput(w >= 0, "mpo.weights", "must be >= 0");
      sum += w;
    }
    requireInput(std::abs(sum - 1.0) < 1e-6, "mpo.weights", "must sum to 1");
  } else {
    requireInput(maxSteps > 0, "max_steps", "must be > 0 with trainer: mpo (the mirror-descent iterations)");
  }
  requireInput(mpo.samplesPerPrompt >= 1, "mpo.samples_per_prompt", "must be >= 1");
  requireInput(mpo.promptsPerIteration >= 1, "mpo.prompts_per_iteration", "must be >= 1");
  requireInput(mpo.stepSize > 0, "mpo.step_size", "must be > 0");
}

void TextTrainConfig::validateWro() const {
  requireInput(task == "sentiment", "task",
               "trainer: wro needs task: sentiment (its prompts are sampled and its raters judge)");
  requireInput(maxSteps > 0, "max_steps", "must be > 0 with trainer: wro (the number of policy steps)");
  requireInput(gradientAccumulationSteps == 1, "gradient_accumulation_steps",
               "must be 1 with trainer: wro (a step's samples are one batch)");
  const auto &w = wro;
  requireInput(w.promptsPerStep >= 1, "wro.prompts_per_step", "must be >= 1");
  requireInput(w.samplesPerPrompt >= 2, "wro.samples_per_prompt",
               "must be >= 2 (each sample's baseline is the mean of the others')");
  checkFitsInMemory("wro.prompts_per_step", w.promptsPerStep,
                    double(w.promptsPerStep * w.samplesPerPrompt) * double(maxLength) *
                        double(model.vocabSize + 8 * model.nEmbd * model.nLayer) * 12.0);
  requireInput(w.competitors >= 1, "wro.competitors", "must be >= 1");
  requireInput(w.h == "identity" || w.h == "log" || w.h == "logit", "wro.h",
               "is '" + w.h + "', must be identity, log or logit");
  requireInput(w.judge == "oracle" || w.judge == "reward_model", "wro.judge",
               "is '" + w.judge + "', must be oracle or reward_model");
  requireInput(w.judge != "reward_model" || !w.rewardModel.empty(), "wro.reward_model",
               "is required with wro.judge: reward_model (a reward model folder or run folder)");
  requireInput(beta >= 0, "beta", "must be >= 0 with trainer: wro (the per-sequence KL penalty)");
  requireInput(sentiment.sampleTemperature > 0, "sentiment.sample_temperature",
               "must be > 0 with trainer: wro (greedy answers to one prompt are all the same: no "
               "leave-one-out advantage)");
}

std::vector<std::string> splitList(const std::string &commaSeparated) {
  std::vector<std::string> out;
  std::string item;
  for (char c : commaSeparated + ",") {
    if (c == ',') {
      const auto first = item.find_first_not_of(' '), last = item.find_last_not_of(' ');
      if (first != std::string::npos)
        out.push_back(item.substr(first, last - first + 1));
      item.clear();
    } else {
      item += c;
    }
  }
  return out;
}

std::vector<double> TextTrainConfig::mpoWeights() const {
  std::vector<double> out;
  for (const auto &w : splitList(mpo.weights)) {
    char *end = nullptr;
    const double v = std::strtod(w.c_str(), &end);
    if (end == w.c_str() || *end != '\0' || !std::isfinite(v))
      throw InputError({}, 0, "mpo.weights", "'" + w + "' is not a number");
    out.push_back(v);
  }
  return out;
}

ObjectiveParams TextTrainConfig::lossParams() const {
  // beta is this config's as written (a text run has no "0: the default").
  ObjectiveParams p = objectiveParamsFrom(objectiveInfo(lossType, Modality::Text), 0.0, objectiveParams);
  if (p.values.count("beta"))
    p.values["beta"] = beta;
  return p;
}

std::string TextTrainConfig::resolvedCacheDir() const {
  return cacheDir.empty() ? (std::filesystem::path(outputDir).parent_path() / ".cache").string() : cacheDir;
}

TextTrainConfig textTrainConfigFromYaml(const std::string &yamlText, const std::string &source) {
  TextTrainConfig config;
  config_table::fromYaml(fields(), config, yamlText, source);
  return config;
}

TextTrainConfig loadTextTrainConfig(const std::string &path) {
  return textTrainConfigFromYaml(config_table::readConfigText(path), path);
}

void applyOverride(TextTrainConfig &config, const std::string &assignment) {
  config_table::applyOverride(fields(), config, assignment);
}

std::string toYaml(const TextTrainConfig &config) {
  return config_table::toYaml(fields(), config,
                              "Resolved PrefLab training config (every key, defaults included)");
}

std::vector<std::string> textTrainConfigKeys() {
  return config_table::keys(fields());
}

std::vector<ConfigKeyHelp> textTrainConfigHelp() {
  return config_table::keyHelp(fields(), TextTrainConfig{});
}

} // namespace preflab::core
