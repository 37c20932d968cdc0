// EmaSmoother: debiased EMA, one value at a time.
#include "ui/curves/ema_smoother.h"

#include <algorithm>
#include <cmath>

namespace preflab::ui {

EmaSmoother::EmaSmoother(double weight) : m_weight(std::clamp(weight, 0.0, 0.999)) {}

double EmaSmoother::next(double value) {
  if (!std::isfinite(value))
    return value;
  m_biased = m_weight * m_biased + (1.0 - m_weight) * value;
  m_weightPower *= m_weight;
  return m_biased / (1.0 - m_weightPower);
}

void EmaSmoother::reset() {
  m_biased = 0.0;
  m_weightPower = 1.0;
}

QVector<double> EmaSmoother::smooth(const QVector<double> &values, double weight) {
  EmaSmoother ema(weight);
  QVector<double> out;
  out.reserve(values.size());
  for (double v : values)
    out.append(ema.next(v));
  return out;
}

} // namespace preflab::ui
