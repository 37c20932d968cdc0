// EmaSmoother: TensorBoard-style debiased exponential moving average of a metric series.
#pragma once

#include <QVector>

namespace preflab::ui {

// s_t = w·s_{t-1} + (1-w)·y_t with s_0 = 0, reported as s_t / (1 - w^n) where n counts the
// finite values seen so far, so the first smoothed value equals the first raw value instead of
// being pulled toward zero. A non-finite y passes through unchanged and does not update the
// state. weight is clamped to [0, 0.999]; 0 returns the raw values. Incremental: next() takes
// one value at a time so live curves extend without recomputing the whole series.
class EmaSmoother {
public:
  explicit EmaSmoother(double weight = 0.0);

  double weight() const { return m_weight; }
  double next(double value);
  void reset();

  static QVector<double> smooth(const QVector<double> &values, double weight);

private:
  double m_weight;
  double m_biased = 0.0;
  double m_weightPower = 1.0; // w^n
};

} // namespace preflab::ui
