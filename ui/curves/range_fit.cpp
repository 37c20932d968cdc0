// fitRange: percentile or min/max axis ranges with padding.
#include "ui/curves/range_fit.h"

#include <algorithm>
#include <cmath>

namespace preflab::ui {

namespace {
constexpr int kMaxPercentileSample = 200000;

double quantile(std::vector<double> &v, double q) {
  const auto k = static_cast<std::size_t>(std::llround(q * static_cast<double>(v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}
} // namespace

QCPRange fitRange(const QVector<double> &values, bool ignoreOutliers, bool logScale) {
  const int stride = ignoreOutliers ? std::max(1, int(values.size() / kMaxPercentileSample)) : 1;
  std::vector<double> kept;
  kept.reserve(values.size() / stride + 1);
  for (int i = 0; i < values.size(); i += stride) {
    const double v = values[i];
    if (std::isfinite(v) && (!logScale || v > 0))
      kept.push_back(v);
  }
  if (kept.empty())
    return QCPRange(1, 0);
  double lo, hi;
  if (ignoreOutliers && kept.size() >= 20) {
    lo = quantile(kept, 0.01);
    hi = quantile(kept, 0.99);
  } else {
    const auto [mn, mx] = std::minmax_element(kept.begin(), kept.end());
    lo = *mn;
    hi = *mx;
  }
  if (logScale) {
    const double factor = hi > lo ? std::pow(hi / lo, 0.05) : 2.0;
    return QCPRange(lo / factor, hi * factor);
  }
  const double pad = hi > lo ? 0.05 * (hi - lo) : std::max(std::abs(hi) * 0.05, 1e-9);
  return QCPRange(lo - pad, hi + pad);
}

} // namespace preflab::ui
