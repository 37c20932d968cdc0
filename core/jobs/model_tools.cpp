// Pair evaluation, ranking analysis, sampling and export over saved model folders.
#include "core/jobs/model_tools.h"

#include "core/data/text_preference_reader.h"
#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/json_file.h"
#include "core/io/jsonl.h"
#include "core/metrics/ranking_analysis.h"
#include "core/runtime/compute_threads.h"
#include "core/runtime/device.h"
#include "core/text/lora.h"
#include "core/text/model_store.h"
#include "core/text/sampler.h"
#include "core/text/sequence_batch.h"
#include "core/train/pair_scoring.h"
#include "core/train/tokenized_data.h"

#include <torch/torch.h>

#include <filesystem>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

torch::Device deviceNamed(const std::string &name) {
  setComputeThreads(0);
  return resolveDevice(name);
}

} // namespace

namespace {

// A reward model's scores of prompt + chosen and prompt + rejected at their last tokens, one line
// per pair, and the reward objective's own metrics over them (ties count as wrong, as there).
nlohmann::json evaluateRewardModel(const CausalLm &model, const TokenizedData &tokens,
                                   const ScoringOptions &so, const PairEvalOptions &o,
                                   const ProgressFn &progress) {
  const auto n = tokens.pairs.size();
  std::vector<const TokenIds *> ps, rs;
  for (const auto &p : tokens.pairs) {
    ps.insert(ps.end(), {&p.prompt, &p.prompt});
    rs.insert(rs.end(), {&p.chosen, &p.rejected});
  }
  ScoringOptions scoring = so;
  if (progress)
    scoring.progress = [&](double f) { progress("scoring pairs", f); };
  const auto scores = rewardScores(model, ps, rs, scoring);
  std::vector<double> lengths; // response tokens kept, as the batches keep them
  for (std::size_t i = 0; i < ps.size(); ++i) {
    TokenIds prompt = *ps[i], response = *rs[i];
    truncateToFit(prompt, response, so.maxLength, so.maxPromptLength);
    lengths.push_back(double(response.size()));
  }
  std::string lines;
  double correct = 0, margin = 0, chosenSum = 0, rejectedSum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto &pair = tokens.pairs[i];
    const double w = scores[2 * i], l = scores[2 * i + 1];
    correct += w > l ? 1.0 : 0.0;
    margin += w - l;
    chosenSum += w;
    rejectedSum += l;
    nlohmann::json j = {{"id", pair.id},
                        {"reward_chosen", w},
                        {"reward_rejected", l},
                        {"len_chosen", lengths[2 * i]},
                        {"len_rejected", lengths[2 * i + 1]}};
    if (pair.raterFraction)
      j["rater_fraction"] = *pair.raterFraction;
    if (o.dumpTokens) {
      j["prompt_ids"] = pair.prompt;
      j["chosen_ids"] = pair.chosen;
      j["rejected_ids"] = pair.rejected;
    }
    lines += j.dump() + "\n";
  }
  if (!o.outPath.empty())
    writeFileAtomic(o.outPath, lines);
  const double pairs = std::max<double>(1.0, double(n));
  return {{"pairs", n},
          {"rewards/accuracies", correct / pairs},
          {"rewards/margins", margin / pairs},
          {"rewards/chosen", chosenSum / pairs},
          {"rewards/rejected", rejectedSum / pairs}};
}

} // namespace

nlohmann::json evaluatePairs(const PairEvalOptions &o, const ProgressFn &progress) {
  const auto device = deviceNamed(o.device);
  std::shared_ptr<Tokenizer> tokenizer;
  auto model = loadModelOrCheckpoint(o.modelDir, &tokenizer);
  model->to(device);
  std::optional<CausalLm> ref;
  if (!o.refDir.empty() && model->hasScoreHead())
    throw InputError({}, 0, "--ref",
                     o.modelDir + " is a reward model: it is scored alone, without a reference");
  if (!o.refDir.empty()) {
    ref = loadModelOrCheckpoint(o.refDir, nullptr);
    (*ref)->to(device);
  }
  std::error_code ec;
  if (!o.outPath.empty() && fs::exists(o.outPath) && fs::equivalent(o.outPath, o.dataPath, ec))
    throw InputError(o.outPath, 0, "--out", "is the dataset being scored; choose another output file");
  TextReadOptions ro;
  ro.format = parseTextFormat(o.format);
  ro.skipInvalid = o.skipInvalid;
  const auto data = readTextPreferences(o.dataPath, ro);
  if (data.isUnpaired())
    throw InputError(o.dataPath, 0, {},
                     "eval needs paired data (chosen/rejected); this file is unpaired (KTO)");
  const auto tokens = tokenizeData(data, *tokenizer, false);
  ScoringOptions so;
  if (o.maxLength > model->blockSize())
    throw InputError({}, 0, "--max-length",
                     "is " + std::to_string(o.maxLength) + "; the model takes at most " +
                         std::to_string(model->blockSize()) + " tokens (its block size)");
  so.maxLength = o.maxLength > 0 ? o.maxLength : model->blockSize();
  so.maxPromptLength = o.maxPromptLength > 0 ? o.maxPromptLength : so.maxLength / 2;
  so.batchSize = o.batchSize;
  if (progress)
    progress("scoring pairs", 0.0);
  if (model->hasScoreHead()) {
    auto summary = evaluateRewardModel(model, tokens, so, o, progress);
    summary["skipped"] = data.skipped.size();
    return summary;
  }
  const auto scores = scorePairs(model, ref ? &*ref : nullptr, tokens, so);
  std::string lines;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const auto &s = scores[i];
    nlohmann::json j = {{"id", s.id},
                        {"logp_chosen", s.logpChosen},
                        {"logp_rejected", s.logpRejected},
                        {"len_chosen", s.lenChosen},
                        {"len_rejected", s.lenRejected}};
    if (s.refChosen && s.refRejected) {
      j["ref_logp_chosen"] = *s.refChosen;
      j["ref_logp_rejected"] = *s.refRejected;
    }
    if (s.raterFraction)
      j["rater_fraction"] = *s.raterFraction;
    if (o.dumpTokens) {
      const auto &t = tokens.pairs[i];
      j["prompt_ids"] = t.prompt;
      j["chosen_ids"] = t.chosen;
      j["rejected_ids"] = t.rejected;
    }
    lines += j.dump() + "\n";
  }
  if (!o.outPath.empty())
    writeFileAtomic(o.outPath, lines);
  if (progress)
    progress("scoring pairs", 1.0);
  RankingOptions rank;
  rank.assumedRaterFraction = o.assumedRaterFraction;
  auto summary = toJson(summarizeRanking(scores, rank));
  summary["skipped"] = data.skipped.size();
  return summary;
}

nlohmann::json analyzeEvalFile(const std::string &evalPath, const AnalyzeOptions &o) {
  const auto &objective = objectiveInfo(o.lossType);
  const auto params = objectiveParamsFrom(objective, o.beta, {});
  checkObjectiveParams(objective, params);
  std::vector<PairScore> pairs;
  forEachJsonlObject(evalPath, [&](const nlohmann::json &j, std::int64_t lineNo) {
    PairScore p;
    try {
      p.id = j.contains("id") ? (j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump())
                              : std::to_string(lineNo);
      for (const char *key : {"logp_chosen", "logp_rejected", "ref_logp_chosen", "ref_logp_rejected"})
        if (!j.contains(key) || !j[key].is_number())
          throw InputError(evalPath, lineNo, key, "missing or not a number (run eval with --ref)");
      p.logpChosen = j["logp_chosen"];
      p.logpRejected = j["logp_rejected"];
      p.lenChosen = j.value("len_chosen", 1.0);
      p.lenRejected = j.value("len_rejected", 1.0);
      p.refChosen = j["ref_logp_chosen"].get<double>();
      p.refRejected = j["ref_logp_rejected"].get<double>();
      if (j.contains("rater_fraction") && j["rater_fraction"].is_number())
        p.raterFraction = j["rater_fraction"].get<double>();
    } catch (const nlohmann::json::exception &e) {
      throw InputError(evalPath, lineNo, {}, e.what());
    }
    pairs.push_back(p);
  });
  if (pairs.empty())
    throw InputError(evalPath, 0, {}, "no records");
  std::string lines;
  for (const auto &p : pairs)
    lines += pairAnalysis(p, objective, params, o.assumedRaterFraction).dump() + "\n";
  if (!o.outPairsPath.empty()) {
    std::error_code ec;
    if (fs::exists(o.outPairsPath) && fs::equivalent(o.outPairsPath, evalPath, ec))
      throw InputError(o.outPairsPath, 0, "--out",
                       "is the eval file being analysed; choose another output file");
    writeFileAtomic(o.outPairsPath, lines);
  }
  RankingOptions rank;
  rank.assumedRaterFraction = o.assumedRaterFraction;
  auto summary = toJson(summarizeRanking(pairs, rank));
  summary["loss_type"] = objective.name;
  summary["beta"] = o.beta;
  return summary;
}

std::vector<std::string> sampleFromModel(const std::string &modelDir, const std::vector<std::string> &prompts,
                                         std::uint64_t seed, const SamplingOptions &options,
                                         const std::string &device) {
  std::shared_ptr<Tokenizer> tokenizer;
  auto model = loadModelOrCheckpoint(modelDir, &tokenizer);
  model->to(deviceNamed(device));
  auto ids = encodeSamplingPrompts(*tokenizer, prompts, options.chatTemplate);
  std::vector<std::uint64_t> seeds;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (ids[i].empty())
      throw InputError({}, 0, "prompt", "prompt " + std::to_string(i + 1) + " is empty");
    if (std::int64_t(ids[i].size()) >= model->blockSize())
      throw InputError({}, 0, "prompt",
                       "prompt " + std::to_string(i + 1) + " has " + std::to_string(ids[i].size()) +
                           " tokens; the model takes " + std::to_string(model->blockSize()) +
                           " in all (its block size), so a prompt must leave room for at least one more");
    seeds.push_back(seed + i);
  }
  std::vector<std::string> out;
  auto sampling = options;
  for (auto id : generationStopIds(modelDir))
    sampling.stopIds.push_back(id);
  for (const auto &t : generate(model, ids, seeds, sampling, tokenizer->eosId()))
    out.push_back(tokenizer->decode(t));
  return out;
}

std::string exportModel(const std::string &modelDir, const std::string &outDir, bool merge) {
  std::shared_ptr<Tokenizer> tokenizer;
  auto model = loadModelOrCheckpoint(modelDir, &tokenizer);
  if (!tokenizer)
    tokenizer = std::make_shared<ByteTokenizer>();
  if (!loraSettingsOf(*model)) {
    model->exportHuggingFace(*tokenizer, outDir);
    keepGenerationConfig(modelDir, outDir);
    return "config.json and model.safetensors";
  }
  if (merge) {
    mergedCopy(model)->exportHuggingFace(*tokenizer, outDir);
    keepGenerationConfig(modelDir, outDir);
    return "config.json and model.safetensors (LoRA adapters merged)";
  }
  // An adapter stays an adapter: its base is the adapter's own, or a LoRA run's reference.
  std::string base;
  namespace fs = std::filesystem;
  if (isLoraAdapterFolder(modelDir)) {
    readLoraAdapterConfig(modelDir, &base);
  } else {
    for (auto dir = fs::absolute(modelDir); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path())
      if (fs::exists(dir / "run_info.json")) {
        base = readJsonObjectFile((dir / "run_info.json").string()).value("reference_model", "");
        break;
      }
    if (base.empty())
      throw InputError(modelDir, 0, {}, "has LoRA adapters but no known base model: export it with --merge");
  }
  saveLoraAdapter(*model, *tokenizer, base, outDir);
  return "adapter_config.json and adapter_model.safetensors (a PEFT adapter over " + base + ")";
}

} // namespace preflab::core
