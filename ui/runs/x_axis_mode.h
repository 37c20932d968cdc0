// XAxisMode: which quantity a metric series is plotted against (step, relative or wall time).
#pragma once

#include <QString>

namespace preflab::ui {

enum class XAxisMode { Step, RelativeTime, WallTime };

// Axis title shown on charts and used as the x column name of CSV exports.
inline QString xAxisTitle(XAxisMode mode) {
  switch (mode) {
  case XAxisMode::Step:
    return QStringLiteral("step");
  case XAxisMode::RelativeTime:
    return QStringLiteral("relative time (h:mm:ss)");
  case XAxisMode::WallTime:
    return QStringLiteral("wall time");
  }
  return {};
}

} // namespace preflab::ui
