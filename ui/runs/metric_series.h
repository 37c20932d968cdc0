// MetricSeries: one metric of one run as parallel step / wall-time / value arrays, bounded in size.
#pragma once

#include <QVector>

#include <cstdint>

namespace preflab::ui {

// Holds at most maxPoints() points. When an append would exceed the cap, every second stored
// point is dropped (the first stays) and the stride doubles: from then on only every stride-th
// incoming point is kept. The stored points thus stay evenly spread over the whole run, so the
// curve keeps its shape at any length and memory stays bounded; the price is that the newest
// stored point may lag the newest appended one by less than stride() points. (A ring buffer was rejected: it
// forgets the start of a run, which is exactly what a loss curve is read for.) revision() changes whenever
// stored points move or disappear (thinning, clear); otherwise points are only ever appended, so views know
// an incremental append is not enough. Not thread-safe.
class MetricSeries {
public:
  explicit MetricSeries(int maxPoints = 1000000);

  void append(double step, double wallTime, double value);
  void clear();

  int size() const { return static_cast<int>(m_values.size()); }
  int maxPoints() const { return m_maxPoints; }
  void setMaxPoints(int maxPoints); // at least 4; thins at once when over
  int stride() const { return m_stride; }
  std::uint64_t revision() const { return m_revision; }

  const QVector<double> &steps() const { return m_steps; }
  const QVector<double> &wallTimes() const { return m_wallTimes; }
  const QVector<double> &values() const { return m_values; }

private:
  void push(double step, double wallTime, double value);
  void thin();

  QVector<double> m_steps;
  QVector<double> m_wallTimes;
  QVector<double> m_values;
  int m_maxPoints;
  int m_stride = 1;
  std::int64_t m_received = 0; // points appended since the last clear
  std::uint64_t m_revision = 0;
};

} // namespace preflab::ui
