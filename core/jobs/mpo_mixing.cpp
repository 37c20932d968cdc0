// executeMpoRun: sample the reference, score every policy's log-ratio, mirror descent on λ, save
// and evaluate the mixture.
#include "core/jobs/mpo_mixing.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/metrics/mixing_weights.h"
#include "core/runtime/device.h"
#include "core/tasks/sentiment_oracle.h"
#include "core/tasks/sentiment_task.h"
#include "core/text/mixture_lm.h"
#include "core/text/model_store.h"
#include "core/text/sampler.h"
#include "core/train/gold_selection.h"
#include "core/train/pair_scoring.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>

namespace fs = std::filesystem;

namespace preflab::core {

std::string policyFolder(const std::string &path) {
  if (fs::exists(fs::path(path) / "run_info.json") && fs::is_directory(fs::path(path) / "hf"))
    return (fs::path(path) / "hf").string();
  return path;
}

namespace {

std::string absolute(const std::string &path) {
  return fs::absolute(path).lexically_normal().string();
}

// One iteration's batch: `prompts` prompts of the pool (a seeded order per pass), m reference
// samples each, and ℓ_kj = log π_k(y_j) − log π_ref(y_j) for every policy k.
std::vector<LogRatios> iterationBatch(const TextTrainConfig &config, std::int64_t t,
                                      const std::vector<std::string> &pool, const Tokenizer &tokenizer,
                                      const CausalLm &reference, const std::vector<CausalLm> &policies) {
  const auto &mpo = config.mpo;
  SamplingOptions sampling;
  sampling.temperature = config.sentiment.sampleTemperature;
  sampling.maxNewTokens = std::min(config.sentiment.maxNewTokens, config.maxLength - config.maxPromptLength);
  std::vector<TokenIds> ids;
  std::vector<std::uint64_t> seeds;
  const auto picked = poolStream(pool.size(), std::size_t(t * mpo.promptsPerIteration),
                                 std::size_t(mpo.promptsPerIteration), config.seed, 0x3890);
  for (std::int64_t i = 0; i < mpo.promptsPerIteration; ++i) {
    for (std::int64_t j = 0; j < mpo.samplesPerPrompt; ++j) {
      ids.push_back(encodePrompt(tokenizer, pool[picked[std::size_t(i)]]));
      // Top bit clear: the evaluation's sampling seeds have it set.
      seeds.push_back(roundSeed(config.seed, std::uint64_t(t), std::uint64_t(i * mpo.samplesPerPrompt + j)) >>
                      1);
    }
  }
  const auto samples = generate(reference, ids, seeds, sampling, tokenizer.eosId());
  std::vector<TokenIds> responses;
  std::vector<const TokenIds *> ps, rs;
  for (const auto &s : samples) {
    responses.push_back(s);
    if (std::int64_t(s.size()) < sampling.maxNewTokens) // ended by itself: its EOS is part of y
      responses.back().push_back(tokenizer.eosId());
    if (responses.back().empty())
      responses.back().push_back(tokenizer.eosId());
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ps.push_back(&ids[i]);
    rs.push_back(&responses[i]);
  }
  ScoringOptions so{config.maxLength, config.maxPromptLength, config.perDeviceEvalBatchSize};
  so.temperature = sampling.temperature > 0 ? sampling.temperature : 1.0;
  const auto ref = scoreResponses(reference, ps, rs, so);
  std::vector<LogRatios> batch(
      std::size_t(mpo.promptsPerIteration),
      LogRatios(policies.size(), std::vector<double>(std::size_t(mpo.samplesPerPrompt))));
  for (std::size_t k = 0; k < policies.size(); ++k) {
    const auto lp = scoreResponses(policies[k], ps, rs, so);
    for (std::size_t r = 0; r < ids.size(); ++r) {
      const auto prompt = r / std::size_t(mpo.samplesPerPrompt), j = r % std::size_t(mpo.samplesPerPrompt);
      batch[prompt][k][j] = lp.sums[r] - ref.sums[r];
    }
  }
  return batch;
}

} // namespace

RunSummary executeMpoRun(const TextTrainConfig &config, const TrainerCallbacks &cb,
                         const std::atomic<bool> *cancel, RunFolder &folder, SentimentTask &task) {
  RunSummary summary;
  summary.runDir = folder.root();
  const auto started = std::chrono::steady_clock::now();
  std::shared_ptr<Tokenizer> tokenizer;
  auto reference = loadModelFolder(task.sftModelDir(), &tokenizer);
  const auto device = resolveDevice(config.device);
  reference->to(device);
  std::vector<std::string> dirs;
  std::vector<CausalLm> policies;
  for (const auto &p : splitList(config.mpo.policies)) {
    dirs.push_back(absolute(policyFolder(p)));
    policies.push_back(loadModelFolder(dirs.back()));
    if (policies.back()->vocabSize() != reference->vocabSize())
      throw InputError(dirs.back(), 0, "mpo.policies",
                       "has " + std::to_string(policies.back()->vocabSize()) + " token ids, the reference " +
                           std::to_string(reference->vocabSize()) +
                           ": policies must share the reference's tokenizer");
    policies.back()->to(device);
  }
  const auto K = policies.size();
  std::vector<double> lambda(K, 1.0 / double(K)), averaged(K, 0.0);
  std::string method = "fixed";
  std::int64_t done = 0;
  if (!config.mpo.weights.empty()) {
    averaged = config.mpoWeights();
  } else {
    method = "mpo";
    const auto T = config.maxSteps;
    const double eta = config.mpo.stepSize / std::sqrt(double(T));
    const auto pool = SentimentCorpus::prompts(config.sentiment.numPrompts, config.seed + 1,
                                               SentimentCorpus::PromptSet::Pairs); // never the evaluation's
    for (std::int64_t t = 0; t < T; ++t) {
      if (cancel && cancel->load())
        break;
      const auto batch = iterationBatch(config, t, pool, *tokenizer, reference, policies);
      const auto step = mirrorDescentStep(lambda, batch, eta);
      lambda = step.lambda;
      ++done;
      std::map<std::string, double> m = {{"mpo/objective", step.objective}, {"mpo/eta", eta}};
      for (std::size_t k = 0; k < K; ++k) {
        averaged[k] += lambda[k];
        m["mpo/lambda_" + std::to_string(k + 1)] = lambda[k];
        m["mpo/lambda_avg_" + std::to_string(k + 1)] = averaged[k] / double(done);
        m["mpo/gradient_" + std::to_string(k + 1)] = step.gradient[k];
      }
      folder.appendMetrics(done, m);
      if (done % std::max<std::int64_t>(1, config.loggingSteps) == 0 || done == T)
        folder.writeStatus(RunState::Running, "mixing", done, T);
      if (cb.onLog) {
        StepRecord r;
        r.step = done;
        r.maxSteps = T;
        r.elapsedSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        r.metrics = m;
        cb.onLog(r);
      }
    }
    for (auto &a : averaged)
      a /= double(std::max<std::int64_t>(1, done));
  }
  summary.steps = done;
  summary.maxSteps = config.mpo.weights.empty() ? config.maxSteps : 0;
  if (cancel && cancel->load()) {
    summary.state = RunState::Cancelled;
    summary.message = "cancelled after " + std::to_string(done) + " iterations";
    return summary;
  }
  // The mixture folder: components by absolute path (it may be opened from anywhere).
  const nlohmann::json mixture = {{"method", method},
                                  {"components", dirs},
                                  {"weights", averaged},
                                  {"weights_last_iterate", lambda},
                                  {"reference", absolute(task.sftModelDir())},
                                  {"iterations", done},
                                  {"samples_per_prompt", config.mpo.samplesPerPrompt},
                                  {"prompts_per_iteration", config.mpo.promptsPerIteration},
                                  {"step_size", config.mpo.stepSize}};
  fs::create_directories(folder.path("mixture"));
  writeFileAtomic(folder.path(std::string("mixture/") + kMixtureFile), mixture.dump(2) + "\n");
  const nlohmann::json info = {{"task", config.task},
                               {"trainer", config.trainer},
                               {"reference_model", absolute(task.sftModelDir())},
                               {"policy_final", absolute(folder.path("mixture"))},
                               {"components", dirs}};
  writeFileAtomic(folder.path("run_info.json"), info.dump(2) + "\n");
  if (cb.onMessage) {
    std::string weights;
    for (std::size_t k = 0; k < K; ++k)
      weights += (k ? ", " : "") + std::to_string(averaged[k]);
    cb.onMessage("mixture weights (" + method + "): " + weights);
  }
  // The policies are loaded already: the mixture that mixture.json describes, without reading them again.
  CausalLm mix = std::make_shared<MixtureLmImpl>(policies, averaged);
  folder.writeStatus(RunState::Running, "evaluating", done, summary.maxSteps);
  summary.evalSummary = task.evaluate(mix, folder);
  summary.evalSummary["mpo/weights"] = averaged;
  summary.evalSummary["mpo/method"] = method;
  summary.evalSummary["mpo/mixing_seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  writeFileAtomic(folder.path("eval/summary.json"), summary.evalSummary.dump(2) + "\n");
  summary.state = RunState::Finished;
  summary.message =
      method == "mpo" ? "mixed " + std::to_string(K) + " policies in " + std::to_string(done) + " iterations"
                      : "mixed " + std::to_string(K) + " policies with fixed weights";
  return summary;
}

} // namespace preflab::core
