// Times one DPO training step (forward, log-probs, loss, backward, clip, AdamW) in PrefLab's core.
#include "core/jobs/text_training.h"
#include "core/objectives/objective.h"
#include "core/runtime/autocast.h"
#include "core/runtime/compute_threads.h"
#include "core/runtime/device.h"
#include "core/runtime/launch_env.h"
#include "core/text/gpt.h"
#include "core/text/llama.h"
#include "core/text/lora.h"
#include "core/text/sequence_batch.h"
#include "core/train/batch_shards.h"
#include "core/train/data_parallel.h"

#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <iostream>
#include <map>
#include <random>
#include <vector>

#include <sys/resource.h>

namespace core = preflab::core;

namespace {

struct BenchArgs {
  std::int64_t lora = 0;
  std::string arch = "gpt2"; // or "llama": RMSNorm, rotary, grouped-query attention, SwiGLU, tied
  std::int64_t layers = 4, heads = 4, d = 128, block = 128, pairs = 8, vocab = 257;
  std::int64_t kvHeads = 0, mlp = 0, promptLen = -1; // llama: 0 = heads, 4·d; prompt: block / 4
  int threads = 2, steps = 20, warmup = 3;
  int shards = -1; // -1: as the trainer does, one shard per thread
  bool cachedRef = false;
  std::string device = "cpu"; // or cuda (cuda:N)
  bool bf16 = false;          // CUDA autocast to bfloat16 around the forwards, as the trainer's bf16 key
};

// 2·pairs rows of `block` random ids: chosen rows first, then rejected, as the trainer orders
// them. Each row is a shared prompt (first quarter) followed by its own response.
struct PairTokens {
  std::vector<core::TokenIds> prompts, chosen, rejected;
};

PairTokens makePairs(const BenchArgs &a) {
  std::mt19937_64 rng(1234);
  std::uniform_int_distribution<std::int64_t> token(0, a.vocab - 1);
  auto draw = [&](std::int64_t n) {
    core::TokenIds ids(static_cast<std::size_t>(n));
    for (auto &id : ids)
      id = token(rng);
    return ids;
  };
  const std::int64_t promptLen = a.promptLen >= 0 ? a.promptLen : a.block / 4;
  PairTokens t;
  for (std::int64_t i = 0; i < a.pairs; ++i) {
    t.prompts.push_back(draw(promptLen));
    t.chosen.push_back(draw(a.block - promptLen));
    t.rejected.push_back(draw(a.block - promptLen));
  }
  return t;
}

// Rows of pairs [begin, end): chosen rows first, then rejected ones.
core::SequenceBatch makeBatch(const PairTokens &t, std::size_t begin, std::size_t end, std::int64_t block,
                              const torch::Device &device) {
  std::vector<core::TokenIds> prompts(t.prompts.begin() + std::ptrdiff_t(begin),
                                      t.prompts.begin() + std::ptrdiff_t(end));
  std::vector<core::TokenIds> responses(t.chosen.begin() + std::ptrdiff_t(begin),
                                        t.chosen.begin() + std::ptrdiff_t(end));
  prompts.insert(prompts.end(), t.prompts.begin() + std::ptrdiff_t(begin),
                 t.prompts.begin() + std::ptrdiff_t(end));
  responses.insert(responses.end(), t.rejected.begin() + std::ptrdiff_t(begin),
                   t.rejected.begin() + std::ptrdiff_t(end));
  return core::buildSequenceBatch(prompts, responses, block, block, 0, device);
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
  app.add_option("--shards", a.shards,
                 "data-parallel shards of the batch, one thread each (default: --threads, as the trainer)");
  app.add_flag("--cached-ref", a.cachedRef, "reference log-probs precomputed once (no reference forward)");
  app.add_option("--arch", a.arch, "gpt2 or llama")->check(CLI::IsMember({"gpt2", "llama"}));
  app.add_option("--kv-heads", a.kvHeads, "llama: key/value heads (default: --heads)");
  app.add_option("--mlp", a.mlp, "llama: MLP width (default: 4 * --d)");
  app.add_option("--prompt-len", a.promptLen, "prompt tokens of each row (default: a quarter of --block)");
  app.add_option("--lora", a.lora, "llama: LoRA rank on q_proj and v_proj (alpha 2r); 0: full fine-tuning");
  app.add_option("--device", a.device, "cpu or cuda");
  app.add_flag("--bf16", a.bf16,
               "CUDA: bfloat16 autocast around the forwards (weights and optimizer in float32)");
  CLI11_PARSE(app, argc, argv);

  core::setComputeThreads(a.threads);
  // Started as a rank of a data-parallel group (RANK, WORLD_SIZE, ...: see README): this process
  // takes its contiguous share of the pairs and the loss and gradients are summed over the group
  // before the update, as the trainer does.
  const auto launch = core::launchEnvFromEnvironment();
  const auto group = launch.distributed() ? core::joinDataParallelGroup(launch) : nullptr;
  torch::manual_seed(0);
  core::CausalLm policy;
  if (a.arch == "llama") {
    core::LlamaConfig config;
    config.nLayer = a.layers;
    config.nHead = a.heads;
    config.nKvHead = a.kvHeads > 0 ? a.kvHeads : a.heads;
    config.hiddenSize = a.d;
    config.headDim = a.d / a.heads;
    config.intermediateSize = a.mlp > 0 ? a.mlp : 4 * a.d;
    config.maxPositions = a.block;
    config.vocabSize = a.vocab;
    config.rmsNormEps = 1e-5;
    config.tieEmbeddings = true;
    policy = core::makeLlama(config);
  } else {
    core::GptConfig config;
    config.nLayer = a.layers;
    config.nHead = a.heads;
    config.nEmbd = a.d;
    config.blockSize = a.block;
    config.vocabSize = a.vocab;
    policy = core::makeGpt(config);
  }
  policy->train();
  const auto device = core::resolveDevice(a.device);
  policy->to(device);
  core::CausalLm reference{nullptr};
  if (a.lora > 0) { // as a use_peft run: frozen base, the reference is the policy with the adapters off
    core::LoraSettings lora;
    lora.rank = a.lora;
    lora.alpha = 2.0 * double(a.lora);
    lora.dropout = 0.0;
    lora.targetModules = {"q_proj", "v_proj"};
    core::attachLora(*policy, lora, 0);
    policy->to(device);
    reference = core::adaptersOffView(policy);
  } else {
    reference = policy->clone();
    reference->eval();
  }
  std::vector<torch::Tensor> trainable;
  for (auto &p : policy->parameters())
    if (p.requires_grad())
      trainable.push_back(p);
  // As PreferenceTrainer on CPU: the pairs split into one contiguous shard per thread.
  const auto pairs = makePairs(a);
  const auto ranks = core::shardBounds(std::size_t(a.pairs), launch.worldSize);
  const auto first = ranks[std::size_t(launch.rank)], local = ranks[std::size_t(launch.rank) + 1] - first;
  auto bounds = core::shardBounds(local, device.is_cuda() ? 1 : a.shards < 0 ? a.threads : a.shards);
  for (auto &b : bounds)
    b += first; // pair indices of this rank's shards
  const int shards = int(bounds.size()) - 1;
  std::vector<core::SequenceBatch> batches;
  for (int s = 0; s < shards; ++s)
    batches.push_back(makeBatch(pairs, bounds[s], bounds[s + 1], a.block, device));

  std::vector<torch::Tensor> cachedChosen(shards), cachedRejected(shards);
  if (a.cachedRef) { // what the trainer reads from the reference-logp cache
    torch::NoGradGuard noGrad;
    const core::CudaAutocastGuard autocast(device, a.bf16);
    for (int s = 0; s < shards; ++s) {
      const auto P = std::int64_t(bounds[s + 1] - bounds[s]);
      auto ref = core::sequenceLogps(reference, batches[s]).sum;
      cachedChosen[s] = ref.narrow(0, 0, P).clone();
      cachedRejected[s] = ref.narrow(0, P, P).clone();
    }
  }

  const auto &dpo = core::objectiveFunction("dpo");
  core::ObjectiveParams params = core::defaultObjectiveParams(core::objectiveInfo("dpo"));
  params.set("beta", 0.1);
  torch::optim::AdamW optimizer(trainable, torch::optim::AdamWOptions(1e-4));
  auto weights = trainable;

  double lastLoss = 0.0;
  // The loss of pairs [bounds[s], bounds[s+1]), weighted by their share of the batch.
  auto shardLoss = [&](int s) {
    const core::CudaAutocastGuard autocast(device, a.bf16); // the forwards only: ends before backward
    const auto &batch = batches[s];
    const auto P = std::int64_t(bounds[s + 1] - bounds[s]);
    auto lp = core::sequenceLogps(policy, batch);
    core::ObjectiveInputs in;
    in.policyChosen = lp.sum.narrow(0, 0, P);
    in.policyRejected = lp.sum.narrow(0, P, P);
    in.policyChosenMean = lp.mean.narrow(0, 0, P);
    in.policyRejectedMean = lp.mean.narrow(0, P, P);
    in.lenChosen = batch.lengths.narrow(0, 0, P);
    in.lenRejected = batch.lengths.narrow(0, P, P);
    if (a.cachedRef) {
      in.refChosen = cachedChosen[s];
      in.refRejected = cachedRejected[s];
    } else {
      torch::NoGradGuard noGrad;
      auto ref = core::sequenceLogps(reference, batch).sum;
      in.refChosen = ref.narrow(0, 0, P);
      in.refRejected = ref.narrow(0, P, P);
    }
    return dpo(in, params).loss * (double(P) / double(a.pairs));
  };
  std::vector<torch::Tensor> losses(shards);
  std::vector<std::vector<torch::Tensor>> grads(shards);
  auto step = [&] {
    optimizer.zero_grad();
    // As in the trainer, whose batch outputs live for one micro-batch: the last step's losses go
    // before this forward. Kept, their graph held 70 MB per layer of a 576-wide Llama through it.
    std::fill(losses.begin(), losses.end(), torch::Tensor());
    if (shards == 1) {
      losses[0] = shardLoss(0);
      losses[0].backward();
    } else {
      core::runShards(shards, [&](int s) {
        losses[s] = shardLoss(s);
        grads[s] = core::shardGradients(losses[s], weights);
      });
      core::addShardGradients(weights, grads);
    }
    torch::Tensor loss = losses[0].detach();
    for (int s = 1; s < shards; ++s)
      loss = loss + losses[s].detach();
    if (group) { // the trainer's sum of gradients and metrics over the ranks
      std::map<std::string, torch::Tensor> metrics{{"loss", loss}};
      core::sumStepAcrossRanks(*group, trainable, metrics);
      loss = metrics.at("loss");
    }
    torch::nn::utils::clip_grad_norm_(trainable, 1.0);
    optimizer.step();
    lastLoss = loss.item<double>(); // the trainer's one sync per step (NaN guard)
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
  // Model FLOPs of one step (PaLM's count): per token 6N + 12·L·d·T for the policy's forward and
  // backward, 2N + 4·L·d·T for the reference's forward; N all weights (the head's product included).
  double n = 0;
  for (const auto &p : policy->parameters())
    n += double(p.numel());
  const double attention = 12.0 * double(a.layers) * double(a.d) * double(a.block);
  const double flopsPerStep = tokens * ((6 * n + attention) + (a.cachedRef ? 0.0 : (2 * n + attention / 3)));
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const nlohmann::json result = {{"impl", "cpp"},
                                 {"device", device.str()},
                                 {"bf16", a.bf16},
                                 {"params", n},
                                 {"model_flops_per_s", flopsPerStep / s},
                                 {"arch", a.arch},
                                 {"peak_rss_mb", double(usage.ru_maxrss) / 1024.0},
                                 {"tokens_per_s", tokens / s},
                                 {"steps_per_s", 1.0 / s},
                                 {"ms_per_step", 1e3 * s},
                                 {"timing", "median"},
                                 {"ms_min_step", 1e3 * *std::min_element(seconds.begin(), seconds.end())},
                                 {"cpu_ms_per_step", 1e3 * median(cpuSeconds)},
                                 {"loss", lastLoss},
                                 {"layers", a.layers},
                                 {"heads", a.heads},
                                 {"d", a.d},
                                 {"block", a.block},
                                 {"pairs", a.pairs},
                                 {"vocab", a.vocab},
                                 {"threads", a.threads},
                                 {"shards", shards},
                                 {"processes", launch.worldSize},
                                 {"steps", a.steps},
                                 {"warmup", a.warmup},
                                 {"cached_ref", a.cachedRef},
                                 {"lora", a.lora}};
  if (launch.rank == 0) // every rank times the same steps of the group
    std::cout << result.dump() << std::endl;
  return 0;
}
