// Shared config range checks; see config_checks.h.
#include "core/train/config_checks.h"

#include "core/io/input_error.h"
#include "core/runtime/machine_memory.h"
#include "core/train/text_train_config.h"

#include <cmath>
#include <sstream>
#include <thread>

namespace preflab::core {

namespace {

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

} // namespace

void checkAdamW(const AdamWKeys &k) {
  requireInput(k.learningRate > 0, "learning_rate", "is " + number(k.learningRate) + ", must be > 0");
  requireInput(k.weightDecay >= 0, "weight_decay", "is " + number(k.weightDecay) + ", must be >= 0");
  requireInput(k.adamBeta1 >= 0 && k.adamBeta1 < 1, "adam_beta1",
               "is " + number(k.adamBeta1) + ", must be in [0, 1)");
  requireInput(k.adamBeta2 >= 0 && k.adamBeta2 < 1, "adam_beta2",
               "is " + number(k.adamBeta2) + ", must be in [0, 1)");
  requireInput(k.adamEpsilon > 0, "adam_epsilon", "is " + number(k.adamEpsilon) + ", must be > 0");
  requireInput(k.maxGradNorm >= 0, "max_grad_norm",
               "is " + number(k.maxGradNorm) + ", must be >= 0 (0: no clipping)");
  requireInput(k.warmupSteps >= 0, "warmup_steps", "is " + std::to_string(k.warmupSteps) + ", must be >= 0");
}

void checkThreads(std::int64_t threads) {
  const auto cores = std::int64_t(std::thread::hardware_concurrency());
  requireInput(threads >= 0, "threads", "is " + std::to_string(threads) + ", must be >= 0 (0: all cores)");
  requireInput(cores <= 0 || threads <= cores, "threads",
               "is " + std::to_string(threads) + ", this machine has " + std::to_string(cores) +
                   " cores (0: all of them)");
}

void checkDataParallelSplit(const std::string &lossType, bool meanOverRows, std::int64_t batch,
                            int worldSize) {
  requireInput(
      meanOverRows, "loss_type",
      "'" + lossType +
          "' does not train data parallel: its loss is not a mean of per-row terms (a batch statistic "
          "such as KTO's KL estimate would change with the split)");
  requireInput(batch >= worldSize, "per_device_train_batch_size",
               "is " + std::to_string(batch) + ", fewer rows than the " + std::to_string(worldSize) +
                   " processes that split each batch");
}

void checkD2poSplit(const TextTrainConfig &config, bool meanOverRows, int worldSize) {
  requireInput(config.d2po.goldLabeller != "person", "d2po.gold_labeller",
               "is person: one person answers one process; train data parallel with the raters, or "
               "start the run without a launcher");
  // Only the loss's form: a round may have fewer pairs than ranks (an empty share has weight 0).
  checkDataParallelSplit(config.lossType, meanOverRows, worldSize, worldSize);
}

void checkWroSplit(std::int64_t promptsPerStep, int worldSize) {
  requireInput(promptsPerStep >= worldSize, "wro.prompts_per_step",
               "is " + std::to_string(promptsPerStep) + ", fewer prompts than the " +
                   std::to_string(worldSize) + " processes that share each step");
}

void checkCount(const char *key, std::int64_t value, std::int64_t low, std::int64_t high) {
  requireInput(value >= low && value <= high, key,
               "is " + std::to_string(value) + ", must be in " + std::to_string(low) + ".." +
                   std::to_string(high));
}

void checkFitsInMemory(const char *key, std::int64_t value, double bytes) {
  const double memory = physicalMemoryBytes();
  requireInput(memory <= 0 || bytes <= memory, key,
               "is " + std::to_string(value) + ": one micro-batch would need about " +
                   number(std::round(bytes / double(1 << 30))) + " GiB, this machine has " +
                   number(std::round(memory / double(1 << 30))) + " GiB");
}

} // namespace preflab::core
