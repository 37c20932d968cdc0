// Times one DPO training step (forward, log-probs, loss, backward, clip, AdamW) in PrefLab's core.
#include "core/objectives/objective.h"
#include "core/text/gpt.h"
#include "core/text/sequence_batch.h"
#include "core/train/compute_threads.h"

#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdint>
#include <iostream>
#include <random>
#include <vector>

namespace core = preflab::core;

namespace {

struct BenchArgs {
  std::int64_t layers = 4, heads = 4, d = 128, block = 128, pairs = 8, vocab = 257;
  int threads = 2, steps = 20, warmup = 3;
  bool cachedRef = false;
};

// 2·pairs rows of `block` random ids: chosen rows first, then rejected, as the trainer orders
// them. Each row is a shared prompt (first quarter) followed by its own response.
core::SequenceBatch makeBatch(const BenchArgs &a) {
  std::mt19937_64 rng(1234);
  std::uniform_int_distribution<std::int64_t> token(0, a.vocab - 1);
  auto draw = [&](std::int64_t n) {
    core::TokenIds ids(static_cast<std::size_t>(n));
    for (auto &id : ids)
      id = token(rng);
    return ids;
  };
  const std::int64_t promptLen = a.block / 4;
  std::vector<core::TokenIds> prompts, chosen, rejected;
  for (std::int64_t i = 0; i < a.pairs; ++i) {
    prompts.push_back(draw(promptLen));
    chosen.push_back(draw(a.block - promptLen));
    rejected.push_back(draw(a.block - promptLen));
  }
  std::vector<core::TokenIds> allPrompts(prompts), responses(chosen);
  allPrompts.insert(allPrompts.end(), prompts.begin(), prompts.end());
  responses.insert(responses.end(), rejected.begin(), rejected.end());
  return core::buildSequenceBatch(allPrompts, responses, a.block, a.block, 0, torch::kCPU);
}

// CPU seconds of the whole process (all threads): unlike wall time, it does not grow while other
// processes on a shared machine hold the cores.
double processCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

} // namespace

int main(int argc, char **argv) {
  BenchArgs a;
  CLI::App app{"One DPO training step of PrefLab's GPT, timed"};
  app.add_option("--layers", a.layers, "transformer blocks");
  app.add_option("--heads", a.heads, "attention heads");
  app.add_option("--d", a.d, "embedding width");
  app.add_option("--block", a.block, "tokens per row (prompt = first quarter)");
  app.add_option("--pairs", a.pairs, "preference pairs per step (2 rows each)");
  app.add_option("--vocab", a.vocab, "vocabulary size");
  app.add_option("--threads", a.threads, "intra-op threads (OpenBLAS is set to 1)");
  app.add_option("--steps", a.steps, "timed steps")->check(CLI::PositiveNumber);
  app.add_option("--warmup", a.warmup, "untimed steps before timing");
  app.add_flag("--cached-ref", a.cachedRef, "reference log-probs precomputed once (no reference forward)");
  CLI11_PARSE(app, argc, argv);

  core::setComputeThreads(a.threads);
  torch::manual_seed(0);
  core::GptConfig config;
  config.nLayer = a.layers;
  config.nHead = a.heads;
  config.nEmbd = a.d;
  config.blockSize = a.block;
  config.vocabSize = a.vocab;
  core::Gpt policy(config);
  policy->train();
  core::Gpt reference = core::cloneGpt(policy);
  reference->eval();
  const auto batch = makeBatch(a);
  const std::int64_t P = a.pairs;

  torch::Tensor cachedChosen, cachedRejected;
  if (a.cachedRef) { // what the trainer reads from the reference-logp cache
    torch::NoGradGuard noGrad;
    auto ref = core::sequenceLogps(reference, batch).sum;
    cachedChosen = ref.narrow(0, 0, P).clone();
    cachedRejected = ref.narrow(0, P, P).clone();
  }

  const auto &dpo = core::objectiveFunction("dpo");
  core::ObjectiveParams params;
  params.beta = 0.1;
  torch::optim::AdamW optimizer(policy->parameters(), torch::optim::AdamWOptions(1e-4));

  double lastLoss = 0.0;
  auto step = [&] {
    optimizer.zero_grad();
    auto lp = core::sequenceLogps(policy, batch);
    core::ObjectiveInputs in;
    in.policyChosen = lp.sum.narrow(0, 0, P);
    in.policyRejected = lp.sum.narrow(0, P, P);
    in.policyChosenMean = lp.mean.narrow(0, 0, P);
    in.policyRejectedMean = lp.mean.narrow(0, P, P);
    in.lenChosen = batch.lengths.narrow(0, 0, P);
    in.lenRejected = batch.lengths.narrow(0, P, P);
    if (a.cachedRef) {
      in.refChosen = cachedChosen;
      in.refRejected = cachedRejected;
    } else {
      torch::NoGradGuard noGrad;
      auto ref = core::sequenceLogps(reference, batch).sum;
      in.refChosen = ref.narrow(0, 0, P);
      in.refRejected = ref.narrow(0, P, P);
    }
    auto out = dpo(in, params);
    out.loss.backward();
    torch::nn::utils::clip_grad_norm_(policy->parameters(), 1.0);
    optimizer.step();
    lastLoss = out.loss.item<double>(); // the trainer's one sync per step (NaN guard)
  };

  for (int i = 0; i < a.warmup; ++i)
    step();
  std::vector<double> seconds, cpuSeconds;
  for (int i = 0; i < a.steps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = processCpuSeconds();
    step();
    cpuSeconds.push_back(processCpuSeconds() - c0);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }

  const double s = median(seconds);
  const double tokens = double(2 * a.pairs * a.block);
  const nlohmann::json result = {
      {"impl", "cpp"}, {"tokens_per_s", tokens / s}, {"steps_per_s", 1.0 / s},
      {"ms_per_step", 1e3 * s}, {"timing", "median"},
      {"ms_min_step", 1e3 * *std::min_element(seconds.begin(), seconds.end())},
      {"cpu_ms_per_step", 1e3 * median(cpuSeconds)}, {"loss", lastLoss},
      {"layers", a.layers}, {"heads", a.heads}, {"d", a.d}, {"block", a.block},
      {"pairs", a.pairs}, {"vocab", a.vocab}, {"threads", a.threads}, {"steps", a.steps},
      {"warmup", a.warmup}, {"cached_ref", a.cachedRef}};
  std::cout << result.dump() << std::endl;
  return 0;
}
