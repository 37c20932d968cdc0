// Range checks both run configs (text and image) share: the optimizer's keys, and limits set by
// the machine (threads, the memory one micro-batch needs). Each failure is an InputError naming
// the key, the value and what is allowed.
#pragma once

#include <cstdint>
#include <string>

namespace preflab::core {

struct TextTrainConfig;

struct AdamWKeys {
  double learningRate, weightDecay, adamBeta1, adamBeta2, adamEpsilon, maxGradNorm;
  std::int64_t warmupSteps;
};
void checkAdamW(const AdamWKeys &keys);

// `threads` (0: all cores) must not exceed the cores this machine has.
void checkThreads(std::int64_t threads);

// The largest batch-like count accepted for `key` (a micro-batch, accumulation steps).
constexpr std::int64_t kMaxBatchCount = 1 << 16;
void checkCount(const char *key, std::int64_t value, std::int64_t low, std::int64_t high = kMaxBatchCount);

// `key` sets a micro-batch whose activations need about `bytes`; refuses it when that exceeds the
// machine's physical memory (instead of an allocation failure deep inside a step).
void checkFitsInMemory(const char *key, std::int64_t value, double bytes);

// Data parallel: `worldSize` processes split each batch of `batch` rows (key
// per_device_train_batch_size), which only leaves the loss unchanged when it is a mean of per-row
// terms (`meanOverRows`). InputError naming loss_type or per_device_train_batch_size otherwise.
void checkDataParallelSplit(const std::string &lossType, bool meanOverRows, std::int64_t batch,
                            int worldSize);
// D2PO splits each round's policy pairs: a pairwise objective that is a mean over pairs, and gold
// labels from the raters (a person answers one process). InputError naming the key.
void checkD2poSplit(const TextTrainConfig &config, bool meanOverRows, int worldSize);
// WRO shares each step's prompts: at least one per process (InputError naming wro.prompts_per_step).
void checkWroSplit(std::int64_t promptsPerStep, int worldSize);

} // namespace preflab::core
