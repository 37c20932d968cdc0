// paretoFrontier: a sort by the first axis and one sweep over it (n log n).
#include "ui/sweep/pareto.h"

#include <algorithm>
#include <cmath>

namespace preflab::ui {

QVector<int> paretoFrontier(const QVector<QPointF> &points, bool maximiseX, bool maximiseY) {
  // In "better" coordinates both axes are maximised.
  QVector<int> order;
  for (int i = 0; i < points.size(); ++i)
    if (std::isfinite(points[i].x()) && std::isfinite(points[i].y()))
      order.push_back(i);
  const auto bx = [&](int i) { return maximiseX ? points[i].x() : -points[i].x(); };
  const auto by = [&](int i) { return maximiseY ? points[i].y() : -points[i].y(); };
  // Best x first; among equal x, best y first: a point is dominated when an earlier one (better or
  // equal x) has a better y, or the same y with a better x.
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (bx(a) != bx(b))
      return bx(a) > bx(b);
    return by(a) > by(b);
  });
  QVector<int> frontier;
  double bestY = -INFINITY, bestYsX = -INFINITY;
  for (const int i : order) {
    const double x = bx(i), y = by(i);
    const bool dominated = y < bestY || (y == bestY && x < bestYsX);
    if (dominated)
      continue;
    frontier.push_back(i);
    if (y > bestY) {
      bestY = y;
      bestYsX = x;
    }
  }
  std::sort(frontier.begin(), frontier.end(), [&](int a, int b) {
    if (points[a].x() != points[b].x())
      return points[a].x() < points[b].x();
    return points[a].y() < points[b].y();
  });
  return frontier;
}

} // namespace preflab::ui
