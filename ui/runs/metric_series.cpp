// MetricSeries: bounded storage with stride thinning that keeps the curve's shape.
#include "ui/runs/metric_series.h"

#include <algorithm>

namespace preflab::ui {

MetricSeries::MetricSeries(int maxPoints) : m_maxPoints(std::max(4, maxPoints)) {}

void MetricSeries::append(double step, double wallTime, double value) {
  const bool onStride = (m_received % m_stride) == 0;
  ++m_received;
  if (!onStride)
    return;
  if (size() >= m_maxPoints) {
    thin();
    // After doubling the stride this point may fall between kept points.
    if (((m_received - 1) % m_stride) != 0)
      return;
  }
  push(step, wallTime, value);
}

void MetricSeries::push(double step, double wallTime, double value) {
  m_steps.append(step);
  m_wallTimes.append(wallTime);
  m_values.append(value);
}

void MetricSeries::thin() {
  // Keep even indices: points that were on the old stride and are on the doubled one.
  const int n = size();
  int kept = 0;
  for (int i = 0; i < n; i += 2) {
    m_steps[kept] = m_steps[i];
    m_wallTimes[kept] = m_wallTimes[i];
    m_values[kept] = m_values[i];
    ++kept;
  }
  m_steps.resize(kept);
  m_wallTimes.resize(kept);
  m_values.resize(kept);
  m_stride *= 2;
  ++m_revision;
}

void MetricSeries::clear() {
  m_steps.clear();
  m_wallTimes.clear();
  m_values.clear();
  m_stride = 1;
  m_received = 0;
  ++m_revision;
}

void MetricSeries::setMaxPoints(int maxPoints) {
  m_maxPoints = std::max(4, maxPoints);
  while (size() > m_maxPoints)
    thin();
}

} // namespace preflab::ui
