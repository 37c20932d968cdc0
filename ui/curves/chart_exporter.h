// ChartExporter: writes a CurvesPlot as PNG/PDF/SVG and its shown data as CSV.
#pragma once

#include <QString>

class QCustomPlot;

namespace preflab::ui {

class CurvesPlot;
class RunSeriesStore;

// Stateless; GUI thread only (rendering uses the plot's painter paths). Every function applies
// the plot's pending updates first, returns false and sets *error (when not null) to a message
// naming the path on failure, and never throws.
class ChartExporter {
public:
  // Default export size when the plot is not laid out (hidden or tiny).
  static constexpr int kDefaultWidth = 1200;
  static constexpr int kDefaultHeight = 700;

  // Format by suffix: .png, .pdf (QCustomPlot::savePdf, vector), .svg (QSvgGenerator, vector).
  static bool exportChart(CurvesPlot *plot, const QString &path, QString *error);
  // The same for any plot (the sweep view's scatter); `title` is the PDF's and SVG's title.
  static bool exportPlot(QCustomPlot *plot, const QString &path, const QString &title, QString *error);
  // One row per shown point: run,metric,<x axis>,value,smoothed (header row first). Every point
  // of every shown curve (visible runs, selected metrics), whatever the current zoom.
  static bool exportCsv(CurvesPlot *plot, const RunSeriesStore *store, const QString &path, QString *error);
  // A CSV field: quoted (quotes doubled) when it holds a comma, quote or newline.
  static QString csvField(const QString &text);
  // A number with every digit, or "" for NaN / infinity.
  static QString csvNumber(double v);
};

} // namespace preflab::ui
