// Tests MPO's batch stochastic mirror descent: one step against the spec's double-precision
// vector, the time average, and convergence to the minimiser of F found by a grid search.
#include "core/metrics/mixing_weights.h"

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <cmath>
#include <random>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

// F(λ) of a fixed batch, computed directly: mean over prompts of log (1/m) Σ_j exp(Σ_k λ_k ℓ_kj).
double objectiveOf(const std::vector<double> &lambda, const std::vector<LogRatios> &batch) {
  double f = 0.0;
  for (const auto &ell : batch) {
    double sum = 0.0;
    for (std::size_t j = 0; j < ell[0].size(); ++j) {
      double s = 0.0;
      for (std::size_t k = 0; k < lambda.size(); ++k)
        s += lambda[k] * ell[k][j];
      sum += std::exp(s);
    }
    f += std::log(sum / double(ell[0].size())) / double(batch.size());
  }
  return f;
}

} // namespace

class TestMixingWeights : public QObject {
  Q_OBJECT

private Q_SLOTS:
  // algorithms.md §10: ℓ = [[2,0],[0,1]], λ = (½,½), η = 1.
  void oneStepMatchesTheSpecVector() {
    const auto step = mirrorDescentStep({0.5, 0.5}, {{{2.0, 0.0}, {0.0, 1.0}}}, 1.0);
    const double tol = 5e-8;
    QVERIFY(std::abs(step.weights[0] - 0.6224593) < tol && std::abs(step.weights[1] - 0.3775407) < tol);
    QVERIFY(std::abs(step.gradient[0] - 1.2449187) < tol && std::abs(step.gradient[1] - 0.3775407) < tol);
    QVERIFY(std::abs(step.objective - 0.7809298) < tol);
    QVERIFY2(std::abs(step.lambda[0] - 0.2958002) < tol && std::abs(step.lambda[1] - 0.7041998) < tol,
             qPrintable(QString::number(step.lambda[0], 'g', 10)));
  }

  // Sequence log-ratios are sums over tokens: hundreds of nats must not overflow.
  void largeLogRatiosStayFinite() {
    const auto step = mirrorDescentStep({0.5, 0.5}, {{{800.0, -700.0}, {-900.0, 650.0}}}, 0.1);
    for (double v : step.lambda) // a gradient gap of ~1,600 nats puts λ on a vertex, not past it
      QVERIFY(std::isfinite(v) && v >= 0 && v <= 1);
    QVERIFY(std::isfinite(step.objective));
    QVERIFY(std::abs(step.lambda[0] + step.lambda[1] - 1.0) < 1e-12);
  }

  void averagedIsTheMeanOfTheIterates() {
    const std::vector<LogRatios> batch = {{{1.0, -0.5, 0.2}, {0.0, 0.8, -0.3}}};
    const auto run = mixingWeights(2, 5, 1.0, [&](std::size_t) { return batch; });
    QCOMPARE(run.lambdas.size(), std::size_t(5));
    QCOMPARE(run.objectives.size(), std::size_t(5));
    for (std::size_t k = 0; k < 2; ++k) {
      double mean = 0.0;
      for (const auto &l : run.lambdas)
        mean += l[k] / 5.0;
      QVERIFY(std::abs(run.averaged[k] - mean) < 1e-15);
    }
    // The first iteration starts from λ uniform with η = c/√T.
    const auto first = mirrorDescentStep({0.5, 0.5}, batch, 1.0 / std::sqrt(5.0));
    QVERIFY(std::abs(run.lambdas[0][0] - first.lambda[0]) < 1e-15);
  }

  // On a fixed batch BSMD minimises the convex F: its time average lands at the grid minimiser.
  void convergesToTheMinimiserOfF() {
    std::mt19937_64 rng(3);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<LogRatios> batch(6, LogRatios(2, std::vector<double>(8)));
    for (auto &ell : batch)
      for (std::size_t j = 0; j < 8; ++j) { // two policies that each win on other samples
        ell[0][j] = 1.5 * normal(rng) + 0.3;
        ell[1][j] = -0.6 * ell[0][j] + normal(rng);
      }
    double best = 1e300, bestLambda = 0;
    for (int i = 0; i <= 100000; ++i) {
      const double l = i / 100000.0, f = objectiveOf({l, 1 - l}, batch);
      if (f < best) {
        best = f;
        bestLambda = l;
      }
    }
    QVERIFY2(bestLambda > 0.05 && bestLambda < 0.95, "the test needs an interior minimiser");
    const auto run = mixingWeights(2, 4000, 2.0, [&](std::size_t) { return batch; });
    QVERIFY2(std::abs(run.averaged[0] - bestLambda) < 0.02,
             qPrintable(QStringLiteral("%1 vs %2").arg(run.averaged[0]).arg(bestLambda)));
    QVERIFY(objectiveOf(run.averaged, batch) - best < 1e-3);
  }

  void badInputIsRefused() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, mirrorDescentStep({0.5, 0.5}, {}, 1.0));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             mirrorDescentStep({0.5, 0.5}, {{{1.0, 2.0}, {1.0}}}, 1.0));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, mirrorDescentStep({0.5, 0.5}, {{{1.0, 2.0}}}, 1.0));
  }
};

PREFLAB_TEST_MAIN(TestMixingWeights)

} // namespace preflab_tests
#include "tst_mixing_weights.moc"
