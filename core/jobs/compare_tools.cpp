// Generations of two models for fixed prompts and seeds, scored, with per-token log π_θ − log π_ref.
#include "core/jobs/compare_tools.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/jsonl.h"
#include "core/io/utf8.h"
#include "core/runtime/compute_threads.h"
#include "core/runtime/device.h"
#include "core/tasks/sentiment_oracle.h"
#include "core/text/causal_lm.h"
#include "core/text/model_store.h"
#include "core/text/sampler.h"
#include "core/text/sequence_batch.h"
#include "core/text/tokenizer.h"
#include "core/train/pair_scoring.h"
#include "core/train/tokenized_data.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

std::string folderKey(const std::string &dir) {
  std::error_code ec;
  const auto canonical = fs::weakly_canonical(dir, ec);
  return ec ? dir : canonical.string();
}

// The models of one request, each folder loaded once, on the request's device, in eval mode.
struct ModelSet {
  CausalLm a, b{nullptr}, reference{nullptr}, scorer{nullptr};
  std::shared_ptr<Tokenizer> tokenizer, scorerTokenizer;
  torch::Device device{torch::kCPU};
  SamplingOptions sampling; // the request's, stopping also at model A's generation_config.json EOS ids
};

ModelSet loadModels(const CompareRequest &r, bool needScorerModel) {
  ModelSet set;
  setComputeThreads(0);
  set.device = resolveDevice(r.device);
  std::map<std::string, std::pair<CausalLm, std::shared_ptr<Tokenizer>>> loaded;
  auto load = [&](const std::string &dir) {
    const auto key = folderKey(dir);
    auto it = loaded.find(key);
    if (it == loaded.end()) {
      std::shared_ptr<Tokenizer> tokenizer;
      CausalLm model = loadModelOrCheckpoint(dir, &tokenizer);
      if (!tokenizer)
        tokenizer = std::make_shared<ByteTokenizer>();
      model->to(set.device);
      model->eval();
      it = loaded.emplace(key, std::make_pair(model, tokenizer)).first;
    }
    return it->second;
  };
  auto a = load(r.modelA);
  set.a = a.first;
  set.sampling = r.sampling;
  for (auto id : generationStopIds(r.modelA))
    set.sampling.stopIds.push_back(id);
  set.tokenizer = a.second;
  auto sameTokenizer = [&](const std::pair<CausalLm, std::shared_ptr<Tokenizer>> &m, const std::string &dir) {
    if (m.second->describe() != set.tokenizer->describe())
      throw InputError(dir, 0, "tokenizer", "uses a different tokenizer than model A (" + r.modelA + ")");
    return m.first;
  };
  set.b = sameTokenizer(load(r.modelB), r.modelB);
  const auto refDir = r.referenceDir.empty() ? r.modelA : r.referenceDir;
  set.reference = sameTokenizer(load(refDir), refDir);
  if (needScorerModel) {
    auto s = load(r.scorer);
    if (!s.first->hasScoreHead())
      throw InputError(r.scorer, 0, "scorer", "this model has no score head (not a reward model)");
    set.scorer = s.first;
    set.scorerTokenizer = s.second;
  }
  return set;
}

bool scorerIsModel(const std::string &scorer) {
  return scorer != "sentiment" && scorer != "none";
}

void validateRequest(const CompareRequest &r) {
  if (r.prompts.size() != r.seeds.size())
    throw InputError({}, 0, "seeds",
                     std::to_string(r.prompts.size()) + " prompts but " + std::to_string(r.seeds.size()) +
                         " seeds");
  if (!r.seedsB.empty() && r.seedsB.size() != r.prompts.size())
    throw InputError({}, 0, "seeds_b",
                     std::to_string(r.prompts.size()) + " prompts but " + std::to_string(r.seedsB.size()) +
                         " seeds for B");
  for (std::size_t i = 0; i < r.prompts.size(); ++i)
    if (r.prompts[i].empty())
      throw InputError({}, 0, "prompt", "prompt " + std::to_string(i + 1) + " is empty");
  if (scorerIsModel(r.scorer) && !fs::is_directory(r.scorer))
    throw InputError(r.scorer, 0, "scorer", "is neither \"sentiment\", \"none\" nor a reward-model folder");
}

// Response token ids of one side, and whether the model stopped with end-of-text.
struct Response {
  TokenIds ids;
  bool ended = false;
};

// Per-token log-probs of each row's response (EOS appended when the row ended) under `model`,
// as doubles on the host; rows whose response is empty get an empty vector.
std::vector<std::vector<double>> responseTokenLogps(const CausalLm &model,
                                                    const std::vector<TokenIds> &prompts,
                                                    const std::vector<TokenIds> &responses,
                                                    std::int64_t maxLength, const torch::Device &device) {
  std::vector<std::vector<double>> out(prompts.size());
  std::vector<TokenIds> ps, rs;
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (responses[i].empty())
      continue;
    ps.push_back(prompts[i]);
    rs.push_back(responses[i]);
    truncateToFit(ps.back(), rs.back(), maxLength, maxLength - 1);
    rows.push_back(i);
  }
  if (rows.empty())
    return out;
  const auto batch = buildSequenceBatch(ps, rs, maxLength, maxLength - 1, 0, device);
  const auto lp = tokenLogps(model, batch).to(torch::kCPU, torch::kFloat64).contiguous(); // (N, T-1)
  auto acc = lp.accessor<double, 2>();
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto start = batch.promptLengths[k] - 1; // label of response token j sits at start + j
    for (std::size_t j = 0; j < rs[k].size(); ++j)
      out[rows[k]].push_back(acc[std::int64_t(k)][start + std::int64_t(j)]);
  }
  return out;
}

// Reward-model scores of prompt ⊕ response at the last token.
std::vector<double> rewardModelScores(ModelSet &set, const std::vector<std::string> &prompts,
                                      const std::vector<std::string> &texts) {
  const auto &tok = *set.scorerTokenizer;
  const auto maxLength = set.scorer->blockSize();
  auto ps = encodeSamplingPrompts(tok, prompts, set.sampling.chatTemplate);
  std::vector<TokenIds> rs;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (ps[i].empty())
      ps[i].push_back(tok.eosId()); // as encodePrompt does
    rs.push_back(tok.encode(texts[i]));
    if (rs.back().empty())
      rs.back().push_back(tok.eosId());
  }
  std::vector<const TokenIds *> pp, rp;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    pp.push_back(&ps[i]);
    rp.push_back(&rs[i]);
  }
  ScoringOptions so{maxLength, maxLength / 2, std::int64_t(ps.size())};
  return rewardScores(set.scorer, pp, rp, so);
}

// Scores, token pieces and sums of one side for a chunk of prompts.
std::vector<ComparedText> compareSide(ModelSet &set, const CausalLm &model, const std::string &scorer,
                                      const std::vector<std::string> &prompts,
                                      const std::vector<TokenIds> &promptIds,
                                      const std::vector<Response> &responses) {
  const auto &tok = *set.tokenizer;
  std::vector<TokenIds> scored;
  std::vector<std::string> texts;
  for (const auto &r : responses) {
    scored.push_back(r.ids);
    if (r.ended)
      scored.back().push_back(tok.eosId());
    texts.push_back(tok.decode(r.ids));
  }
  const auto maxLength = std::min(model->blockSize(), set.reference->blockSize());
  const auto lpModel = responseTokenLogps(model, promptIds, scored, maxLength, set.device);
  const auto lpRef = responseTokenLogps(set.reference, promptIds, scored, maxLength, set.device);
  std::vector<double> rm;
  if (scorerIsModel(scorer))
    rm = rewardModelScores(set, prompts, texts);
  std::vector<ComparedText> out(responses.size());
  for (std::size_t i = 0; i < responses.size(); ++i) {
    auto &c = out[i];
    c.text = texts[i];
    if (scorer == "sentiment")
      c.score = SentimentOracle::reward(texts[i]);
    else if (!rm.empty())
      c.score = rm[i];
    std::vector<TokenDelta> pieces;
    const auto pieceTexts = tokenPieces(tok, scored[i]);
    for (std::size_t j = 0; j < lpModel[i].size(); ++j) {
      TokenDelta d;
      d.isEnd = scored[i][j] == tok.eosId();
      d.text = d.isEnd ? std::string() : pieceTexts[j];
      d.logpModel = lpModel[i][j];
      d.logpReference = lpRef[i][j];
      c.logpModel += d.logpModel;
      c.logpReference += d.logpReference;
      pieces.push_back(std::move(d));
    }
    c.tokens = mergeUtf8Pieces(pieces);
  }
  return out;
}

std::vector<TokenIds> encodePrompts(const Tokenizer &tok, const std::vector<std::string> &prompts,
                                    std::int64_t blockSize, bool chatTemplate) {
  const auto ids = encodeSamplingPrompts(tok, prompts, chatTemplate);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (ids[i].empty() || std::int64_t(ids[i].size()) >= blockSize)
      throw InputError({}, 0, "prompt",
                       "prompt " + std::to_string(i + 1) + " has " + std::to_string(ids[i].size()) +
                           " tokens; the models take 1 to " + std::to_string(blockSize - 1));
  }
  return ids;
}

// Runs `side(begin, end)` over chunks of prompts, reporting progress and honouring cancel.
template <typename Fn>
std::vector<ComparedPrompt> forEachChunk(const CompareRequest &r, const CompareProgressFn &progress,
                                         const std::atomic<bool> *cancel, const std::string &stage,
                                         Fn chunk) {
  std::vector<ComparedPrompt> out;
  const auto n = r.prompts.size();
  const auto step = std::size_t(std::max<std::int64_t>(1, r.batchSize));
  for (std::size_t begin = 0; begin < n; begin += step) {
    if (cancel && cancel->load())
      break;
    const auto end = std::min(n, begin + step);
    chunk(begin, end, out);
    if (progress)
      progress(stage, double(end) / double(n));
  }
  return out;
}

template <typename T> std::vector<T> slice(const std::vector<T> &v, std::size_t begin, std::size_t end) {
  return std::vector<T>(v.begin() + std::ptrdiff_t(begin), v.begin() + std::ptrdiff_t(end));
}

void appendChunk(const CompareRequest &r, std::size_t begin, const std::vector<ComparedText> &a,
                 const std::vector<ComparedText> &b, std::vector<ComparedPrompt> &out) {
  for (std::size_t i = 0; i < a.size(); ++i)
    out.push_back({r.prompts[begin + i], r.seeds[begin + i], a[i], b[i]});
}

// 1: whole characters; 0: ends inside a character; -1: holds bytes that are never valid here.
int utf8State(const std::string &s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto end = utf8CharEnd(s, i);
    if (end == std::string::npos)
      return 0;
    if (end == i)
      return -1;
    i = end;
  }
  return 1;
}

} // namespace

std::vector<TokenDelta> mergeUtf8Pieces(const std::vector<TokenDelta> &pieces) {
  std::vector<TokenDelta> out;
  std::optional<TokenDelta> pending;
  auto flush = [&] {
    if (pending) {
      pending->text = sanitizedUtf8(pending->text);
      out.push_back(*pending);
      pending.reset();
    }
  };
  for (const auto &p : pieces) {
    if (p.isEnd) {
      flush();
      out.push_back(p);
      continue;
    }
    if (!pending) {
      pending = p;
    } else {
      pending->text += p.text;
      pending->logpModel += p.logpModel;
      pending->logpReference += p.logpReference;
      pending->tokenCount += p.tokenCount;
    }
    if (utf8State(pending->text) != 0)
      flush();
  }
  flush();
  return out;
}

std::vector<ComparedPrompt> compareGenerations(const CompareRequest &r, const CompareProgressFn &progress,
                                               const std::atomic<bool> *cancel) {
  validateRequest(r);
  if (progress)
    progress("loading models", 0.0);
  auto set = loadModels(r, scorerIsModel(r.scorer));
  const auto &tok = *set.tokenizer;
  const auto blockSize = std::min(set.a->blockSize(), set.b->blockSize());
  const auto ids = encodePrompts(tok, r.prompts, blockSize, r.sampling.chatTemplate);
  torch::NoGradGuard noGrad;
  auto sample = [&](const CausalLm &model, const std::vector<TokenIds> &promptIds,
                    const std::vector<std::uint64_t> &seeds) {
    std::vector<Response> out;
    const auto generated = generate(model, promptIds, seeds, set.sampling, tok.eosId());
    for (std::size_t i = 0; i < generated.size(); ++i) {
      const auto room = model->blockSize() - std::int64_t(promptIds[i].size());
      const auto steps = std::min(r.sampling.maxNewTokens, room);
      out.push_back({generated[i], std::int64_t(generated[i].size()) < steps});
    }
    return out;
  };
  return forEachChunk(r, progress, cancel, "generating", [&](std::size_t begin, std::size_t end, auto &out) {
    const auto promptIds = slice(ids, begin, end);
    const auto seeds = slice(r.seeds, begin, end);
    const auto prompts = slice(r.prompts, begin, end);
    const auto a = compareSide(set, set.a, r.scorer, prompts, promptIds, sample(set.a, promptIds, seeds));
    const auto seedsB = r.seedsB.empty() ? seeds : slice(r.seedsB, begin, end);
    const auto b = compareSide(set, set.b, r.scorer, prompts, promptIds, sample(set.b, promptIds, seedsB));
    appendChunk(r, begin, a, b, out);
  });
}

std::vector<ComparedPrompt> scoreExistingTexts(const CompareRequest &r,
                                               const std::vector<std::string> &textsA,
                                               const std::vector<std::string> &textsB,
                                               const CompareProgressFn &progress,
                                               const std::atomic<bool> *cancel) {
  validateRequest(r);
  if (textsA.size() != r.prompts.size() || textsB.size() != r.prompts.size())
    throw InputError({}, 0, "texts",
                     std::to_string(r.prompts.size()) + " prompts but " + std::to_string(textsA.size()) +
                         " and " + std::to_string(textsB.size()) + " texts");
  if (progress)
    progress("loading models", 0.0);
  auto set = loadModels(r, scorerIsModel(r.scorer));
  const auto &tok = *set.tokenizer;
  const auto ids = encodePrompts(tok, r.prompts, std::min(set.a->blockSize(), set.b->blockSize()),
                                 r.sampling.chatTemplate);
  torch::NoGradGuard noGrad;
  auto responses = [&](const std::vector<std::string> &texts, std::size_t begin, std::size_t end) {
    std::vector<Response> out;
    for (std::size_t i = begin; i < end; ++i)
      out.push_back({tok.encode(texts[i]), false}); // whether the model stopped is not recorded
    return out;
  };
  return forEachChunk(r, progress, cancel, "scoring", [&](std::size_t begin, std::size_t end, auto &out) {
    const auto promptIds = slice(ids, begin, end);
    const auto prompts = slice(r.prompts, begin, end);
    const auto a = compareSide(set, set.a, r.scorer, prompts, promptIds, responses(textsA, begin, end));
    const auto b = compareSide(set, set.b, r.scorer, prompts, promptIds, responses(textsB, begin, end));
    appendChunk(r, begin, a, b, out);
  });
}

std::vector<EvalSample> readEvalSamples(const std::string &path) {
  std::vector<EvalSample> out;
  forEachJsonlObject(path, [&](const nlohmann::json &j, std::int64_t lineNo) {
    if (!j.contains("prompt") || !j["prompt"].is_string())
      throw InputError(path, lineNo, "prompt", "missing or not a string");
    if (!j.contains("seed") || !j["seed"].is_number_integer())
      throw InputError(path, lineNo, "seed", "missing or not an integer");
    EvalSample s;
    s.prompt = j["prompt"].get<std::string>();
    s.seed = j["seed"].get<std::uint64_t>();
    s.policy = j.value("policy", std::string());
    s.reference = j.value("reference", std::string());
    if (j.contains("reward_policy") && j["reward_policy"].is_number())
      s.rewardPolicy = j["reward_policy"].get<double>();
    if (j.contains("reward_reference") && j["reward_reference"].is_number())
      s.rewardReference = j["reward_reference"].get<double>();
    out.push_back(std::move(s));
  });
  return out;
}

std::vector<std::string> sentimentPrompts(std::int64_t count, std::uint64_t seed) {
  return SentimentCorpus::prompts(count, seed, SentimentCorpus::PromptSet::Evaluation);
}

} // namespace preflab::core
