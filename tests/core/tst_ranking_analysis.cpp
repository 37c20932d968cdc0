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
    QCOMPARE(idealizedCorrect(pair(0, 0, -20, -19, 0.75), beta, false), correct);
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
