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

bool idealizedCorrect(const PairScore &p, double beta, bool lengthNormalised) {
  double w = p.refChosen.value_or(0), l = p.refRejected.value_or(0);
  if (lengthNormalised) {
    w /= std::max(1.0, p.lenChosen);
    l /= std::max(1.0, p.lenRejected);
  }
  return w - l + logit(p.raterFraction.value_or(1.0)) / beta > 0;
}

double referenceLogRatio(const PairScore &p) { return p.refRejected.value_or(0) - p.refChosen.value_or(0); }

double difficultyThreshold(double c, double beta) {
  const double z = -beta * c; // softplus(z), stable for large |z|
  return z > 30 ? z : std::log1p(std::exp(z));
}

RankingSummary summarizeRanking(const std::vector<PairScore> &pairs) {
  RankingSummary s;
  s.pairs = std::int64_t(pairs.size());
  if (pairs.empty())
    return s;
  bool withRef = true;
  for (const auto &p : pairs) {
    s.accuracy += rankedCorrectly(p, false);
    s.accuracyLenNorm += rankedCorrectly(p, true);
    withRef = withRef && p.refChosen && p.refRejected;
  }
  s.accuracy /= double(pairs.size());
  s.accuracyLenNorm /= double(pairs.size());
  if (!withRef)
    return s;
  std::vector<double> plain, norm;
  for (double beta : idealizedBetaGrid()) {
    double a = 0, b = 0;
    for (const auto &p : pairs) {
      a += idealizedCorrect(p, beta, false);
      b += idealizedCorrect(p, beta, true);
    }
    plain.push_back(a / double(pairs.size()));
    norm.push_back(b / double(pairs.size()));
  }
  s.idealizedMin = *std::min_element(plain.begin(), plain.end());
  s.idealizedMax = *std::max_element(plain.begin(), plain.end());
  s.idealizedMedian = median(plain);
  s.idealizedLenNormMin = *std::min_element(norm.begin(), norm.end());
  s.idealizedLenNormMax = *std::max_element(norm.begin(), norm.end());
  s.idealizedLenNormMedian = median(norm);
  s.alignmentGap = *s.idealizedMedian - s.accuracy;
  return s;
}

nlohmann::json toJson(const RankingSummary &s) {
  nlohmann::json j = {{"pairs", s.pairs}, {"ranking/accuracy", s.accuracy},
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
  if (s.pairs)
    j["beta_grid"] = idealizedBetaGrid();
  return j;
}

nlohmann::json pairAnalysis(const PairScore &p, double beta) {
  nlohmann::json j = {{"id", p.id},
                      {"logp_margin", p.logpChosen - p.logpRejected},
                      {"ranked_correctly", rankedCorrectly(p, false)},
                      {"ranked_correctly_len_norm", rankedCorrectly(p, true)}};
  if (p.raterFraction)
    j["rater_fraction"] = *p.raterFraction;
  if (p.refChosen && p.refRejected) {
    const double c = referenceLogRatio(p);
    j["c"] = c;
    j["difficulty"] = difficultyThreshold(c, beta);
    j["ref_ranked_correctly"] = c <= 0;
    j["implicit_reward_margin"] = beta * ((p.logpChosen - *p.refChosen) - (p.logpRejected - *p.refRejected));
    nlohmann::json ideal = nlohmann::json::object();
    for (double b : idealizedBetaGrid())
      ideal[nlohmann::json(b).dump()] = idealizedCorrect(p, b, false);
    j["idealized_correct"] = ideal;
  }
  return j;
}

} // namespace preflab::core
