// Ranking-accuracy analysis in log space (no probabilities are exponentiated).
#include "core/metrics/ranking_analysis.h"

#include <algorithm>
#include <cmath>

namespace preflab::core {

namespace {
constexpr double kAlphaEps = 1e-3;

double logit(double alpha) {
  const double a = std::clamp(alpha, kAlphaEps, 1.0 - kAlphaEps);
  return std::log(a) - std::log1p(-a);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
} // namespace

const std::vector<double> &idealizedBetaGrid() {
  static const std::vector<double> kGrid = {0.01, 0.1, 1.0, 5.0, 10.0};
  return kGrid;
}

bool rankedCorrectly(const PairScore &p, bool lengthNormalised) {
  if (lengthNormalised)
    return p.logpChosen / std::max(1.0, p.lenChosen) >= p.logpRejected / std::max(1.0, p.lenRejected);
  return p.logpChosen >= p.logpRejected;
}

bool isTie(const PairScore &p) { return p.raterFraction && *p.raterFraction == 0.5; }

std::optional<double> raterFractionFor(const PairScore &p, std::optional<double> assumed) {
  return p.raterFraction ? p.raterFraction : assumed;
}

std::optional<bool> idealizedCorrect(const PairScore &p, double beta, bool lengthNormalised,
                                     std::optional<double> assumedRaterFraction) {
  const auto alpha = raterFractionFor(p, assumedRaterFraction);
  if (!alpha || !p.refChosen || !p.refRejected)
    return std::nullopt;
  double w = *p.refChosen, l = *p.refRejected;
  if (lengthNormalised) {
    w /= std::max(1.0, p.lenChosen);
    l /= std::max(1.0, p.lenRejected);
  }
  return w - l + logit(*alpha) / beta > 0;
}

std::optional<bool> optimumCorrect(const PairScore &p, const ObjectiveInfo &objective,
                                   const ObjectiveParams &params, std::optional<double> assumedRaterFraction) {
  const auto alpha = raterFractionFor(p, assumedRaterFraction);
  if (!objective.optimalMargin || !alpha || !p.refChosen || !p.refRejected)
    return std::nullopt;
  const double h = objective.optimalMargin(params, {*alpha, p.lenChosen, p.lenRejected});
  double w = *p.refChosen, l = *p.refRejected;
  if (objective.marginOnTokenMeans) {
    w /= std::max(1.0, p.lenChosen);
    l /= std::max(1.0, p.lenRejected);
  }
  return w - l + h > 0; // the optimum's policy: its reference plus the margin h*
}

double referenceLogRatio(const PairScore &p) { return p.refRejected.value_or(0) - p.refChosen.value_or(0); }

double difficultyThreshold(double c, double beta) {
  const double z = -beta * c; // softplus(z), stable for large |z|
  return z > 30 ? z : std::log1p(std::exp(z));
}

std::optional<double> pairDifficulty(const PairScore &p, const ObjectiveInfo &objective,
                                     const ObjectiveParams &params) {
  if (!objective.marginLoss || !p.refChosen || !p.refRejected)
    return std::nullopt;
  // The policy ranks the pair level (log π(y_w) = log π(y_l)) where h = c.
  return objective.marginLoss(params, referenceLogRatio(p),
                              {p.raterFraction.value_or(1.0), p.lenChosen, p.lenRejected});
}

RankingSummary summarizeRanking(const std::vector<PairScore> &pairs, const RankingOptions &options) {
  RankingSummary s;
  s.pairs = std::int64_t(pairs.size());
  s.assumedRaterFraction = options.assumedRaterFraction;
  std::vector<const PairScore *> ranked, ideal;
  for (const auto &p : pairs) {
    if (isTie(p)) {
      ++s.ties;
      continue;
    }
    ranked.push_back(&p);
    if (p.refChosen && p.refRejected && raterFractionFor(p, options.assumedRaterFraction))
      ideal.push_back(&p);
  }
  s.idealizedPairs = std::int64_t(ideal.size());
  if (ranked.empty())
    return s;
  for (const auto *p : ranked) {
    s.accuracy += rankedCorrectly(*p, false);
    s.accuracyLenNorm += rankedCorrectly(*p, true);
  }
  s.accuracy /= double(ranked.size());
  s.accuracyLenNorm /= double(ranked.size());
  if (ideal.empty())
    return s;
  std::vector<double> plain, norm;
  for (double beta : idealizedBetaGrid()) {
    double a = 0, b = 0;
    for (const auto *p : ideal) {
      a += *idealizedCorrect(*p, beta, false, options.assumedRaterFraction);
      b += *idealizedCorrect(*p, beta, true, options.assumedRaterFraction);
    }
    plain.push_back(a / double(ideal.size()));
    norm.push_back(b / double(ideal.size()));
  }
  double observed = 0;
  for (const auto *p : ideal)
    observed += rankedCorrectly(*p, false);
  observed /= double(ideal.size());
  s.idealizedMin = *std::min_element(plain.begin(), plain.end());
  s.idealizedMax = *std::max_element(plain.begin(), plain.end());
  s.idealizedMedian = median(plain);
  s.idealizedLenNormMin = *std::min_element(norm.begin(), norm.end());
  s.idealizedLenNormMax = *std::max_element(norm.begin(), norm.end());
  s.idealizedLenNormMedian = median(norm);
  s.alignmentGap = *s.idealizedMedian - observed;
  return s;
}

nlohmann::json toJson(const RankingSummary &s) {
  nlohmann::json j = {{"pairs", s.pairs},
                      {"ranking/ties", s.ties},
                      {"ranking/accuracy", s.accuracy},
                      {"ranking/accuracy_len_norm", s.accuracyLenNorm}};
  auto put = [&](const char *key, const std::optional<double> &v) {
    if (v)
      j[key] = *v;
  };
  put("ranking/idealized", s.idealizedMedian);
  put("ranking/idealized_min", s.idealizedMin);
  put("ranking/idealized_max", s.idealizedMax);
  put("ranking/idealized_len_norm", s.idealizedLenNormMedian);
  put("ranking/idealized_len_norm_min", s.idealizedLenNormMin);
  put("ranking/idealized_len_norm_max", s.idealizedLenNormMax);
  put("ranking/alignment_gap", s.alignmentGap);
  put("assumed_rater_fraction", s.assumedRaterFraction);
  if (s.idealizedMedian) {
    j["ranking/idealized_pairs"] = s.idealizedPairs;
    j["beta_grid"] = idealizedBetaGrid();
  }
  return j;
}

nlohmann::json pairAnalysis(const PairScore &p, const ObjectiveInfo &objective, const ObjectiveParams &params,
                            std::optional<double> assumedRaterFraction) {
  nlohmann::json j = {{"id", p.id},
                      {"logp_margin", p.logpChosen - p.logpRejected},
                      {"ranked_correctly", rankedCorrectly(p, false)},
                      {"ranked_correctly_len_norm", rankedCorrectly(p, true)}};
  if (p.raterFraction)
    j["rater_fraction"] = *p.raterFraction;
  if (isTie(p))
    j["tie"] = true;
  if (p.refChosen && p.refRejected) {
    const double c = referenceLogRatio(p);
    j["c"] = c;
    if (const auto d = pairDifficulty(p, objective, params))
      j["difficulty"] = *d;
    j["ref_ranked_correctly"] = c <= 0;
    if (params.values.count("beta"))
      j["implicit_reward_margin"] =
          params.beta() * ((p.logpChosen - *p.refChosen) - (p.logpRejected - *p.refRejected));
    if (raterFractionFor(p, assumedRaterFraction)) {
      nlohmann::json ideal = nlohmann::json::object();
      for (double b : idealizedBetaGrid())
        ideal[nlohmann::json(b).dump()] = *idealizedCorrect(p, b, false, assumedRaterFraction);
      j["idealized_correct"] = ideal;
    }
    if (const auto o = optimumCorrect(p, objective, params, assumedRaterFraction))
      j["optimum_correct"] = *o;
  }
  return j;
}

std::string pairAnalysisLines(const std::vector<PairScore> &scores, const std::vector<PairTexts> &texts,
                              const ObjectiveInfo &objective, const ObjectiveParams &params) {
  std::string lines;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    auto line = pairAnalysis(scores[i], objective, params);
    if (i < texts.size() && texts[i].id == scores[i].id) {
      line["prompt"] = texts[i].prompt;
      line["chosen"] = texts[i].chosen;
      line["rejected"] = texts[i].rejected;
    }
    lines += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  return lines;
}

} // namespace preflab::core
