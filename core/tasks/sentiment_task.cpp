// Sentiment steering: SFT on the built-in reviews, oracle-labelled pairs, reward/KL/win-rate eval.
#include "core/tasks/sentiment_task.h"

#include "core/tasks/raters.h"

#include "core/io/atomic_file.h"
#include "core/io/content_hash.h"
#include "core/objectives/objective_info.h"
#include "core/tasks/sentiment_oracle.h"
#include "core/text/gpt.h"
#include "core/text/model_store.h"
#include "core/text/sampler.h"
#include "core/text/sequence_batch.h"
#include "core/train/pair_scoring.h"
#include "core/train/preference_trainer.h"
#include "core/train/rloo.h"
#include "core/train/tokenized_data.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

std::string hashText(const std::string &text) {
  return hexDigest(fnv1a(kFnvOffset, text.data(), text.size()));
}

// The settings the cached stages depend on, as text (changing any of them makes a new key).
std::string stageSettings(const TextTrainConfig &c) {
  const auto &s = c.sentiment;
  nlohmann::json j = {{"v", 1},
                      {"model", toJson(c.model)},
                      {"seed", c.seed},
                      {"corpus", s.corpusSize},
                      {"sft_steps", s.sftSteps},
                      {"sft_lr", s.sftLearningRate},
                      {"sft_bs", s.sftBatchSize},
                      {"prompts", s.numPrompts},
                      {"raters", s.raters},
                      {"rater_t", s.raterTemperature},
                      {"eval_fraction", s.evalFraction},
                      {"temperature", s.sampleTemperature},
                      {"max_new", s.maxNewTokens},
                      {"max_length", c.maxLength},
                      {"max_prompt_length", c.maxPromptLength}};
  if (s.reward != "sentiment") // the default keeps the keys of caches made before this setting
    j["reward"] = s.reward;
  return j.dump();
}

} // namespace

SentimentTask::SentimentTask(const TextTrainConfig &config, const TrainerCallbacks &callbacks,
                             torch::Device device)
    : m_config(config), m_callbacks(callbacks), m_device(device) {
  const auto cache = config.resolvedCacheDir();
  m_dir = cache + "/sentiment-" + hashText(stageSettings(config));
  fs::create_directories(m_dir);
}

void SentimentTask::report(const std::string &stage, double fraction) const {
  if (m_callbacks.onProgress)
    m_callbacks.onProgress(stage, fraction);
}

bool SentimentTask::prepare(const std::atomic<bool> *cancel) {
  if (!fs::exists(sftModelDir() + "/model.pt")) {
    runSft(cancel);
    if (cancel && cancel->load())
      return false;
  } else if (m_callbacks.onMessage) {
    m_callbacks.onMessage("reusing cached SFT model " + sftModelDir());
  }
  if (!fs::exists(trainPairsPath()) || !fs::exists(evalPairsPath()))
    makePairs();
  else if (m_callbacks.onMessage)
    m_callbacks.onMessage("reusing cached pairs " + trainPairsPath());
  return !(cancel && cancel->load());
}

void SentimentTask::runSft(const std::atomic<bool> *cancel) {
  const auto &s = m_config.sentiment;
  TextPreferenceData corpus;
  corpus.format = TextFormat::TrlStandard;
  std::int64_t line = 0;
  for (const auto &[prompt, text] : SentimentCorpus::reviews(s.corpusSize, m_config.seed)) {
    TextPair p;
    p.id = std::to_string(++line);
    p.prompt = prompt;
    p.chosen = text;
    p.rejected = " ";
    corpus.pairs.push_back(p);
  }
  TextTrainConfig sft = m_config;
  sft.lossType = "sft";
  sft.learningRate = s.sftLearningRate;
  sft.perDeviceTrainBatchSize = s.sftBatchSize;
  sft.gradientAccumulationSteps = 1;
  sft.maxSteps = s.sftSteps;
  sft.lrSchedulerType = "cosine";
  sft.warmupRatio = 0.05;
  sft.warmupSteps = 0;
  sft.weightDecay = 0.0;
  sft.loggingSteps = 10;
  sft.evalSteps = 0;
  sft.saveSteps = 0;
  torch::manual_seed(m_config.seed);
  CausalLm model = makeGpt(m_config.model); // the task's built-in model
  RunFolder folder(m_dir + "/sft-run");
  folder.writeConfig(toYaml(sft));
  PreferenceTrainer trainer(sft, model, tokenizeData(corpus, m_tokenizer, false), {}, folder, m_device);
  TrainerCallbacks cb;
  cb.onLog = [this](const StepRecord &r) { report("sft", double(r.step) / double(r.maxSteps)); };
  trainer.setCallbacks(cb);
  trainer.setCancelFlag(cancel);
  const auto outcome = trainer.run();
  folder.writeStatus(outcome.state, outcome.message, outcome.step, trainer.totalSteps());
  if (outcome.state == RunState::Failed)
    throw std::runtime_error("SFT stage failed: " + outcome.message);
  if (outcome.state == RunState::Finished)
    saveNativeModel(model, m_tokenizer, sftModelDir());
}

void SentimentTask::makePairs() {
  const auto &s = m_config.sentiment;
  auto model = loadModelFolder(sftModelDir());
  model->to(m_device);
  const auto prompts = SentimentCorpus::prompts(s.numPrompts, m_config.seed + 1, SentimentCorpus::PromptSet::Pairs);
  std::vector<TokenIds> ids;
  std::vector<std::uint64_t> seeds;
  for (std::size_t i = 0; i < prompts.size(); ++i)
    for (int k = 0; k < 2; ++k) {
      ids.push_back(m_tokenizer.encode(prompts[i]));
      seeds.push_back(SentimentCorpus::pairSampleSeed(m_config.seed, 2 * i + std::uint64_t(k)));
    }
  SamplingOptions opts;
  opts.temperature = s.sampleTemperature;
  opts.maxNewTokens = std::min(s.maxNewTokens, m_config.maxLength - m_config.maxPromptLength);
  std::vector<TokenIds> samples;
  const std::size_t chunk = 256; // progress granularity
  for (std::size_t start = 0; start < ids.size(); start += chunk) {
    const auto end = std::min(ids.size(), start + chunk);
    auto part = generate(model, {ids.begin() + long(start), ids.begin() + long(end)},
                         {seeds.begin() + long(start), seeds.begin() + long(end)}, opts, m_tokenizer.eosId());
    samples.insert(samples.end(), part.begin(), part.end());
    report("sampling pairs", double(end) / double(ids.size()));
  }
  // What the raters judge: one oracle's score, or for maxmin the lower of the two scores, each
  // standardised over every sampled completion (so neither scale dominates the minimum).
  const auto reward = taskRewardNamed(s.reward);
  std::vector<std::string> texts;
  for (const auto &sample : samples)
    texts.push_back(m_tokenizer.decode(sample));
  auto standardiser = [&](double (*score)(const std::string &)) {
    double sum = 0, sq = 0;
    for (const auto &t : texts) {
      sum += score(t);
      sq += score(t) * score(t);
    }
    const double n = double(std::max<std::size_t>(1, texts.size())), mean = sum / n;
    const double sd = std::sqrt(std::max(1e-12, sq / n - mean * mean));
    return std::make_pair(mean, sd);
  };
  auto lexicon = [](const std::string &t) { return double(SentimentOracle::score(t)); };
  const auto zs = standardiser(lexicon), zc = standardiser(&ConcisenessOracle::score);
  auto judged = [&](const std::string &t) {
    switch (reward) {
    case TaskReward::Sentiment:
      return lexicon(t);
    case TaskReward::Conciseness:
      return ConcisenessOracle::score(t);
    case TaskReward::MaxMin:
      return std::min((lexicon(t) - zs.first) / zs.second,
                      (ConcisenessOracle::score(t) - zc.first) / zc.second);
    }
    return 0.0;
  };
  std::mt19937_64 rng(m_config.seed + 17);
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const auto &a = texts[2 * i], &b = texts[2 * i + 1];
    if (a == b || a.empty() || b.empty())
      continue; // identical completions carry no preference
    const int votesA = simulateRaterVotes(judged(a), judged(b), int(s.raters), s.raterTemperature, rng);
    const bool aWins = 2 * votesA > s.raters || (2 * votesA == s.raters && rng() % 2);
    const auto &chosen = aWins ? a : b, &rejected = aWins ? b : a;
    nlohmann::json row = {{"id", "p" + std::to_string(i)},
                          {"prompt", prompts[i]},
                          {"chosen", chosen},
                          {"rejected", rejected},
                          {"rater_fraction", double(aWins ? votesA : s.raters - votesA) / double(s.raters)},
                          {"rater_count", s.raters},
                          {"oracle_chosen", SentimentOracle::reward(chosen)},
                          {"oracle_rejected", SentimentOracle::reward(rejected)},
                          {"conciseness_chosen", ConcisenessOracle::reward(chosen)},
                          {"conciseness_rejected", ConcisenessOracle::reward(rejected)}};
    // A byte-level model can emit invalid UTF-8: the file keeps U+FFFD in its place, and training
    // reads the file, so what is trained on is what a user sees.
    lines.push_back(row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  const auto nEval = std::size_t(std::ceil(double(lines.size()) * s.evalFraction));
  std::string train, eval;
  for (std::size_t i = 0; i < lines.size(); ++i)
    (i + nEval < lines.size() ? train : eval) += lines[i] + "\n";
  writeFileAtomic(evalPairsPath(), eval);
  writeFileAtomic(trainPairsPath(), train);
  if (m_callbacks.onMessage)
    m_callbacks.onMessage("labelled " + std::to_string(lines.size()) + " pairs (" + std::to_string(nEval) +
                          " held out) in " + m_dir);
}

CausalLm SentimentTask::reference() {
  if (!m_reference) {
    m_reference = loadModelFolder(sftModelDir());
    m_reference->to(m_device);
  }
  return m_reference;
}

nlohmann::json SentimentTask::policyMetrics(const CausalLm &policy, const std::string &samplesPath) {
  const auto &s = m_config.sentiment;
  auto ref = reference();
  policy->to(m_device);
  // Fixed prompts and seeds: policy and reference answer the same (prompt, seed) pairs.
  // Validation: the pairs' openers drawn anew (seed + 3) with their own sampling seeds.
  const bool validation = s.evalSplit == "validation";
  const auto prompts = validation ? SentimentCorpus::prompts(s.evalPrompts, m_config.seed + 3,
                                                             SentimentCorpus::PromptSet::Pairs)
                                  : SentimentCorpus::prompts(s.evalPrompts, m_config.seed + 2,
                                                             SentimentCorpus::PromptSet::Evaluation);
  std::vector<TokenIds> ids;
  std::vector<std::uint64_t> seeds;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    ids.push_back(m_tokenizer.encode(prompts[i]));
    seeds.push_back(validation ? SentimentCorpus::validationSampleSeed(i)
                               : SentimentCorpus::evalSampleSeed(i));
  }
  SamplingOptions opts;
  opts.temperature = s.sampleTemperature;
  opts.maxNewTokens = std::min(s.maxNewTokens, m_config.maxLength - m_config.maxPromptLength);
  report("evaluating", 0.0); // samples of the policy, then of the reference (once), then the scores
  const auto pol = generate(policy, ids, seeds, opts, m_tokenizer.eosId(),
                            [&](double f) { report("evaluating", 0.4 * f); });
  if (m_refSamples.empty()) // the reference and its prompts never change within a run
    m_refSamples = generate(ref, ids, seeds, opts, m_tokenizer.eosId(),
                            [&](double f) { report("evaluating", 0.4 + 0.4 * f); });
  const auto &refSamples = m_refSamples;
  report("evaluating", 0.8);
  // KL(π‖π_ref) per prompt: Σ_t log π − log π_ref over the policy's own sample (EOS included
  // when the sample ended by itself), both scored at the sampling temperature: the sample comes
  // from the tempered policy, so that is the distribution whose KL it estimates without bias.
  std::vector<TokenIds> responses;
  std::vector<const TokenIds *> pp, rr;
  for (const auto &sample : pol) {
    responses.push_back(sample);
    if (std::int64_t(sample.size()) < opts.maxNewTokens)
      responses.back().push_back(m_tokenizer.eosId());
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    pp.push_back(&ids[i]);
    rr.push_back(&responses[i]);
  }
  ScoringOptions tempered{m_config.maxLength, m_config.maxPromptLength, m_config.perDeviceEvalBatchSize};
  tempered.temperature = opts.temperature > 0 ? opts.temperature : 1.0; // greedy: scored as is
  const auto lpPolicy = scoreResponses(policy, pp, rr, tempered);
  const auto lpRef = scoreResponses(ref, pp, rr, tempered);
  double rewardPolicy = 0, rewardRef = 0, kl = 0, conciseRef = 0, concisePolicy = 0;
  std::vector<double> outcomes, conciseOutcomes;
  // The h-win rates against the reference with the raters as the fixed judge: h of the share of
  // raters expected to prefer the policy's answer, σ((score − score_ref) / rater_temperature),
  // on the sentiment lexicon (a tie is ½ by construction).
  const std::vector<WinRateTransform> transforms{WinRateTransform::Identity, WinRateTransform::Log,
                                                 WinRateTransform::Logit};
  std::vector<std::vector<double>> hOutcomes(transforms.size());
  std::string sampleLines;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const auto a = m_tokenizer.decode(pol[i]), b = m_tokenizer.decode(refSamples[i]);
    const double ra = SentimentOracle::reward(a), rb = SentimentOracle::reward(b);
    const double w = ra > rb ? 1.0 : ra == rb ? 0.5 : 0.0;
    rewardPolicy += ra;
    rewardRef += rb;
    outcomes.push_back(w);
    const double judged = judgeProbability(double(SentimentOracle::score(a)) / s.raterTemperature,
                                           double(SentimentOracle::score(b)) / s.raterTemperature);
    for (std::size_t h = 0; h < transforms.size(); ++h)
      hOutcomes[h].push_back(applyWinRateTransform(transforms[h], judged));
    const double ca = ConcisenessOracle::reward(a), cb = ConcisenessOracle::reward(b);
    concisePolicy += ca;
    conciseRef += cb;
    conciseOutcomes.push_back(ca > cb ? 1.0 : ca == cb ? 0.5 : 0.0);
    kl += lpPolicy.sums[i] - lpRef.sums[i];
    sampleLines += nlohmann::json{{"prompt", prompts[i]}, {"seed", seeds[i]},    {"policy", a},
                                  {"reference", b},       {"reward_policy", ra}, {"reward_reference", rb}}
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                   "\n";
  }
  const double n = double(prompts.size());
  const auto win = winRateWithInterval(outcomes), winConcise = winRateWithInterval(conciseOutcomes);
  if (!samplesPath.empty())
    writeFileAtomic(samplesPath, sampleLines);
  report("evaluating", 1.0);
  nlohmann::json out = {{"eval/reward", rewardPolicy / n},
                        {"eval/reward_ref", rewardRef / n},
                        {"eval/kl", kl / n},
                        {"eval/win_rate", win.rate},
                        {"eval/win_rate_ci95", {win.low, win.high}},
                        {"eval/tie_rate", win.ties},
                        {"eval/reward_conciseness", concisePolicy / n},
                        {"eval/reward_conciseness_ref", conciseRef / n},
                        {"eval/win_rate_conciseness", winConcise.rate},
                        {"eval/win_rate_conciseness_ci95", {winConcise.low, winConcise.high}},
                        {"eval/win_rate_min", std::min(win.rate, winConcise.rate)},
                        {"eval/prompts", prompts.size()}};
  const char *hNames[] = {"identity", "log", "logit"};
  for (std::size_t h = 0; h < transforms.size(); ++h) {
    const auto m = meanWithInterval(hOutcomes[h]);
    const std::string key = std::string("eval/h_win_rate_") + hNames[h];
    out[key] = m.mean;
    out[key + "_ci95"] = {m.low, m.high};
  }
  return out;
}

std::map<std::string, double> SentimentTask::policyMetricValues(const CausalLm &policy) {
  std::map<std::string, double> out;
  const auto metrics = policyMetrics(policy); // items() refers to it: it must outlive the loop
  for (const auto &[key, value] : metrics.items())
    if (value.is_number())
      out[key] = value.get<double>();
  return out;
}

nlohmann::json SentimentTask::evaluateRewardModel(const CausalLm &model, RunFolder &folder) {
  // A reward model is no policy: it is judged by how it orders the held-out labelled pairs.
  const auto evalData = readTextPreferences(evalPairsPath());
  const auto tokens = tokenizeData(evalData, m_tokenizer, false);
  std::vector<const TokenIds *> ps, rs;
  for (const auto &p : tokens.pairs) {
    ps.insert(ps.end(), {&p.prompt, &p.prompt});
    rs.insert(rs.end(), {&p.chosen, &p.rejected});
  }
  model->to(m_device);
  const auto scores = rewardScores(
      model, ps, rs, {m_config.maxLength, m_config.maxPromptLength, m_config.perDeviceEvalBatchSize});
  std::vector<double> outcomes;
  double margin = 0.0;
  for (std::size_t i = 0; i < tokens.pairs.size(); ++i) {
    const double gap = scores[2 * i] - scores[2 * i + 1];
    outcomes.push_back(gap > 0 ? 1.0 : gap == 0 ? 0.5 : 0.0);
    margin += gap / double(tokens.pairs.size());
  }
  const auto acc = winRateWithInterval(outcomes);
  const nlohmann::json summary = {{"eval/reward_model_accuracy", acc.rate},
                                  {"eval/reward_model_accuracy_ci95", {acc.low, acc.high}},
                                  {"eval/reward_model_margin", margin},
                                  {"eval/pairs", tokens.pairs.size()}};
  writeFileAtomic(folder.path("eval/summary.json"), summary.dump(2) + "\n");
  return summary;
}

nlohmann::json SentimentTask::evaluate(const CausalLm &policy, RunFolder &folder) {
  if (objectiveInfo(m_config.lossType).kind == ObjectiveKind::Reward && policy->hasScoreHead())
    return evaluateRewardModel(policy, folder);
  const auto sampled = policyMetrics(policy, folder.path("samples/eval_samples.jsonl"));
  auto reference = this->reference();
  ScoringOptions so{m_config.maxLength, m_config.maxPromptLength, m_config.perDeviceEvalBatchSize};
  // Ranking metrics on the held-out labelled pairs.
  const auto evalData = readTextPreferences(evalPairsPath());
  const auto tokens = tokenizeData(evalData, m_tokenizer, false);
  const auto scores = scorePairs(policy, &reference, tokens, so);
  const auto &objective = objectiveInfo(m_config.lossType);
  const auto params = m_config.lossParams();
  writeFileAtomic(folder.path("eval/pairs.jsonl"),
                  pairAnalysisLines(scores, pairTexts(evalData), objective, params));
  auto summary = toJson(summarizeRanking(scores));
  // The paper's idealised accuracy is DPO's optimum, a median over a fixed β grid (the same for
  // every run on these pairs); what one run should be compared with is its own objective's
  // optimum at its own parameters, where the objective has a closed-form one.
  double ideal = 0, observed = 0, counted = 0;
  for (const auto &p : scores) {
    if (isTie(p))
      continue;
    if (const auto correct = optimumCorrect(p, objective, params)) {
      ideal += *correct;
      observed += rankedCorrectly(p, objective.marginOnTokenMeans);
      ++counted;
    }
  }
  if (counted > 0) {
    summary["ranking/idealized_at_beta"] = ideal / counted;
    summary["ranking/alignment_gap_at_beta"] = (ideal - observed) / counted;
    if (objective.marginOnTokenMeans)
      summary["ranking/idealized_at_beta_on"] = "token means (compare ranking/accuracy_len_norm)";
  } else {
    summary["ranking/idealized_at_beta_why"] =
        "'" + objective.name + "' has no closed-form optimum to rank pairs by";
  }
  // The reference's own ranking accuracy, from the reference log-probs scored above (ties left out).
  double refCorrect = 0, ranked = 0;
  for (const auto &p : scores)
    if (!isTie(p)) {
      refCorrect += *p.refChosen >= *p.refRejected;
      ++ranked;
    }
  summary["ranking/accuracy_ref"] = refCorrect / std::max(1.0, ranked);
  for (const auto &[key, value] : sampled.items())
    summary[key] = value;
  writeFileAtomic(folder.path("eval/summary.json"), summary.dump(2) + "\n");
  return summary;
}

} // namespace preflab::core
