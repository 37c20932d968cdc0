// Axis ranges that fit data, optionally ignoring outliers (the 1st..99th percentile of the values).
#pragma once

#include <QVector>

#include <qcustomplot.h>

namespace preflab::ui {

// Range covering the finite values (only positive ones when `logScale`), padded by 5 % (a
// factor on a log axis). With `ignoreOutliers` it covers the 1st..99th percentile instead, so
// one spike does not flatten the rest of the curve; past 200,000 values the percentiles are
// estimated from an even subsample to bound the cost per redraw. Returns an invalid-looking
// range (lower > upper) when no value qualifies.
QCPRange fitRange(const QVector<double> &values, bool ignoreOutliers, bool logScale);

} // namespace preflab::ui
