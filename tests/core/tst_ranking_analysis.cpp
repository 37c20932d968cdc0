// Tests ranking accuracy, idealised ranking accuracy, difficulty and alignment gap against the spec vectors.
#include "core/metrics/ranking_analysis.h"

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <cmath>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {
PairScore pair(double w, double l, double rw, double rl, std::optional<double> alpha = std::nullopt,
               double lw = 1, double ll = 1) {
  PairScore p;
  p.logpChosen = w;
  p.logpRejected = l;
  p.refChosen = rw;
  p.refRejected = rl;
  p.raterFraction = alpha;
  p.lenChosen = lw;
  p.lenRejected = ll;
  return p;
}
} // namespace

class TestRankingAnalysis : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void idealizedVector_data() {
    QTest::addColumn<double>("beta");
    QTest::addColumn<bool>("correct");
    QTest::newRow("beta 0.1: 9.986 > 0") << 0.1 << true;
    QTest::newRow("beta 10: -0.890 < 0") << 10.0 << false;
  }
  void idealizedVector() {
    QFETCH(double, beta);
    QFETCH(bool, correct);
    QCOMPARE(idealizedCorrect(pair(0, 0, -20, -19, 0.75), beta, false), std::optional<bool>(correct));
  }

  void difficultyThresholdVector() {
    QVERIFY(std::abs(difficultyThreshold(1.0, 0.1) - 0.6443966601) < 1e-9);
    QCOMPARE(referenceLogRatio(pair(0, 0, -20, -19)), 1.0);
    QVERIFY(std::isfinite(difficultyThreshold(-1e4, 1.0))); // no overflow for very easy pairs
  }

  void rankingAccuracyCountsTiesAsCorrect() {
    QVERIFY(rankedCorrectly(pair(-5, -5, 0, 0), false));
    QVERIFY(!rankedCorrectly(pair(-6, -5, 0, 0), false));
    // Length-normalised: -6 over 6 tokens beats -5 over 2 tokens.
    QVERIFY(rankedCorrectly(pair(-6, -5, 0, 0, {}, 6, 2), true));
  }

  void summaryAndAlignmentGap() {
    std::vector<PairScore> pairs = {pair(-1, -2, -20, -19, 0.75), pair(-3, -2, -5, -6, 0.75)};
    const auto s = summarizeRanking(pairs);
    QCOMPARE(s.accuracy, 0.5);
    // β grid {0.01, 0.1, 1, 5, 10}: pair 1 correct for β ≤ 1 (logit(0.75)/β > 1), pair 2 always.
    QCOMPARE(*s.idealizedMin, 0.5);
    QCOMPARE(*s.idealizedMax, 1.0);
    QCOMPARE(*s.idealizedMedian, 1.0);
    QCOMPARE(*s.alignmentGap, 0.5);
    const auto json = toJson(s);
    QCOMPARE(json["ranking/alignment_gap"].get<double>(), 0.5);
  }

  void noRaterFractionMeansNoIdealized() {
    // Unanimous raters (α = 1) are not assumed: a pair without votes has no idealised answer.
    std::vector<PairScore> pairs = {pair(-1, -2, -20, -19), pair(-3, -2, -5, -6)};
    QVERIFY(!idealizedCorrect(pairs[0], 0.1, false).has_value());
    const auto s = summarizeRanking(pairs);
    QCOMPARE(s.accuracy, 0.5);
    QVERIFY(!s.idealizedMedian.has_value());
    QVERIFY(!toJson(s).contains("ranking/alignment_gap"));
    // Only the pairs with votes count towards the idealised numbers and the gap.
    pairs.push_back(pair(-1, -2, -20, -19, 0.75));
    const auto mixed = summarizeRanking(pairs);
    QCOMPARE(mixed.idealizedPairs, std::int64_t(1));
    QCOMPARE(*mixed.idealizedMedian, 1.0); // correct for β ≤ 1: 3 of the 5 grid values
    QCOMPARE(*mixed.idealizedMin, 0.0);
    QCOMPARE(*mixed.alignmentGap, 0.0); // the one pair with votes is ranked correctly
  }

  void assumedRaterFractionIsUsedAndStated() {
    std::vector<PairScore> pairs = {pair(-1, -2, -20, -19), pair(-3, -2, -5, -6)};
    RankingOptions o;
    o.assumedRaterFraction = 0.75;
    const auto s = summarizeRanking(pairs, o);
    QCOMPARE(s.idealizedPairs, std::int64_t(2));
    QCOMPARE(*s.idealizedMedian, 1.0);
    const auto json = toJson(s);
    QCOMPARE(json["assumed_rater_fraction"].get<double>(), 0.75);
    QCOMPARE(json["ranking/idealized_pairs"].get<int>(), 2);
  }

  void tiesAreLeftOutAndCounted() {
    std::vector<PairScore> pairs = {pair(-1, -2, -20, -19, 0.75), pair(-3, -2, -5, -6, 0.5),
                                    pair(-3, -2, -5, -6, 0.5)};
    const auto s = summarizeRanking(pairs);
    QCOMPARE(s.pairs, std::int64_t(3));
    QCOMPARE(s.ties, std::int64_t(2));
    QCOMPARE(s.accuracy, 1.0); // the two tied pairs, ranked "wrong", are not scored
    QCOMPARE(s.idealizedPairs, std::int64_t(1));
    QCOMPARE(toJson(s)["ranking/ties"].get<int>(), 2);
    QVERIFY(pairAnalysis(pairs[1], objectiveInfo("dpo"), defaultObjectiveParams(objectiveInfo("dpo")))["tie"]);
  }

  void eachObjectiveUsesItsOwnOptimum() {
    // ref margin −1 (c = 1); α = 0.75; lengths 4 and 2.
    const auto p = pair(0, 0, -20, -19, 0.75, 4, 2);
    auto at = [&](const char *name, std::map<std::string, double> values) {
      const auto &info = objectiveInfo(name);
      return optimumCorrect(p, info, objectiveParamsFrom(info, values.at("beta"), values));
    };
    // DPO: h* = logit(0.75)/β = 1.0986/β; correct iff h* > 1.
    QCOMPARE(at("dpo", {{"beta", 1.0}}), std::optional<bool>(true));
    QCOMPARE(at("dpo", {{"beta", 2.0}}), std::optional<bool>(false));
    // cDPO ε = 0.2: σ(βh*) = 0.8·0.75 + 0.2·0.25 = 0.65, logit 0.619: correct for β = 0.5, not 1.
    QCOMPARE(at("cdpo", {{"beta", 0.5}, {"label_smoothing", 0.2}}), std::optional<bool>(true));
    QCOMPARE(at("cdpo", {{"beta", 1.0}, {"label_smoothing", 0.2}}), std::optional<bool>(false));
    // Robust ε = 0.2: σ(βh*) = (0.75 − 0.2)/0.6 = 0.9167, logit 2.398: correct for β = 2, not 3.
    QCOMPARE(at("robust", {{"beta", 2.0}, {"label_smoothing", 0.2}}), std::optional<bool>(true));
    QCOMPARE(at("robust", {{"beta", 3.0}, {"label_smoothing", 0.2}}), std::optional<bool>(false));
    // IPO on token means: ref −20/4 − (−19/2) = 4.5 already > 0, so any τ ranks it correctly.
    QCOMPARE(at("ipo", {{"beta", 0.1}}), std::optional<bool>(true));
    // R-DPO α_len = 0.5: h* = (1.0986 − 0.5·2)/β = 0.0986/β: correct only for β < 0.0986.
    QCOMPARE(at("rdpo", {{"beta", 0.05}, {"rdpo_alpha", 0.5}}), std::optional<bool>(true));
    QCOMPARE(at("rdpo", {{"beta", 0.2}, {"rdpo_alpha", 0.5}}), std::optional<bool>(false));
    // No closed form: hinge, KTO, reference-free.
    for (const char *name : {"hinge", "simpo", "orpo", "kto"})
      QVERIFY2(!at(name, {{"beta", 0.1}}).has_value(), name);
  }

  void difficultyIsTheObjectivesLossAtTheLevelMargin() {
    const auto p = pair(0, 0, -20, -19, 0.75, 4, 2); // c = 1
    auto difficulty = [&](const char *name, std::map<std::string, double> values) {
      const auto &info = objectiveInfo(name);
      return pairDifficulty(p, info, objectiveParamsFrom(info, values.at("beta"), values));
    };
    QVERIFY(std::abs(*difficulty("dpo", {{"beta", 0.1}}) - difficultyThreshold(1.0, 0.1)) < 1e-12);
    QVERIFY(std::abs(*difficulty("hinge", {{"beta", 0.5}}) - 0.5) < 1e-12);
    // R-DPO: softplus(−(0.1·1 + 0.5·2)) = softplus(−1.1).
    QVERIFY(std::abs(*difficulty("rdpo", {{"beta", 0.1}, {"rdpo_alpha", 0.5}}) - std::log1p(std::exp(-1.1))) < 1e-12);
    // cDPO's loss has its minimum at a finite margin, IPO's too: no threshold.
    QVERIFY(!difficulty("cdpo", {{"beta", 0.1}, {"label_smoothing", 0.1}}).has_value());
    QVERIFY(!difficulty("ipo", {{"beta", 0.1}}).has_value());
  }

  void noReferenceMeansNoIdealized() {
    PairScore p;
    p.logpChosen = -1;
    p.logpRejected = -2;
    const auto s = summarizeRanking({p});
    QVERIFY(!s.idealizedMedian.has_value());
    QVERIFY(!toJson(s).contains("ranking/alignment_gap"));
  }
};

PREFLAB_TEST_MAIN(TestRankingAnalysis)

} // namespace preflab_tests
#include "tst_ranking_analysis.moc"
