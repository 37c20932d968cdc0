// XAxisMode: which quantity a metric series is plotted against (step, relative or wall time).
#pragma once

#include <QString>

namespace preflab::ui {

// GoldLabels: the run's "d2po/gold_labels" at each point's step (online runs that spend a gold
// budget); runs without that metric have no points on this axis.
enum class XAxisMode { Step, RelativeTime, WallTime, GoldLabels };

inline const QString kGoldLabelsMetric = QStringLiteral("d2po/gold_labels");

// Axis title shown on charts and used as the x column name of CSV exports.
inline QString xAxisTitle(XAxisMode mode) {
  switch (mode) {
  case XAxisMode::Step:
    return QStringLiteral("step");
  case XAxisMode::RelativeTime:
    return QStringLiteral("relative time (h:mm:ss)");
  case XAxisMode::WallTime:
    return QStringLiteral("wall time");
  case XAxisMode::GoldLabels:
    return QStringLiteral("gold labels used");
  }
  return {};
}

} // namespace preflab::ui
