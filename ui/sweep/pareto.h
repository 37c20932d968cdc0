// The Pareto frontier of a set of points, each axis maximised or minimised.
#pragma once

#include <QPointF>
#include <QVector>

namespace preflab::ui {

// Indices of the points no other point dominates (at least as good on both axes and better on
// one), by ascending x then y. Points with a NaN or infinite coordinate are on no frontier; of
// equal points each is kept.
QVector<int> paretoFrontier(const QVector<QPointF> &points, bool maximiseX, bool maximiseY);

} // namespace preflab::ui
