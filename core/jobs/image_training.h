// The torch-free entry point of a text-to-image preference run (task: text-to-image).
#pragma once

#include "core/jobs/text_training.h"
#include "core/train/image_train_config.h"

#include <atomic>

namespace preflab::core {

// Runs one text-to-image job end to end in a run folder laid out like a text run: config.yaml,
// run_info.json, metrics.jsonl (loss, implicit_acc, mse/model_w, mse/model_l, mse/ref_w,
// mse/ref_l, the objective's extras, learning_rate, grad_norm; eval/* at each evaluation),
// status.json, checkpoints/step-N/ (save_steps), model/ (the final policy), samples/ (PNG grids:
// reference left, tuned right, same prompts and seeds) and eval/ (summary.json, samples.jsonl).
//
// Held-out evaluation: every class, phrased in the prompt templates that pair generation leaves out
// ("a product photo of a sneaker", "a catalogue picture of a sneaker", alternating), with
// eval_seeds_per_class fixed seeds, is sampled from
// the reference (once) and from the policy with the same noise; the oracle scores both; win rate
// = share of (prompt, seed) where the policy's reward is higher (ties half), with a 95% interval.
// Implicit accuracy: on the held-out pairs, the share whose Diffusion-DPO logit is > 0, averaged
// over eval_timesteps fixed timesteps with fixed noise per pair.
//
// Runs on the one TrainLoop: checkpoints/step-N/ hold the policy (a loadable model folder), the
// optimizer, both RNG states and the data position, so options.resume continues exactly where
// the newest checkpoint left off. Never throws: bad input ends in a Failed summary naming the
// file/line/key; a non-finite loss or gradient fails the run naming the step, before the update.
// cancel/pause as for runTextTraining.
RunSummary runImageTraining(const ImageTrainConfig &config, const RunOptions &options,
                            const TrainerCallbacks &callbacks, const std::atomic<bool> *cancel = nullptr,
                            const std::atomic<bool> *pause = nullptr);

} // namespace preflab::core
